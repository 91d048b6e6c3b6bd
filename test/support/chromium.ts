/**
 * Debian's Chromium for the browser tests, driven by playwright-core (its own browser download does
 * not work here). Outside CI a missing browser skips the browser suites with a note; in CI (any
 * non-empty CI, as .ci/run sets it), where `.ci/run` installs it, a missing browser fails them instead.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** True where the browser suites skip: no browser, and not in CI. */
export const chromiumAbsent = !existsSync(CHROMIUM) && !process.env.CI;

/** For a suite's title: why it would be skipped. */
export const CHROMIUM_SKIP_NOTE = `(skipped outside CI when there is no browser at ${CHROMIUM}; .ci/run installs Debian's chromium)`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // No sandbox (tests run as root in CI) and nothing that reaches for the network on its own.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
