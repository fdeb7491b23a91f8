// The device wall in a real Chromium at desktop and phone widths, against the real
// apiserver: it frames the busy devices (at most --wall-size), each sandboxed, lazy and
// without referrer, from the stream stand-in; a device that stops being busy loses its frame
// live and the next takes the place, while a frame that stays keeps its iframe (no reload);
// a stream URL the policy refuses shows its reason; ?device= picks devices.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitsWidth, seriousViolations } from '../helpers/axe.js';
import { launchBrowser, newPage } from '../helpers/browser.js';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createTemplate, setDevices, type TestDevice } from '../helpers/farm.js';
import { startStreamStandIn, type StreamStandIn } from '../helpers/stream-stand-in.js';

const WIDTHS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

describe('the device wall in Chromium', () => {
  let namespace: string;
  let app: FastifyInstance;
  let browser: Browser | undefined;
  let stream: StreamStandIn | undefined;
  let base: string;

  const devices = (pool: string, busy: number[]): TestDevice[] =>
    [0, 1, 2, 3].map((i) => ({
      name: `${pool}-${i}`,
      state: busy.includes(i) ? 'Busy' : 'Idle',
      ...(busy.includes(i) ? { session: `run-${i}` } : {}),
      // Device 3's stream is on an origin the dashboard does not allow.
      streamURL: i === 3 ? 'https://elsewhere.example/devices/x/' : `${stream!.origin}/devices/${pool}-${i}/`,
    }));

  /** Devices of a pool for picking: all with a stream unless named in `noStream`; device 1 busy when `busy1`. */
  const picking = (pool: string, count: number, noStream: number[], busy1 = false): TestDevice[] =>
    Array.from({ length: count }, (_, i) => ({
      name: `${pool}-${i}`,
      state: busy1 && i === 1 ? 'Busy' : 'Idle',
      ...(busy1 && i === 1 ? { session: 'run-1' } : {}),
      ...(noStream.includes(i) ? {} : { streamURL: `${stream!.origin}/devices/${pool}-${i}/` }),
    }));

  beforeAll(async () => {
    namespace = await freshNamespace('e2e-wall');
    stream = await startStreamStandIn();
    await createTemplate(namespace);
    for (const { name } of WIDTHS) {
      await createPool(namespace, `w-${name}`, 4);
      await setDevices(namespace, `w-${name}`, devices(`w-${name}`, [0, 1, 2]));
      await createPool(namespace, `p-${name}`, 4);
      await setDevices(namespace, `p-${name}`, picking(`p-${name}`, 4, []));
    }
    app = await startDashboard({ namespaces: [namespace], args: ['--stream-origin', stream.origin, '--allow-http-streams', '--wall-size', '2'] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    await waitFor('the dashboard synced', () => WIDTHS.every((w) => app.farm.store.getPool(namespace, `w-${w.name}`)?.devices.length === 4 && app.farm.store.getPool(namespace, `p-${w.name}`)?.devices.length === 4));
  });
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await app?.close();
      await stream?.close();
    }
  });

  const frames = (page: Page) => page.locator('#device-wall figure').evaluateAll((els) => els.map((e) => (e as unknown as { id: string; querySelector(s: string): { textContent: string } | null }).querySelector('a')?.textContent ?? ''));

  for (const viewport of WIDTHS) {
    it(`at ${viewport.width}×${viewport.height}: frames the busy devices, at most --wall-size, and follows them live`, async () => {
      const pool = `w-${viewport.name}`;
      const { page, problems } = await newPage(browser!, { viewport });
      await page.goto(`${base}/pools/${namespace}/${pool}/wall`);
      await expect.poll(() => frames(page)).toEqual([`${pool}-0`, `${pool}-1`]);
      expect(await page.locator('#wall-summary').textContent()).toBe('2 streams of 3 (at most 2)');
      const iframe = page.locator(`#device-wall iframe[title="WebRTC stream of ${pool}-1"]`);
      expect(await iframe.getAttribute('sandbox')).toBe('allow-scripts allow-same-origin allow-forms allow-pointer-lock');
      expect(await iframe.getAttribute('referrerpolicy')).toBe('no-referrer');
      expect(await iframe.getAttribute('loading')).toBe('lazy');
      expect(await iframe.getAttribute('src')).toBe(`${stream!.origin}/devices/${pool}-1/`);
      // Mark the frame that stays: a reload would replace the element.
      await iframe.evaluate((el) => ((el as unknown as { dfMark: boolean }).dfMark = true));
      const caption = page.locator(`#device-wall figure:has(iframe[title="WebRTC stream of ${pool}-1"]) figcaption`);
      expect(await caption.textContent()).toBe(`${pool}-1Busy· run-1`);
      expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement.scrollWidth <= (globalThis as unknown as { document: { documentElement: { clientWidth: number } } }).document.documentElement.clientWidth)).toBe(true);
      expect(await seriousViolations(page)).toEqual([]);

      // Device 0 goes idle: its frame leaves, device 2 takes its place; device 1's frame stays as it was.
      await setDevices(namespace, pool, devices(pool, [1, 2]));
      await expect.poll(() => frames(page)).toEqual([`${pool}-1`, `${pool}-2`]);
      expect(await iframe.evaluate((el) => (el as unknown as { dfMark?: boolean }).dfMark)).toBe(true);
      // Nothing busy: the wall says so.
      await setDevices(namespace, pool, devices(pool, []));
      await expect.poll(() => frames(page)).toEqual([]);
      await page.locator('#wall-empty').waitFor();

      // Picked devices, busy or not; a refused stream URL shows its reason instead of a frame.
      await page.goto(`${base}/pools/${namespace}/${pool}/wall?device=${pool}-3,${pool}-2`);
      await expect.poll(() => frames(page)).toEqual([`${pool}-2`, `${pool}-3`]);
      expect(await page.locator('#device-wall .wall-blocked').textContent()).toMatch(/^The stream cannot be embedded: .*elsewhere\.example/);
      expect(await page.locator('#device-wall iframe').count()).toBe(1);
      expect(problems).toEqual([]);
      await page.context().close();
    });
  }

  for (const viewport of WIDTHS) {
    it(`at ${viewport.width}×${viewport.height}: devices picked on the grid (click or Space) keep their picks through live updates, cap at --wall-size, and open the wall with exactly them; a picked device that leaves the pool or its stream loses its frame live`, async () => {
      const pool = `p-${viewport.name}`;
      const { page, problems } = await newPage(browser!, { viewport });
      await page.goto(`${base}/pools/${namespace}/${pool}`);
      const tile = (i: number) => page.locator(`#device-view .tile[href$="/devices/${pool}-${i}"]`);
      await tile(3).waitFor();
      const mode = page.getByRole('button', { name: 'Pick devices for the wall' });
      await mode.click();
      expect(await page.getByRole('button', { name: 'Done picking' }).getAttribute('aria-pressed')).toBe('true');
      expect(await tile(1).getAttribute('role')).toBe('checkbox');
      // A click picks (and does not follow the link); Space on a focused tile picks too.
      await tile(1).click();
      await tile(3).focus();
      await page.keyboard.press('Space');
      expect(page.url()).toBe(`${base}/pools/${namespace}/${pool}`);
      expect(await page.getByRole('checkbox', { checked: true }).evaluateAll((els) => els.map((e) => e.textContent!.trim().split(/\s/)[0]))).toEqual([`${pool}-1`, `${pool}-3`]);
      // A third is refused: the wall shows at most 2 (--wall-size 2).
      await tile(0).click();
      expect(await tile(0).getAttribute('aria-checked')).toBe('false');
      expect(await page.locator('#wall-pick-status').textContent()).toBe(`The wall shows at most 2 streams (--wall-size): unpick a device before picking ${pool}-0.`);
      const open = page.locator('#wall-pick-open');
      expect(await open.textContent()).toBe('Open the wall with the 2 picked devices');
      expect(await open.getAttribute('href')).toBe(`/pools/${namespace}/${pool}/wall?device=${pool}-1&device=${pool}-3`);
      expect(await fitsWidth(page)).toBe(true);
      const violations = await seriousViolations(page);
      expect(violations, JSON.stringify(violations)).toEqual([]);

      // Live updates: device 1's tile is swapped (Busy now), and a fifth device swaps the whole grid.
      await setDevices(namespace, pool, picking(pool, 5, [], true));
      await expect.poll(() => tile(1).getAttribute('data-state')).toBe('Busy');
      await tile(4).waitFor();
      expect(await tile(1).getAttribute('aria-checked')).toBe('true');
      expect(await tile(3).getAttribute('aria-checked')).toBe('true');
      expect(await tile(4).getAttribute('aria-checked')).toBe('false');
      expect(await open.getAttribute('href')).toBe(`/pools/${namespace}/${pool}/wall?device=${pool}-1&device=${pool}-3`);

      // The wall frames exactly the picks.
      await open.click();
      await page.waitForURL(`**/wall?device=${pool}-1&device=${pool}-3`);
      await expect.poll(() => frames(page)).toEqual([`${pool}-1`, `${pool}-3`]);
      const kept = page.locator(`#device-wall iframe[title="WebRTC stream of ${pool}-1"]`);
      await kept.evaluate((el) => ((el as unknown as { dfMark: boolean }).dfMark = true));
      // Scale-down removes device 3: its frame goes live, device 1's stays as it was.
      await setDevices(namespace, pool, picking(pool, 3, [], true));
      await expect.poll(() => frames(page)).toEqual([`${pool}-1`]);
      expect(await kept.evaluate((el) => (el as unknown as { dfMark?: boolean }).dfMark)).toBe(true);
      expect(await page.locator('#wall-missing').textContent()).toBe(`Not on the wall: ${pool}-3 (not in the pool).`);
      // Device 1 no longer reports a stream: its frame goes too.
      await setDevices(namespace, pool, picking(pool, 3, [1], true));
      await expect.poll(() => frames(page)).toEqual([]);
      expect(await page.locator('#wall-missing').textContent()).toBe(`Not on the wall: ${pool}-1 (Busy, no stream now), ${pool}-3 (not in the pool).`);

      // Back on the grid, the picks are still there, without the device that left.
      await page.goBack();
      await tile(1).waitFor();
      await expect.poll(() => tile(1).getAttribute('aria-checked')).toBe('true');
      await expect.poll(() => open.getAttribute('href')).toBe(`/pools/${namespace}/${pool}/wall?device=${pool}-1`);
      expect(problems).toEqual([]);
      await page.context().close();
    });
  }

  it('says so when a link picks more devices than the wall shows', async () => {
    const page = await app.inject(`/pools/${namespace}/w-desktop/wall?device=w-desktop-0&device=w-desktop-1&device=w-desktop-2`);
    expect(page.body).toContain("3 devices are picked, but a wall shows at most 2 streams (--wall-size): the first 2 in the pool's order are framed.");
  });

  it('refuses a device name that cannot be one, and a pool that does not exist', async () => {
    expect((await app.inject(`/pools/${namespace}/w-desktop/wall?device=Bad_Name`)).statusCode).toBe(400);
    expect((await app.inject(`/pools/${namespace}/nope/wall`)).statusCode).toBe(404);
    const live = await app.inject(`/pools/${namespace}/w-desktop`);
    expect(live.body).toContain(`href="/pools/${namespace}/w-desktop/wall"`);
  });
});
