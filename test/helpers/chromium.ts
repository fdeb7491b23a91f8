// Launching Debian's Chromium with playwright-core, without vitest: shared by the browser
// tests (test/helpers/browser.ts, which finds the binary through the global setup) and by
// scripts/screenshots.ts (which runs scripts/provision-browser.sh itself).
import { chromium, type Browser } from 'playwright-core';

/**
 * Extra Chromium switches. Playwright adds many of its own (it already passes --no-sandbox
 * unless chromiumSandbox is true, and a temporary --user-data-dir that it deletes on close;
 * it refuses a --user-data-dir in args). These are stated here so they hold whatever
 * playwright's defaults become: no sandbox (we run as root, where Chromium refuses to start
 * with it), no GPU, and no background connections, which this machine's closed network
 * refuses many at a time.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Launches headless Chromium from `executablePath`. The caller closes it. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS],
    // Seconds on a loaded 2-core machine, but never the whole hook timeout.
    timeout: 60_000,
  });
}
