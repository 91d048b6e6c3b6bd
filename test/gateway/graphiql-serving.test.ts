/**
 * GraphiQL costs little to serve: a small page naming hashed assets, each compressed once and
 * cacheable forever; twenty browsers opening it at once leave /health fast. And it is on by default
 * only where the embedded emulator runs.
 */
import { createHash } from 'node:crypto';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'silent' } });
});
afterAll(() => stack.close());

async function page() {
  const response = await request(stack.gateway.graphqlUrl, { headers: { accept: 'text/html' } });
  return { status: response.statusCode, headers: response.headers, html: await response.body.text() };
}

const assetPaths = (html: string) =>
  [...html.matchAll(/(?:src|href)="(\/graphql\/assets\/[^"]+)"|"(\/graphql\/assets\/[^"]+)"/g)].map(
    (m) => m[1] ?? m[2]!,
  );

describe('GraphiQL page and assets', () => {
  it('the page is a few KB and names its assets by content hash', async () => {
    const { status, html } = await page();
    expect(status).toBe(200);
    expect(html).toContain('<title>kibo-auth-gateway</title>');
    expect(Buffer.byteLength(html)).toBeLessThan(20_000);
    const paths = new Set(assetPaths(html));
    expect(paths.size).toBe(6);
    for (const path of paths) {
      const response = await request(`${stack.gateway.url}${path}`);
      const body = Buffer.from(await response.body.arrayBuffer());
      expect(response.statusCode, path).toBe(200);
      const hash = /-([0-9a-f]{16})\.\w+$/.exec(path)![1];
      expect(createHash('sha256').update(body).digest('hex').slice(0, 16), path).toBe(hash);
    }
  });

  it('each asset is served brotli- or gzip-compressed as accepted, immutable and cacheable for a year', async () => {
    const [script] = assetPaths((await page()).html).filter((path) => /\/graphiql-[0-9a-f]+\.js$/.test(path));
    const fetchAs = async (encoding: string) => {
      const response = await request(`${stack.gateway.url}${script}`, { headers: { 'accept-encoding': encoding } });
      return { headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()) };
    };
    const plain = await fetchAs('identity');
    const br = await fetchAs('gzip, deflate, br');
    const gz = await fetchAs('gzip');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(br.headers['content-encoding']).toBe('br');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect(br.body.length).toBeLessThan(plain.body.length / 3);
    for (const { headers } of [plain, br, gz]) {
      expect(headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(headers['vary']).toBe('accept-encoding');
    }
    const missing = await request(`${stack.gateway.url}/graphql/assets/graphiql-0000000000000000.js`);
    await missing.body.dump();
    expect(missing.statusCode).toBe(404);
  });

  it('twenty browsers opening GraphiQL at once leave /health fast', async () => {
    const paths = assetPaths((await page()).html);
    let bytes = 0;
    const openGraphiQL = async () => {
      await page();
      for (const path of new Set(paths)) {
        const response = await request(`${stack.gateway.url}${path}`, { headers: { 'accept-encoding': 'gzip, br' } });
        bytes += (await response.body.arrayBuffer()).byteLength;
      }
    };
    const healthTimes: number[] = [];
    let loading = true;
    const polling = (async () => {
      while (loading) {
        const started = performance.now();
        await (await request(`${stack.gateway.url}/health`)).body.dump();
        healthTimes.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await Promise.all(Array.from({ length: 20 }, openGraphiQL));
    loading = false;
    await polling;
    expect(bytes / 20).toBeLessThan(3 * 1024 * 1024);
    const sorted = healthTimes.sort((a, b) => a - b);
    // A shared, loaded machine: the median probe, and no probe held for long.
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(250);
    expect(sorted.at(-1)).toBeLessThan(1_000);
  });
});

describe('GRAPHIQL default', () => {
  it('is on with the embedded emulator, off against a real Kibo unless asked', () => {
    expect(loadConfig({}).browser.graphiql).toBe(true);
    expect(loadConfig({ KIBO_BASE_URL: 'https://t1.example.com' }).browser.graphiql).toBe(false);
    expect(loadConfig({ KIBO_BASE_URL: 'https://t1.example.com', GRAPHIQL: 'true' }).browser.graphiql).toBe(true);
  });
});
