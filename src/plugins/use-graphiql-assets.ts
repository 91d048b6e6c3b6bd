/**
 * GraphiQL, cheap to serve. Yoga's renderer inlines all of GraphiQL (~9 MB of script, styles,
 * Monaco's workers and a favicon) into every page, uncompressed and uncacheable: 20 browsers opening
 * it slowed `/health` to a second. Here the page is a few KB of HTML that names its assets by
 * content hash (`/graphql/assets/<name>-<hash>.<ext>`); each asset is compressed once (brotli and
 * gzip, on the thread pool, on the first visit) and served `immutable`, so a browser fetches it once
 * per release and a proxy or CDN may keep it. The assets load on the first visit only: an API-only
 * deployment never holds them.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'graphql-yoga';
import { GRAPHQL_PATH } from '../paths.js';

export const GRAPHIQL_ASSETS_PATH = `${GRAPHQL_PATH}/assets/`;

const compressBrotli = promisify(brotliCompress);
const compressGzip = promisify(gzip);

interface Asset {
  contentType: string;
  identity: Buffer;
  /** Started when the assets load, so the page (which needs only the hashes) never waits for it. */
  compressed: Promise<{ br: Buffer; gzip: Buffer }>;
}

/** What the renderer inlines, as its own module exports it. */
interface GraphiQLSources {
  js: string;
  css: string;
  favicon: string;
  editorWorkerService: string;
  jsonWorker: string;
  graphqlWorker: string;
}

export interface GraphiQLAssets {
  /** The page for these options: small HTML naming the hashed assets. */
  page(options: Record<string, unknown>, title: string): string;
  /** The asset at this URL path, or undefined. */
  asset(path: string): Asset | undefined;
}

let loading: Promise<GraphiQLAssets> | undefined;

/** Loads, hashes and compresses GraphiQL's assets once per process. */
export function graphiqlAssets(): Promise<GraphiQLAssets> {
  return (loading ??= load());
}

async function load(): Promise<GraphiQLAssets> {
  // The package exports only its renderer; the assets module sits beside it.
  const entry = createRequire(import.meta.url).resolve('@graphql-yoga/render-graphiql');
  const sources = (await import(pathToFileURL(join(dirname(entry), 'graphiql.js')).href)) as GraphiQLSources;
  const favicon = /^data:([^;]+);base64,(.*)$/s.exec(sources.favicon);
  const named = [
    prepare('graphiql', 'js', 'text/javascript; charset=utf-8', Buffer.from(sources.js)),
    prepare('graphiql', 'css', 'text/css; charset=utf-8', Buffer.from(sources.css)),
    prepare('editor-worker', 'js', 'text/javascript; charset=utf-8', Buffer.from(sources.editorWorkerService)),
    prepare('json-worker', 'js', 'text/javascript; charset=utf-8', Buffer.from(sources.jsonWorker)),
    prepare('graphql-worker', 'js', 'text/javascript; charset=utf-8', Buffer.from(sources.graphqlWorker)),
    prepare('favicon', 'ico', favicon?.[1] ?? 'image/x-icon', Buffer.from(favicon?.[2] ?? '', 'base64')),
  ];
  const byPath = new Map(named.map(([path, asset]) => [path, asset]));
  const [script, styles, editorWorker, jsonWorker, graphqlWorker, icon] = named.map(([path]) => path);
  const workers = { editorWorkerService: editorWorker, json: jsonWorker, graphql: graphqlWorker };
  return {
    asset: (path) => byPath.get(path),
    page: (options, title) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(title)}</title>
    <link rel="icon" href="${icon}" />
    <link rel="stylesheet" href="${styles}" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run this app.</noscript>
    <div id="root"></div>
    <script>
      const workers = ${scriptJson(workers)};
      self['MonacoEnvironment'] = { globalAPI: false, getWorkerUrl: (moduleId, label) => workers[label] };
    </script>
    <script src="${script}"></script>
    <script>
      YogaGraphiQL.renderYogaGraphiQL(window.document.querySelector('#root'), ${scriptJson(options)});
    </script>
  </body>
</html>
`,
  };
}

function prepare(name: string, extension: string, contentType: string, identity: Buffer): [string, Asset] {
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  const compressed = Promise.all([
    // Quality 5: most of brotli's gain at a fraction of its top setting's time (done once anyway).
    compressBrotli(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }),
    compressGzip(identity, { level: 9 }),
  ]).then(([br, gzip]) => ({ br, gzip }));
  return [`${GRAPHIQL_ASSETS_PATH}${name}-${hash}.${extension}`, { contentType, identity, compressed }];
}

/** JSON inside a <script>: `<` escaped, so no value can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Serves the hashed assets: compressed as the client accepts, cacheable for a year, immutable. */
export function useGraphiQLAssets(): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (!url.pathname.startsWith(GRAPHIQL_ASSETS_PATH)) return;
      const asset = (await graphiqlAssets()).asset(url.pathname);
      if (!asset || (request.method !== 'GET' && request.method !== 'HEAD')) {
        return endResponse(new fetchAPI.Response(null, { status: 404 }));
      }
      const accepted = request.headers.get('accept-encoding') ?? '';
      const wantsBr = /\bbr\b/.test(accepted);
      const wantsGzip = /\bgzip\b/.test(accepted);
      const compressed = wantsBr || wantsGzip ? await asset.compressed : undefined;
      const [encoding, body] = wantsBr
        ? (['br', compressed!.br] as const)
        : wantsGzip
          ? (['gzip', compressed!.gzip] as const)
          : ([undefined, asset.identity] as const);
      endResponse(
        new fetchAPI.Response(request.method === 'HEAD' ? null : (body as Uint8Array<ArrayBuffer>), {
          status: 200,
          headers: {
            'content-type': asset.contentType,
            'content-length': String(body.length),
            'cache-control': 'public, max-age=31536000, immutable',
            vary: 'accept-encoding',
            ...(encoding && { 'content-encoding': encoding }),
          },
        }),
      );
    },
  };
}
