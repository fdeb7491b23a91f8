// Issue 9 point 4, in Chromium, with the production retry schedule and SSE retry hint
// (nothing shortened): the kube-apiserver is restarted three times 20 s apart; each
// time the badge goes "offline — data as of hh:mm:ss" with the live region dimmed, and
// within 2 s of the apiserver's return a change made right after it shows on the page and
// the badge says live. Then the dashboard itself is restarted on the same port: the page
// is live again, with a change made meanwhile, within ~2 s of the new process listening.
// It restarts the apiserver: the "disruptive" project (vitest.config.ts) runs it alone.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, markDocument, newPage } from '../helpers/browser.js';
import { freshNamespace, startApiserver, stopApiserver, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createTemplate, devices, setDevices, type TestDevice } from '../helpers/farm.js';

const POOL = 'honest';
/** What the issue asks: live again within 2 s of the server's return. */
const BACK_WITHIN_MS = 2_000;
const RESTART_EVERY_MS = 20_000;

function tile(page: Page, device: string) {
  return page.getByRole('link', { name: new RegExp(`^${device} `) });
}

describe('honest connection state through apiserver and dashboard restarts', () => {
  let namespace: string;
  let app: FastifyInstance | undefined;
  const apps: FastifyInstance[] = [];
  let browser: Browser | undefined;
  let url: string;
  let port: number;

  const synced = (dashboard: FastifyInstance) =>
    waitFor('the dashboard to have the pool', () => dashboard.farm.store.syncStatus().synced && dashboard.farm.store.getPool(namespace, POOL)?.devices.length === 4);

  beforeAll(async () => {
    namespace = await freshNamespace('honest');
    await createTemplate(namespace);
    await createPool(namespace, POOL, 4);
    await setDevices(namespace, POOL, devices(POOL, 4));
    app = await startDashboard({ namespaces: [namespace] }); // production backoff and watchdog
    apps.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
    url = `http://127.0.0.1:${port}`;
    const [launched, ready] = await Promise.allSettled([launchBrowser(), synced(app)]);
    if (launched.status === 'fulfilled') browser = launched.value;
    for (const result of [launched, ready]) if (result.status === 'rejected') throw result.reason;
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      for (const dashboard of apps) await dashboard.close().catch(() => {});
    }
  });

  async function openPool(): Promise<{ page: Page; problems: string[] }> {
    const { page, problems } = await newPage(browser!);
    await page.goto(`${url}/pools/${namespace}/${POOL}`);
    await page.locator('#live-badge[data-state="live"]').waitFor();
    await waitFor('the page to subscribe to the live stream', () => app!.farm.broker.stats().clients === 1);
    return { page, problems };
  }

  /** Waits for the offline badge; returns its text. The region is dimmed meanwhile. */
  async function expectOffline(page: Page, timeoutMs: number): Promise<string> {
    await page.locator('#live-badge[data-state="offline"]').waitFor({ timeout: timeoutMs });
    const text = (await page.locator('#live-badge .live-text').textContent())?.trim() ?? '';
    expect(text).toMatch(/^offline — data as of \d\d:\d\d:\d\d, \d+ s ago$/);
    expect(await page.locator('body').getAttribute('data-connection')).toBe('offline');
    await waitFor('the live region to be dimmed', async () => {
      const opacity = await page.locator('#main').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } }).getComputedStyle(el).opacity);
      return Number(opacity) < 0.7;
    });
    return text;
  }

  it('goes offline during each of three apiserver restarts ~20 s apart and is live within 2 s of each return', async () => {
    const { page, problems } = await openPool();
    const sameDocument = await markDocument(page);
    const back: number[] = [];
    const state: TestDevice[] = devices(POOL, 4);
    let cycleStart = Date.now();
    for (let round = 1; round <= 3; round++) {
      // A restart: SIGTERM (open watches end cleanly), then the same apiserver started again.
      // It stays down until the page has gone offline (3 s of reconnecting): a bare restart
      // takes 3-8 s on this machine, so waiting for it alone could hide the offline state.
      await stopApiserver();
      const text = await expectOffline(page, 15_000);
      await startApiserver();
      const returnedAt = Date.now();
      // The time shown is the viewer's clock time of the last live data: the outage's start.
      const [hh, mm, ss] = text.match(/(\d\d):(\d\d):(\d\d)/)!.slice(1).map(Number);
      const shown = new Date(cycleStart);
      shown.setHours(hh!, mm!, ss!);
      expect(Math.abs(shown.getTime() - returnedAt)).toBeLessThan(60_000);

      // A change made right after the return shows within 2 s, and the badge is live.
      state[1] = { name: `${POOL}-1`, state: round % 2 ? 'Busy' : 'Idle', ...(round % 2 ? { session: `round-${round}` } : {}) };
      await setDevices(namespace, POOL, state);
      await tile(page, `${POOL}-1`).and(page.locator(`[data-state="${state[1].state}"]`)).waitFor({ timeout: 10_000 });
      await page.locator('#live-badge[data-state="live"]').waitFor({ timeout: 10_000 });
      back.push(Date.now() - returnedAt);
      expect(await page.locator('body').getAttribute('data-connection')).toBe('live');

      // The next restart about 20 s after the last one began.
      const wait = cycleStart + RESTART_EVERY_MS - Date.now();
      if (round < 3 && wait > 0) await new Promise((r) => setTimeout(r, wait));
      cycleStart = Date.now();
    }
    console.log(`[honest-connection] live again ${back.join(', ')} ms after each apiserver return`);
    expect(back.every((ms) => ms <= BACK_WITHIN_MS), `live again after ${back.join(', ')} ms`).toBe(true);
    // The stream to the dashboard never dropped: no reload, the same document throughout.
    expect(await sameDocument()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  }, 240_000);

  it('is live again within ~2 s of a restarted dashboard listening on the same port, with the change made meanwhile', async () => {
    const { page } = await openPool();
    // The next process has read the cluster before the old one goes away: what is measured
    // is the browser's reconnect, not this machine's start-up time.
    const next = await startDashboard({ namespaces: [namespace] });
    apps.push(next);
    await synced(next);
    await app!.close();
    await expectOffline(page, 15_000);

    await setDevices(namespace, POOL, [...devices(POOL, 4).slice(0, 2), { name: `${POOL}-2`, state: 'Unhealthy', message: 'adb offline' }, devices(POOL, 4)[3]!]);
    await waitFor('the new process to see the change', () => next.farm.store.getPool(namespace, POOL)?.devices[2]?.state === 'Unhealthy');
    app = next;
    await next.listen({ host: '127.0.0.1', port });
    const listeningAt = Date.now();
    await tile(page, `${POOL}-2`).and(page.locator('[data-state="Unhealthy"]')).waitFor({ timeout: 10_000 });
    await page.locator('#live-badge[data-state="live"]').waitFor({ timeout: 10_000 });
    const backAfter = Date.now() - listeningAt;
    console.log(`[honest-connection] live again ${backAfter} ms after the new dashboard listened`);
    // The SSE retry hint is 1 s (src/live/broker.ts): one retry interval plus the snapshot.
    expect(backAfter, `live again after ${backAfter} ms`).toBeLessThanOrEqual(BACK_WITHIN_MS + 500);
    await page.close();
  }, 60_000);

  it('behind a proxy that answers 502 while the dashboard restarts, is live again within ~2 s of its return', async () => {
    const { page } = await openPool();
    const next = await startDashboard({ namespaces: [namespace] });
    apps.push(next);
    await synced(next);
    await app!.close();
    // The proxy's upstream is gone: every request gets a 502. The browser gives the stream
    // up on a non-200 answer, and the SSE extension reopens it on its own schedule, which
    // without the cap (scripts/vendor-assets.mjs) grows 0.5, 1, 2, 4, 8 … s.
    const proxy = createServer((_req, res) => res.writeHead(502, { 'Content-Type': 'text/plain' }).end('Bad Gateway'));
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      await expectOffline(page, 15_000);
      await new Promise((r) => setTimeout(r, 10_000));
    } finally {
      // Now, not when the browser lets go: close() alone waits for every open connection, and
      // Chromium's retries keep one busy, which once stretched the outage past the ~30 s of
      // 1 s retries into the extension's longer backoff (a 54 s test, live again after 8 s).
      const closed = new Promise((resolve) => proxy.close(resolve));
      proxy.closeAllConnections();
      await closed;
    }
    await setDevices(namespace, POOL, devices(POOL, 4, 'Booting'));
    await waitFor('the new process to see the change', () => next.farm.store.getPool(namespace, POOL)?.devices[0]?.state === 'Booting');
    app = next;
    await next.listen({ host: '127.0.0.1', port });
    const listeningAt = Date.now();
    await tile(page, `${POOL}-0`).and(page.locator('[data-state="Booting"]')).waitFor({ timeout: 15_000 });
    await page.locator('#live-badge[data-state="live"]').waitFor({ timeout: 15_000 });
    const backAfter = Date.now() - listeningAt;
    console.log(`[honest-connection] live again ${backAfter} ms after the dashboard behind the 502 proxy listened`);
    expect(backAfter, `live again after ${backAfter} ms`).toBeLessThanOrEqual(BACK_WITHIN_MS + 500);
    await page.close();
  }, 90_000);
});
