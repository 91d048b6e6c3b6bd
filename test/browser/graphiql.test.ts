/**
 * The newcomer's path, in a real browser: `npm start` with no configuration, GraphiQL opened at
 * /graphql, the example mutation run as it opens — and a ticket for tenant 100002 on screen.
 * Uses Debian's Chromium (`.ci/run` installs it); without it, outside CI, the test is skipped and says so.
 */
import type { ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { chromiumAbsent, CHROMIUM_SKIP_NOTE, launchChromium } from '../support/chromium.js';
import { afterAll, describe, expect, it } from 'vitest';
import { startMain } from '../support/main-process.js';

const children: ChildProcess[] = [];
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  for (const child of children) child.kill('SIGKILL');
});

describe.skipIf(chromiumAbsent)(`GraphiQL in Chromium ${CHROMIUM_SKIP_NOTE}`, () => {
  it('runs the example mutation and shows a ticket for tenant 100002', { timeout: 60_000 }, async () => {
    const { url } = await startMain({}, children);
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`${url}/graphql`);
    const run = page.locator('.graphiql-execute-button');
    await run.waitFor({ timeout: 30_000 });
    // The editor opens on the example, with the demo credentials in the Headers tab.
    // Monaco renders spaces as no-break spaces; read the page as a person would.
    const pageShows = (needle: string) =>
      page.waitForFunction((text) => document.body.innerText.replace(/\u00a0/g, ' ').includes(text), needle, {
        timeout: 30_000,
      });
    await pageShows('switchTenant(tenantId: 100002)');
    await run.click();
    await pageShows('Fabrikam Outfitters');
    const text = await page.evaluate(() => document.body.innerText.replace(/\u00a0/g, ' '));
    expect(text).toContain('"id": 100002');
    expect(text).toContain('"name": "Fabrikam Outfitters"');
    expect(text).toMatch(/"accessTokenExpiresIn": \d+/);
    expect(text).not.toContain('"errors"');
    await page.screenshot({ path: '/tmp/graphiql.png' });
  });
});
