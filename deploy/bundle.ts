/**
 * The last step of `npm run build`: bundles the compiled server (`dist/src/main.js`, as tsc wrote it)
 * into one ES module at the same path, so `npm run serve` and the image start in well under a second.
 * Unbundled, Node's ES module loader resolves, reads and links some 650 files at start (graphql-yoga's
 * and graphql-tools' ESM builds are hundreds of small modules): about 60 % of the start-up CPU.
 * The bundle holds our modules and their dependencies as the same code (nothing is minified), so it
 * behaves as the separate files do; the rest of `dist/src/` stays as tsc wrote it (the emulator and
 * the benchmark's servers run from there). esbuild's `keepNames` is off on purpose: it wraps every
 * function created at run time in a `__name()` call that defines its `name` property, and Yoga and
 * envelop create several closures per request — a third of the CPU of a `{ __typename }` request
 * went there (`npm run bench -- --profile`). Without it a top-level name that collides with
 * another module's gets a numeric suffix (`Counter2`); nothing here reads function names.
 *
 * Left out, and loaded from node_modules as before:
 *   pino                           its transports (pino-pretty) run in worker threads it finds by path
 *   ioredis                        imported only when ENTITY_CACHE_REDIS_URL is set
 *   @graphql-yoga/render-graphiql  imported only when GraphiQL is served; mostly the page's assets
 *   @opentelemetry/*, @graphql-hive/plugin-opentelemetry
 *                                  imported only when tracing is on; bundled, their CommonJS exporters
 *                                  lose their named exports to the interop of a dynamic import
 * The embedded emulator (imported only without KIBO_BASE_URL) becomes a chunk loaded on demand.
 * Chunks sit beside main.js: `src/schema-folder.ts` finds `dist/schema` one level up from there.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

// This file sits in deploy/: the repository is one level up.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist/src');
const CHUNK_PREFIX = 'bundle-chunk-';

// Chunks of an earlier build have other hashes: remove them so dist/ holds one build.
for (const name of readdirSync(OUT)) if (name.startsWith(CHUNK_PREFIX)) rmSync(join(OUT, name));

/**
 * graphql-js ships the same code twice, as CommonJS (`main`) and as ES modules (`module`). esbuild on
 * the node platform prefers `main`, so every `import { isObjectType } from 'graphql'` in Yoga, envelop
 * and graphql-tools became a property read through a getter of a CommonJS namespace object, ~3 %
 * of an ad-hoc request's CPU. This sends every import and require of graphql, deep paths included
 * (graphql-jit requires `graphql/execution/execute.js`), to the `.mjs` twin of the file Node would
 * load: one graphql in the bundle, as ES modules.
 */
const requireFromRoot = createRequire(join(ROOT, 'package.json'));
const graphqlAsModules: Plugin = {
  name: 'graphql-as-es-modules',
  setup(bundler) {
    bundler.onResolve({ filter: /^graphql(\/.*)?$/ }, ({ path }) => {
      const twin = requireFromRoot.resolve(path).replace(/\.js$/, '.mjs');
      return existsSync(twin) ? { path: twin } : undefined;
    });
  },
};

await build({
  entryPoints: { main: join(OUT, 'main.js') },
  outdir: OUT,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  chunkNames: `${CHUNK_PREFIX}[hash]`,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  plugins: [graphqlAsModules],
  external: [
    'pino',
    'ioredis',
    '@graphql-yoga/render-graphiql',
    '@opentelemetry/*',
    '@graphql-hive/plugin-opentelemetry',
  ],
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
