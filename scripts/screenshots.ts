// npm run screenshots [-- --out <dir>]: the README's pictures, taken from what `npm start`
// shows (the embedded demo), with the project's own browser tooling (Debian's Chromium via
// playwright-core, as the browser tests use it). Writes into docs/ by default:
//   screenshot-farm.png        the farm page, desktop 1440x900
//   screenshot-farm-phone.png  the farm page, phone 390x844
//   screenshot-pool.png        the regression pool's device grid, desktop 1440x900
//   screenshot-insights.png    the farm's insights (a day of demo history), desktop 1440x900
// The demo is seeded, but it moves: pictures differ a little from run to run.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { DEMO_NAMESPACE, startDemo } from '../src/sim/demo.js';
import { runProvisionScript } from '../test/cluster/provision.js';
import { launchChromium } from '../test/helpers/chromium.js';

const root = resolve(import.meta.dirname, '..');

interface Shot {
  file: string;
  path: string;
  viewport: { width: number; height: number };
  phone?: boolean;
}

const SHOTS: Shot[] = [
  { file: 'screenshot-farm.png', path: '/', viewport: { width: 1440, height: 900 } },
  { file: 'screenshot-farm-phone.png', path: '/', viewport: { width: 390, height: 844 }, phone: true },
  { file: 'screenshot-pool.png', path: `/pools/${DEMO_NAMESPACE}/regression`, viewport: { width: 1440, height: 900 } },
  { file: 'screenshot-insights.png', path: '/insights', viewport: { width: 1440, height: 900 } },
];

const say = (message: string) => console.log(`[screenshots] ${message}`);

/** Waits until the page is live: the badge says so and the stream has swapped something in. */
async function waitForLiveData(page: Page): Promise<void> {
  await page.waitForFunction(() => (globalThis as { htmx?: unknown }).htmx !== undefined);
  await page.evaluate(() => {
    const w = globalThis as unknown as { __dfSwaps: number; document: { addEventListener(t: string, f: () => void): void } };
    w.__dfSwaps = 0;
    w.document.addEventListener('htmx:oobAfterSwap', () => w.__dfSwaps++);
  });
  await page.locator('#live-badge[data-state="live"]').waitFor();
  // The demo changes something every tick (500 ms): a swap proves the stream delivers.
  await page.waitForFunction(() => (globalThis as unknown as { __dfSwaps: number }).__dfSwaps > 0, undefined, { timeout: 30_000 });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'docs') } } });
  const out = resolve(values.out!);
  mkdirSync(out, { recursive: true });

  const chromium = (await runProvisionScript('provision-browser.sh')).get('CHROMIUM');
  const demo = await startDemo();
  const config = loadConfig({ argv: ['--demo', '--host', '127.0.0.1', '--port', '0', '--log-level', 'warn'], env: { NODE_ENV: 'production' } })!;
  const app = await buildApp(config, { cluster: demo.cluster });
  let browser: Browser | undefined;
  try {
    await app.listen({ host: config.host, port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    say(`embedded demo at ${base}; Chromium ${chromium}`);
    browser = await launchChromium(chromium);
    for (const shot of SHOTS) {
      const context = await browser.newContext({
        viewport: shot.viewport,
        deviceScaleFactor: 1,
        ...(shot.phone ? { isMobile: true, hasTouch: true } : {}),
        colorScheme: 'light',
        reducedMotion: 'reduce',
      });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(20_000);
        await page.goto(`${base}${shot.path}`, { waitUntil: 'load' });
        await waitForLiveData(page);
        const file = join(out, shot.file);
        writeFileSync(file, await page.screenshot({ type: 'png', animations: 'disabled', caret: 'hide' }));
        say(`${file} (${shot.viewport.width}x${shot.viewport.height})`);
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser?.close();
    demo.stop();
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(`[screenshots] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
