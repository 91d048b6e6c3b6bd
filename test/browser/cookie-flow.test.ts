/**
 * The cookie flow where the rules are enforced: in Debian's Chromium, a frontend page served from a
 * second loopback origin calls the gateway cross-origin in cookie mode. Every rule checked here is
 * also shown failing when the matching setting is wrong: the origin left out of CORS_ORIGINS, cookie
 * mode off, TRUSTED_DOCUMENTS not `only`. (The CSRF check and the cookie's attributes have no
 * setting; removing them turns the form-POST and first tests red.)
 *
 * Origins: the gateways listen on http://127.0.0.1:<port>; the frontend page is served from
 * http://127.0.0.1:<other port> (same site, other origin: SameSite=Strict cookies flow, CORS
 * applies) and from http://localhost:<port> (another site). Chromium treats 127.0.0.1 as a secure
 * context, so it stores the gateway's `Secure` cookie over plain http (checked below, not assumed).
 * The page lives under /graphql/ so that a cookie of the gateway's path would be visible to its
 * script were it not HttpOnly — cookies are not isolated by port.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumAbsent, CHROMIUM_SKIP_NOTE, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/emulator/demo-data.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { DEFAULT_MANIFEST_URL } from '../../src/trusted-documents/manifest.js';
import { startStack, type Stack } from '../support/stack.js';

const COOKIE = 'kibo_rt';
const PAGE_PATH = '/graphql/admin.html';
const CONTROL_COOKIE = 'frontend_visible=1';

const manifest = JSON.parse(readFileSync(DEFAULT_MANIFEST_URL, 'utf8')) as Record<string, string>;
const ADMIN_SWITCH_TENANT_ID = Object.keys(manifest).find((id) => manifest[id]!.includes('AdminSwitchTenant'))!;
const PAGE = readFileSync(new URL('admin-page.html', import.meta.url), 'utf8').replace(
  '__ADMIN_SWITCH_TENANT_ID__',
  ADMIN_SWITCH_TENANT_ID,
);

interface CallOptions {
  bearer: string;
  refreshToken?: string;
  credentials?: 'include' | 'omit';
}
interface CallResult {
  refused?: string;
  status?: number;
  body?: { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

/** The frontend's static files, on a port of its own; it also sets a script-readable control cookie. */
async function servePage(): Promise<Server> {
  const server = createServer((request, response) => {
    if (!request.url?.startsWith(PAGE_PATH)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'set-cookie': `${CONTROL_COOKIE}; Secure; SameSite=Strict; Path=/graphql`,
    });
    response.end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

describe.skipIf(chromiumAbsent)(`the cookie flow in Chromium ${CHROMIUM_SKIP_NOTE}`, () => {
  let browser: Browser;
  let emulator: RunningEmulator;
  const servers: Server[] = [];
  const stacks: Stack[] = [];
  /** Same site as the gateways, listed in CORS_ORIGINS. */
  let frontend: string;
  /** Same site, left out of CORS_ORIGINS. */
  let unlisted: string;
  /** Another site (localhost is not 127.0.0.1), listed in CORS_ORIGINS. */
  let otherSite: string;
  /** Cookie mode, TRUSTED_DOCUMENTS=allow. */
  let gateway: Stack;
  /** Cookie mode, TRUSTED_DOCUMENTS=only. */
  let trustedOnly: Stack;
  /** Cookie mode off. */
  let noCookieMode: Stack;

  beforeAll(async () => {
    emulator = await startEmulator();
    const [a, b, c] = [await servePage(), await servePage(), await servePage()];
    servers.push(a, b, c);
    frontend = `http://127.0.0.1:${portOf(a)}`;
    unlisted = `http://127.0.0.1:${portOf(b)}`;
    otherSite = `http://localhost:${portOf(c)}`;
    const env = { LOG_LEVEL: 'silent', CORS_ORIGINS: `${frontend},${otherSite}` };
    const start = async (extra: Record<string, string>) => {
      const stack = await startStack({ sharedEmulator: emulator, env: { ...env, ...extra } });
      stacks.push(stack);
      return stack;
    };
    gateway = await start({ REFRESH_TOKEN_COOKIE: COOKIE, TRUSTED_DOCUMENTS: 'allow' });
    trustedOnly = await start({ REFRESH_TOKEN_COOKIE: COOKIE, TRUSTED_DOCUMENTS: 'only' });
    noCookieMode = await start({ TRUSTED_DOCUMENTS: 'allow' });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const stack of stacks) await stack.close();
    for (const server of servers) server.close();
    await emulator?.close();
  });

  /** A fresh browser profile (its own cookie jar) with the page open on `origin`, talking to `target`. */
  async function openPage(origin: string, target: Stack, context?: BrowserContext): Promise<Page> {
    const page = await (context ?? (await browser.newContext())).newPage();
    await page.goto(`${origin}${PAGE_PATH}?gateway=${encodeURIComponent(target.gateway.graphqlUrl)}`);
    return page;
  }
  const switchTenant = (page: Page, tenantId: number, options: CallOptions): Promise<CallResult> =>
    page.evaluate(([id, opts]) => (window as any).adminSwitchTenant(id, opts), [tenantId, options] as const);
  const adHoc = (page: Page, query: string, options: CallOptions): Promise<CallResult> =>
    page.evaluate(([q, opts]) => (window as any).adHoc(q, opts), [query, options] as const);
  const refreshCookieOf = async (context: BrowserContext, target: Stack) =>
    (await context.cookies(target.gateway.graphqlUrl)).find((cookie) => cookie.name === COOKIE);
  const kiboCalls = () => emulator.received.filter((r) => r.method === 'PUT').length;
  const codeOf = (result: CallResult) => result.body?.errors?.[0]?.extensions?.code;
  const FIRST = { bearer: DEMO.appToken, refreshToken: DEMO.refreshToken };

  it(
    'switches with the refresh token in an HttpOnly cookie script never sees, then again from the cookie alone',
    { timeout: 60_000 },
    async () => {
      const page = await openPage(frontend, gateway);
      const first = await switchTenant(page, 100002, FIRST);
      expect(first.refused).toBeUndefined();
      expect(first.body?.errors).toBeUndefined();
      expect(first.body?.data.switchTenant.tenant).toEqual({ id: 100002, name: 'Fabrikam Outfitters' });
      expect(first.body?.data.switchTenant.refreshToken).toBeNull();

      // Chromium stored it (Secure over http://127.0.0.1 included), with every attribute we rely on.
      expect(await refreshCookieOf(page.context(), gateway)).toMatchObject({
        value: DEMO.refreshToken,
        httpOnly: true,
        secure: true,
        sameSite: 'Strict',
        path: '/graphql',
      });
      // Script on the page reads cookies of this path (the control cookie shows it could) — but not this one.
      const visible = await page.evaluate(() => document.cookie);
      expect(visible).toContain(CONTROL_COOKIE);
      expect(visible).not.toContain(COOKIE);
      expect(visible).not.toContain(DEMO.refreshToken);

      const bearer = first.body!.data.switchTenant.jwtAccessToken as string;
      const second = await switchTenant(page, 100003, { bearer });
      expect(second.body?.errors).toBeUndefined();
      expect(second.body?.data.switchTenant.tenant.id).toBe(100003);
      expect(second.body?.data.switchTenant.refreshToken).toBeNull();

      // The cookie is what carried it: the same call without credentials is refused.
      const withoutCookie = await switchTenant(page, 100003, { bearer, credentials: 'omit' });
      expect(codeOf(withoutCookie)).toBe('UNAUTHENTICATED');
      await page.context().close();
    },
  );

  it('with cookie mode off, the refresh token is in the answer and no cookie carries a second switch', async () => {
    const page = await openPage(frontend, noCookieMode);
    const first = await switchTenant(page, 100002, FIRST);
    expect(first.body?.data.switchTenant.refreshToken).toBe(DEMO.refreshToken);
    expect(await refreshCookieOf(page.context(), noCookieMode)).toBeUndefined();
    const second = await switchTenant(page, 100003, { bearer: first.body!.data.switchTenant.jwtAccessToken });
    expect(codeOf(second)).toBe('UNAUTHENTICATED');
    await page.context().close();
  });

  it('refuses, in the browser, a page whose origin is not in CORS_ORIGINS: nothing reaches Kibo', async () => {
    const page = await openPage(unlisted, gateway);
    emulator.received.length = 0;
    const result = await switchTenant(page, 100002, FIRST);
    expect(result.refused).toMatch(/TypeError: Failed to fetch/);
    expect(kiboCalls()).toBe(0);
    // The very same page on a listed origin gets its answer (first test): the list is what decides.
    const listed = await openPage(frontend, gateway);
    expect((await switchTenant(listed, 100002, FIRST)).body?.data.switchTenant.tenant.id).toBe(100002);
    await Promise.all([page.context().close(), listed.context().close()]);
  });

  // A sandboxed iframe's origin is opaque and sent as `Origin: null`; had the gateway answered an
  // unlisted origin `Access-Control-Allow-Origin: null` (Yoga's own CORS does, with two origins
  // listed), the browser would hand this frame the answer — minted tokens included.
  it('refuses, in the browser, a sandboxed frame (origin null) inside any page: nothing reaches Kibo', async () => {
    const page = await openPage(unlisted, gateway);
    emulator.received.length = 0;
    const result = await page.evaluate(
      ([url, id, bearer, refreshToken]) =>
        new Promise<CallResult>((resolve) => {
          window.addEventListener('message', (event) => resolve(event.data as CallResult), { once: true });
          const frame = document.createElement('iframe');
          frame.sandbox.add('allow-scripts');
          const init = {
            method: 'POST',
            credentials: 'include',
            headers: {
              'content-type': 'application/json',
              'x-graphql-yoga-csrf': '1',
              authorization: `Bearer ${bearer}`,
              'x-kibo-refresh-token': refreshToken,
            },
            body: JSON.stringify({ documentId: id, variables: { tenantId: 100002 } }),
          };
          frame.srcdoc = `<script>
              fetch(${JSON.stringify(url)}, ${JSON.stringify(init)})
                .then(async (r) => parent.postMessage({ status: r.status, body: await r.json() }, '*'))
                .catch((e) => parent.postMessage({ refused: String(e) }, '*'));
            </script>`;
          document.body.append(frame);
        }),
      [gateway.gateway.graphqlUrl, ADMIN_SWITCH_TENANT_ID, FIRST.bearer, FIRST.refreshToken] as const,
    );
    expect(result.body).toBeUndefined();
    expect(result.refused).toMatch(/TypeError: Failed to fetch/);
    expect(kiboCalls()).toBe(0);
    await page.context().close();
  });

  // Two rules keep it out here: the cookie's SameSite=Strict (pinned by the first test's jar check)
  // and Chromium's own blocking of third-party cookies, which by itself refuses it even with
  // SameSite=None (tried: this test stays green then). What it proves is the deployment rule: a
  // frontend must be same-site with the gateway for cookie mode to work at all.
  it('gives a frontend on another site no cookie, even where CORS lets it read answers', async () => {
    const page = await openPage(otherSite, gateway);
    const first = await switchTenant(page, 100002, FIRST);
    // CORS lets the page read the answer...
    expect(first.body?.data.switchTenant.tenant.id).toBe(100002);
    // ...but the browser neither stores the cookie from, nor sends it to, another site.
    expect(await refreshCookieOf(page.context(), gateway)).toBeUndefined();
    const second = await switchTenant(page, 100003, { bearer: first.body!.data.switchTenant.jwtAccessToken });
    expect(codeOf(second)).toBe('UNAUTHENTICATED');
    await page.context().close();
  });

  it('runs nothing for a cross-site form POST, even with the refresh-token cookie in the jar', async () => {
    const context = await browser.newContext();
    const victim = await openPage(frontend, gateway, context);
    expect((await switchTenant(victim, 100002, FIRST)).body?.data.switchTenant.tenant.id).toBe(100002);
    expect(await refreshCookieOf(context, gateway)).toBeDefined();

    emulator.received.length = 0;
    const attacker = await openPage(otherSite, gateway, context);
    await Promise.all([
      attacker.waitForURL(gateway.gateway.graphqlUrl),
      attacker.evaluate(() => (window as any).submitCrossSiteForm()),
    ]);
    const answer = JSON.parse(await attacker.evaluate(() => document.body.innerText)) as CallResult['body'];
    // Refused at the door (Yoga's CSRF check: no preflighted header), before any parsing.
    expect(answer?.errors?.[0]).toMatchObject({
      message: expect.stringContaining('CSRF'),
      extensions: { code: 'BAD_REQUEST' },
    });
    expect(kiboCalls()).toBe(0);
    await context.close();
  });

  it("with TRUSTED_DOCUMENTS=only runs the page's persisted operation and refuses its ad-hoc one", async () => {
    const adHocQuery = 'mutation { switchTenant(tenantId: 100004) { accessToken tenant { id } } }';
    const page = await openPage(frontend, trustedOnly);
    const persisted = await switchTenant(page, 100002, FIRST);
    expect(persisted.body?.errors).toBeUndefined();
    expect(persisted.body?.data.switchTenant.tenant.id).toBe(100002);

    emulator.received.length = 0;
    const bearer = persisted.body!.data.switchTenant.jwtAccessToken as string;
    const refused = await adHoc(page, adHocQuery, { bearer });
    expect(refused.status).toBe(200);
    expect(codeOf(refused)).toBe('PERSISTED_QUERY_ONLY');
    expect(kiboCalls()).toBe(0);

    // The same ad-hoc call from the same page runs where TRUSTED_DOCUMENTS is not `only`.
    const elsewhere = await openPage(frontend, gateway);
    const ran = await adHoc(elsewhere, adHocQuery, FIRST);
    expect(ran.body?.data.switchTenant.tenant.id).toBe(100004);
    await Promise.all([page.context().close(), elsewhere.context().close()]);
  });
});
