// A pool's page in a real headless Chromium, served by the real dashboard on loopback and
// fed by the test kube-apiserver: the tests play the operator (status writes with the admin
// client) and watch the page follow, without reloads, across a restart of the dashboard.
import type { AddressInfo } from 'node:net';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, markDocument, newPage, recordDialogs } from '../helpers/browser.js';
import { adminKubeConfig, freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { api, createPool, createTemplate, devices, setDevices, type TestDevice } from '../helpers/farm.js';

/** Markup as an operator (or anyone who can write status or Events) might put it in free text. */
const IMG = '<img src=x onerror=alert(1)>';
const BOLD = '<b>bold</b>';

/** The device's tile, found as a user finds it: the link that starts with the device's name. */
function tile(page: Page, device: string) {
  return page.getByRole('link', { name: new RegExp(`^${device} `) });
}

/** Resolves once the tile shows `state` (swapped in live, or already there). */
async function tileInState(page: Page, device: string, state: string): Promise<void> {
  await tile(page, device).and(page.locator(`[data-state="${state}"]`)).waitFor({ state: 'visible' });
}

/** Paths of the requests htmx makes from the page from now on (app.js's fallback poll would be one). */
async function recordHtmxRequests(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const g = globalThis as unknown as { __dfRequests?: string[]; document: { addEventListener(t: string, f: (e: { detail: { pathInfo?: { requestPath?: string } } }) => void): void } };
    g.__dfRequests = [];
    g.document.addEventListener('htmx:beforeRequest', (e) => g.__dfRequests!.push(e.detail.pathInfo?.requestPath ?? '?'));
  });
  return () => page.evaluate(() => (globalThis as { __dfRequests?: string[] }).__dfRequests ?? []);
}

/** What became of each request for the event stream, for failure messages. */
function recordLiveRequests(page: Page): string[] {
  const timeline: string[] = [];
  const started = Date.now();
  const isLive = (u: string) => new URL(u).pathname === '/live';
  page.on('response', (r) => isLive(r.url()) && timeline.push(`+${Date.now() - started} ms ${r.status()}`));
  page.on('requestfailed', (r) => isLive(r.url()) && timeline.push(`+${Date.now() - started} ms ${r.failure()?.errorText ?? 'failed'}`));
  return timeline;
}

describe('pool page in Chromium', () => {
  let namespace: string;
  /** The dashboard the browser talks to now; `apps` holds every one started, for afterAll. */
  let app: FastifyInstance | undefined;
  const apps: FastifyInstance[] = [];
  const pages: Array<() => Promise<void>> = [];
  let browser: Browser | undefined;
  let url: string;
  const pools = { live: 'live', restart: 'restart', markup: 'markup' };

  const listen = async (dashboard: FastifyInstance, port = 0) => {
    await dashboard.listen({ host: '127.0.0.1', port });
    return `http://127.0.0.1:${(dashboard.server.address() as AddressInfo).port}`;
  };
  const synced = (dashboard: FastifyInstance) =>
    waitFor('the dashboard to have every test pool', () =>
      dashboard.farm.store.syncStatus().synced &&
      dashboard.farm.store.getPool(namespace, pools.live)?.devices.length === 4 &&
      dashboard.farm.store.getPool(namespace, pools.restart)?.devices.length === 4 &&
      dashboard.farm.store.getPool(namespace, pools.markup) !== undefined,
    );

  beforeAll(async () => {
    namespace = await freshNamespace('e2e-pool');
    await createTemplate(namespace);
    for (const name of Object.values(pools)) await createPool(namespace, name, 4);
    await setDevices(namespace, pools.live, devices('live', 4));
    await setDevices(namespace, pools.restart, devices('restart', 4));
    app = await startDashboard({ namespaces: [namespace] });
    apps.push(app);
    url = await listen(app);
    // allSettled: a launched browser is kept for afterAll even when the sync wait failed.
    const [launched, ready] = await Promise.allSettled([launchBrowser(), synced(app)]);
    if (launched.status === 'fulfilled') browser = launched.value;
    for (const result of [launched, ready]) if (result.status === 'rejected') throw result.reason;
  });

  afterEach(async () => {
    for (const close of pages.splice(0)) await close();
  });

  afterAll(async () => {
    // The browser first (it holds event streams open), then the dashboards, even if the first fails.
    try {
      await browser?.close();
    } finally {
      for (const dashboard of apps) await dashboard.close();
    }
  });

  /**
   * Opens a pool's page (recording any dialog from the start) and waits until its event
   * stream is connected: the broker counts it.
   */
  async function openPool(pool: string) {
    await waitFor("earlier tests' pages to leave the live stream", () => app!.farm.broker.stats().clients === 0);
    const opened = await newPage(browser!);
    pages.push(opened.close);
    const dialogs = recordDialogs(opened.page);
    const response = await opened.page.goto(`${url}/pools/${namespace}/${pool}`);
    expect(response?.status()).toBe(200);
    await opened.page.getByRole('heading', { level: 1, name: pool, exact: true }).waitFor();
    await waitFor('the page to subscribe to the live stream', () => app!.farm.broker.stats().clients === 1);
    await opened.page.locator('#live-badge[data-state="live"]').waitFor();
    return { ...opened, dialogs };
  }

  it('updates a device tile and the counts in place when the operator patches the device state', async () => {
    const { page, problems } = await openPool(pools.live);
    await tileInState(page, 'live-2', 'Idle');
    expect(await page.locator('[data-count="Unhealthy"]').textContent()).toMatch(/^0 unhealthy$/);
    const sameDocument = await markDocument(page);

    const next: TestDevice[] = devices('live', 4);
    next[2] = { name: 'live-2', state: 'Unhealthy', message: 'adb offline' };
    await setDevices(namespace, pools.live, next);

    await tileInState(page, 'live-2', 'Unhealthy');
    expect(await tile(page, 'live-2').getAttribute('title')).toBe('live-2: Unhealthy — adb offline');
    expect(await tile(page, 'live-2').getAttribute('href')).toBe(`/pools/${namespace}/${pools.live}/devices/live-2`);
    // The pool header is swapped by the same event: its counts follow the tiles.
    await page.locator('[data-count="Unhealthy"]', { hasText: /^1 unhealthy$/ }).waitFor();
    // The other tiles are untouched.
    for (const d of ['live-0', 'live-1', 'live-3']) expect(await tile(page, d).getAttribute('data-state')).toBe('Idle');
    expect(await sameDocument()).toBe(true);
    expect(problems).toEqual([]);
  });

  it('renders markup in device messages, pool conditions and Events as text, on load and in live tile updates', async () => {
    // Label values cannot carry markup (the apiserver only takes [A-Za-z0-9_.-]); conditions,
    // device messages and Events are free text that operators and controllers write.
    const pool = pools.markup;
    const core = adminKubeConfig().makeApiClient(CoreV1Api);
    await setDevices(namespace, pool, [
      { name: 'markup-0', state: 'Unhealthy', message: `boot failed: ${IMG} ${BOLD}` },
      { name: 'markup-1', state: 'Idle' },
    ]);
    const now = new Date().toISOString();
    await api().patchNamespacedCustomObjectStatus(
      {
        group: 'droidfarm.io',
        version: 'v1alpha1',
        namespace,
        plural: 'devicepools',
        name: pool,
        body: { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'DevicesUnhealthy', message: `degraded ${BOLD} ${IMG}`, lastTransitionTime: now }] } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { name: `${pool}.markup` },
        involvedObject: { apiVersion: 'droidfarm.io/v1alpha1', kind: 'DevicePool', name: pool, namespace },
        reason: 'DeviceUnhealthy',
        message: `markup-0 stopped answering ${IMG} ${BOLD}`,
        type: 'Warning',
        count: 1,
        firstTimestamp: new Date(),
        lastTimestamp: new Date(),
        source: { component: 'droidfarm-operator' },
      },
    });
    await waitFor('the dashboard to have the condition and the Event', () => {
      const view = app!.farm.store.getPool(namespace, pool);
      return view?.conditions[0]?.message.includes(BOLD) && app!.farm.store.eventsFor('DevicePool', namespace, pool).length === 1;
    });

    const { page, problems, dialogs } = await openPool(pool);
    const main = page.locator('#main');
    const text = (await main.textContent()) ?? '';
    expect(text).toContain(`degraded ${BOLD} ${IMG}`);
    expect(text).toContain(`markup-0 stopped answering ${IMG} ${BOLD}`);
    expect(await tile(page, 'markup-0').getAttribute('title')).toBe(`markup-0: Unhealthy — boot failed: ${IMG} ${BOLD}`);
    const events = page.getByRole('region', { name: 'Recent events' });
    expect(await events.getByRole('listitem').count()).toBe(1);
    expect(await events.getByRole('listitem').textContent()).toContain(`stopped answering ${IMG} ${BOLD}`);
    expect(await main.locator('img, b').count()).toBe(0);

    // The same strings arriving over the event stream are text too.
    await setDevices(namespace, pool, [
      { name: 'markup-0', state: 'Unhealthy', message: `boot failed: ${IMG} ${BOLD}` },
      { name: 'markup-1', state: 'Unhealthy', message: `live ${BOLD} ${IMG}` },
    ]);
    await tileInState(page, 'markup-1', 'Unhealthy');
    expect(await tile(page, 'markup-1').getAttribute('title')).toBe(`markup-1: Unhealthy — live ${BOLD} ${IMG}`);
    expect(await main.locator('img, b').count()).toBe(0);
    expect(await page.locator('img[src="x"], [onerror]').count()).toBe(0);

    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);

    // Scripts get the strings exactly as the cluster holds them, not escaped for HTML.
    const res = await fetch(`${url}/api/v1/pools/${namespace}/${pool}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const json = (await res.json()) as { conditions: Array<{ message: string }>; deviceList: Array<{ name: string; message: string | null }> };
    expect(json.conditions[0]?.message).toBe(`degraded ${BOLD} ${IMG}`);
    expect(json.deviceList.map((d) => [d.name, d.message])).toEqual([
      ['markup-0', `boot failed: ${IMG} ${BOLD}`],
      ['markup-1', `live ${BOLD} ${IMG}`],
    ]);
  });

  it('shows reconnecting while the dashboard is down and catches up from the snapshot when it is back on the same port', async () => {
    const { page, problems } = await openPool(pools.restart);
    await tileInState(page, 'restart-1', 'Idle');
    const sameDocument = await markDocument(page);
    const requests = await recordHtmxRequests(page);
    const timeline = recordLiveRequests(page);
    const badge = page.locator('#live-badge');
    const port = (app!.server.address() as AddressInfo).port;

    // The next process is built and has read the cluster before the old one goes away, so
    // the outage the browser sees is its own reconnect delay, not this machine's load.
    const next = await startDashboard({ namespaces: [namespace] });
    apps.push(next);
    await synced(next);

    const problemsBeforeOutage = problems.length;
    await app!.close();
    await page.locator('#live-badge[data-state="reconnecting"]').waitFor();
    const wentDownAt = Date.now();
    expect((await badge.locator('.live-text').textContent())?.trim()).toBe('reconnecting');

    // The operator keeps working while the dashboard is away; the new process sees it
    // through its own watch before it takes the port.
    const changed: TestDevice[] = devices('restart', 4);
    changed[1] = { name: 'restart-1', state: 'Busy', session: 'nightly-7' };
    await setDevices(namespace, pools.restart, changed);
    await waitFor('the new process to see the change', () => next.farm.store.getPool(namespace, pools.restart)?.devices[1]?.state === 'Busy');
    app = next;
    expect(await listen(next, port)).toBe(url);

    // The browser's own EventSource retry finds it; the snapshot on connect carries the change.
    await tileInState(page, 'restart-1', 'Busy');
    await page.locator('#live-badge[data-state="live"]').waitFor();
    const backAfterMs = Date.now() - wentDownAt;
    expect((await badge.locator('.live-text').textContent())?.trim()).toBe('live');
    expect(await tile(page, 'restart-1').locator('.tile-session').textContent()).toBe('nightly-7');
    await page.locator('[data-count="Busy"]', { hasText: /^1 busy$/ }).waitFor();
    expect(next.farm.broker.stats().clients).toBe(1);

    // No reload, and no fallback poll (app.js polls only after 5 s without the stream): the
    // change came with the snapshot on the reconnected stream.
    expect(await sameDocument()).toBe(true);
    expect(await requests(), `back after ${backAfterMs} ms; /live: ${timeline.join(', ')}`).toEqual([]);

    // Live again: a later change arrives over the new stream.
    changed[3] = { name: 'restart-3', state: 'Booting' };
    await setDevices(namespace, pools.restart, changed);
    await tileInState(page, 'restart-3', 'Booting');

    // Before the outage nothing went wrong. While the server was away, the only complaints
    // are about the event stream: htmx's SSE extension logs each stream error as
    // "[object Event]", and Chromium reports reconnects that were refused.
    expect(problems.slice(0, problemsBeforeOutage)).toEqual([]);
    const outage = problems.slice(problemsBeforeOutage);
    expect(outage.filter((p) => !/^console error: \[object Event\] \(.*\/htmx\.min\.js|^console error: Failed to load resource: .* \(http:\/\/127\.0\.0\.1:\d+\/live\?/.test(p)), `/live: ${timeline.join(', ')}`).toEqual([]);
  });
});
