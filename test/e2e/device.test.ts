// A device's page in a real headless Chromium: its WebRTC stream embedded from an allowed
// origin (a stand-in stream page served on loopback), and every other stream URL the cluster
// may hold (a `javascript:` URL, an origin not on the allowlist, embedded credentials) shown
// as plain text with the reason, never as a link or a frame. Same-site paths (the embedded
// demo's stream pages) are checked against how Chromium itself resolves them.
import type { AddressInfo } from 'node:net';
import { ApiException } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkURL } from '../../src/view/url-policy.js';
import { startStreamStandIn, type StreamStandIn } from '../helpers/stream-stand-in.js';
import { launchBrowser, markDocument, newPage, recordDialogs } from '../helpers/browser.js';
import { clusterInfo, freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createTemplate, setDevices, type TestDevice } from '../helpers/farm.js';

const IMG = '<img src=x onerror=alert(1)>';
const BOLD = '<b>bold</b>';

async function etcd(path: string, body: unknown): Promise<{ kvs?: Array<{ value: string }> }> {
  const res = await fetch(`${clusterInfo().etcdURL}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`etcd ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { kvs?: Array<{ value: string }> };
}

/**
 * Rewrites a DevicePool's stored object in etcd, under the apiserver. This is how objects
 * that today's CRD schema would refuse still exist in real clusters: they were written
 * before the schema had its pattern, and the apiserver serves and watches them as stored.
 */
async function rewriteStoredPool(namespace: string, name: string, edit: (pool: { status: { devices: TestDevice[] } }) => void): Promise<void> {
  const key = Buffer.from(`/registry/droidfarm.io/devicepools/${namespace}/${name}`).toString('base64');
  const stored = (await etcd('/v3/kv/range', { key })).kvs?.[0];
  if (!stored) throw new Error(`no DevicePool ${namespace}/${name} in etcd`);
  const raw = Buffer.from(stored.value, 'base64').toString('utf8');
  expect(raw.startsWith('{'), 'custom resources are stored as JSON').toBe(true);
  const pool = JSON.parse(raw) as { status: { devices: TestDevice[] } };
  edit(pool);
  await etcd('/v3/kv/put', { key, value: Buffer.from(JSON.stringify(pool)).toString('base64') });
}

function tile(page: Page, device: string) {
  return page.getByRole('link', { name: new RegExp(`^${device} `) });
}

describe('device page in Chromium', () => {
  let namespace: string;
  let stream: StreamStandIn | undefined;
  let app: FastifyInstance | undefined;
  let browser: Browser | undefined;
  let url: string;
  const pool = 'phones';
  const legacy = 'legacy';
  const JS_URL = 'javascript:alert(document.domain)//';
  const OTHER_ORIGIN = 'https://streams.elsewhere.example/devices/phone-1/';
  let withCredentials: string;
  let devices: TestDevice[];
  const pages: Array<() => Promise<void>> = [];

  /** A new page, closed after the test whatever its outcome. */
  async function open() {
    const opened = await newPage(browser!);
    pages.push(opened.close);
    return opened;
  }

  beforeAll(async () => {
    stream = await startStreamStandIn();
    withCredentials = `${stream.origin.replace('http://', 'http://operator:hunter2@')}/devices/phone-2/`;
    namespace = await freshNamespace('e2e-device');
    await createTemplate(namespace);
    await createPool(namespace, pool, 4);
    await createPool(namespace, legacy, 1);
    devices = [
      { name: 'phone-0', state: 'Idle', streamURL: `${stream.origin}/devices/phone-0/` },
      { name: 'phone-1', state: 'Idle', streamURL: OTHER_ORIGIN },
      { name: 'phone-2', state: 'Idle', streamURL: withCredentials },
      { name: 'phone-3', state: 'Unhealthy', streamURL: `${stream.origin}/devices/phone-3/`, message: `adb: ${IMG} ${BOLD}` },
    ];
    await setDevices(namespace, pool, devices);
    await setDevices(namespace, legacy, [{ name: 'legacy-0', state: 'Idle', streamURL: `${stream.origin}/devices/legacy-0/` }]);

    app = await startDashboard({ namespaces: [namespace], args: ['--stream-origin', stream.origin, '--allow-http-streams'] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const [launched, ready] = await Promise.allSettled([
      launchBrowser(),
      waitFor('the dashboard to have both pools with their devices', () =>
        app!.farm.store.syncStatus().synced && app!.farm.store.getPool(namespace, pool)?.devices.length === 4 && app!.farm.store.getPool(namespace, legacy)?.devices.length === 1,
      ),
    ]);
    if (launched.status === 'fulfilled') browser = launched.value;
    for (const result of [launched, ready]) if (result.status === 'rejected') throw result.reason;
  });

  afterEach(async () => {
    for (const close of pages.splice(0)) await close();
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      try {
        await app?.close();
      } finally {
        await stream?.close();
      }
    }
  });

  it('opens a device from its tile and embeds its stream from the allowed origin in a sandboxed iframe without a referrer', async () => {
    const { page, problems } = await open();
    expect((await page.goto(`${url}/pools/${namespace}/${pool}`))?.status()).toBe(200);
    const requestsBefore = stream!.requests.length;

    const devicePage = `${url}/pools/${namespace}/${pool}/devices/phone-0`;
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === devicePage && r.request().isNavigationRequest()),
      tile(page, 'phone-0').click(),
    ]);
    expect(response.status()).toBe(200);
    await page.waitForURL(devicePage);
    await page.getByRole('heading', { level: 1, name: 'phone-0', exact: true }).waitFor();
    // The policy lets exactly the configured stream origin be framed.
    const csp = (await response.allHeaders())['content-security-policy'] ?? '';
    expect(csp).toContain(`frame-src ${stream!.origin}`);
    expect(csp).toContain("frame-ancestors 'none'");

    const frame = page.getByTitle('WebRTC stream of phone-0');
    expect(await frame.evaluate((el) => (el as unknown as { tagName: string }).tagName)).toBe('IFRAME');
    expect(await frame.getAttribute('src')).toBe(`${stream!.origin}/devices/phone-0/`);
    expect(await frame.getAttribute('referrerpolicy')).toBe('no-referrer');
    const sandbox = (await frame.getAttribute('sandbox'))?.split(/\s+/) ?? [];
    expect(sandbox).toContain('allow-scripts');
    expect(sandbox.filter((t) => t.startsWith('allow-top-navigation') || t.startsWith('allow-popups'))).toEqual([]);

    // The stand-in page really loaded inside the frame...
    const heading = page.frameLocator('iframe#stream').getByRole('heading', { level: 1 });
    expect(await heading.textContent()).toBe('Stand-in stream of phone-0');
    // ...and the relay learnt nothing about where it is embedded.
    const loads = stream!.requests.slice(requestsBefore).filter((r) => r.url === '/devices/phone-0/');
    expect(loads).toHaveLength(1);
    expect(loads[0]!.headers.referer).toBeUndefined();

    // The same URL, and only it, is offered as a link that opens a new tab without the opener.
    const own = page.getByRole('link', { name: 'Open the stream in its own tab' });
    expect(await own.getAttribute('href')).toBe(`${stream!.origin}/devices/phone-0/`);
    expect(await own.getAttribute('target')).toBe('_blank');
    expect((await own.getAttribute('rel'))?.split(/\s+/).sort()).toEqual(['noopener', 'noreferrer']);
    expect(await page.getByRole('note').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  /** Opens a device's page and checks the stream URL appears only as text, with the reason. */
  async function expectBlocked(page: Page, poolName: string, device: string, streamURL: string, reason: RegExp): Promise<void> {
    expect((await page.goto(`${url}/pools/${namespace}/${poolName}/devices/${device}`))?.status()).toBe(200);
    const note = page.getByRole('note').filter({ hasText: 'The stream cannot be embedded.' });
    await note.waitFor();
    expect(await note.textContent()).toMatch(reason);
    expect(await note.textContent()).toContain(streamURL);
    expect(await page.locator('iframe').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Open the stream in its own tab' }).count()).toBe(0);
    // Nothing anywhere in the page points at it, whatever the element.
    const attrs = await page.locator('[href], [src], [action], [formaction]').evaluateAll((els) =>
      (els as unknown as Array<{ getAttribute(n: string): string | null }>).flatMap((el) => ['href', 'src', 'action', 'formaction'].map((n) => el.getAttribute(n) ?? '')),
    );
    expect(attrs.filter((v) => v === streamURL || /^\s*javascript:/i.test(v) || v.includes('elsewhere.example') || v.includes('hunter2'))).toEqual([]);
  }

  it('shows a javascript: stream URL, a foreign origin and embedded credentials as text with the reason, never as a link or a frame', async () => {
    // The CRD already refuses a javascript: URL...
    const refused = await setDevices(namespace, legacy, [{ name: 'legacy-0', state: 'Idle', streamURL: JS_URL }]).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(ApiException);
    expect((refused as ApiException<unknown>).code).toBe(422);
    // ...but objects stored before the schema had its pattern are served as they are.
    await rewriteStoredPool(namespace, legacy, (p) => {
      p.status.devices[0]!.streamURL = JS_URL;
    });
    await waitFor('the dashboard to see the javascript: URL', () => app!.farm.store.getPool(namespace, legacy)?.devices[0]?.streamURL === JS_URL);

    const { page, problems } = await open();
    const dialogs = recordDialogs(page);
    await expectBlocked(page, legacy, 'legacy-0', JS_URL, /javascript URLs are not allowed/);
    await expectBlocked(page, pool, 'phone-1', OTHER_ORIGIN, /https:\/\/streams\.elsewhere\.example is not an allowed origin/);
    await expectBlocked(page, pool, 'phone-2', withCredentials, /URLs with credentials are not allowed/);

    // The pool page links each tile to the dashboard's own device page, never to a stream.
    await page.goto(`${url}/pools/${namespace}/${legacy}`);
    expect(await tile(page, 'legacy-0').getAttribute('href')).toBe(`/pools/${namespace}/${legacy}/devices/legacy-0`);
    await tile(page, 'legacy-0').click();
    await page.waitForURL(`${url}/pools/${namespace}/${legacy}/devices/legacy-0`);
    await page.getByRole('note').filter({ hasText: 'javascript URLs are not allowed' }).waitFor();

    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);

    // Scripts get the raw data: the JSON API is for programs, which must not execute it either.
    const res = await fetch(`${url}/api/v1/pools/${namespace}/${legacy}/devices`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: Array<{ streamURL: string }> }).items.map((d) => d.streamURL)).toEqual([JS_URL]);
  });

  it('renders markup in a device message as text, on first load and when it changes live', async () => {
    await waitFor("earlier tests' pages to leave the live stream", () => app!.farm.broker.stats().clients === 0);
    const { page, problems } = await open();
    const dialogs = recordDialogs(page);
    expect((await page.goto(`${url}/pools/${namespace}/${pool}/devices/phone-3`))?.status()).toBe(200);
    const facts = page.getByRole('complementary');
    await facts.getByText(`adb: ${IMG} ${BOLD}`, { exact: true }).waitFor();
    await waitFor('the page, alone, to subscribe to the live stream', () => app!.farm.broker.stats().clients === 1);
    await page.locator('#live-badge[data-state="live"]').waitFor();
    const sameDocument = await markDocument(page);

    const next = devices.map((d) => (d.name === 'phone-3' ? { ...d, message: `still down ${BOLD} ${IMG}` } : d));
    await setDevices(namespace, pool, next);
    await facts.getByText(`still down ${BOLD} ${IMG}`, { exact: true }).waitFor();
    expect(await sameDocument()).toBe(true);
    expect(await page.locator('#main img, #main b, [onerror]').count()).toBe(0);
    // The stream of an unhealthy device is still embedded: the message does not change that.
    expect(await page.getByTitle('WebRTC stream of phone-3').getAttribute('src')).toBe(`${stream!.origin}/devices/phone-3/`);
    expect(dialogs).toEqual([]);
    expect(problems).toEqual([]);

    const res = await fetch(`${url}/api/v1/pools/${namespace}/${pool}/devices?state=Unhealthy`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: Array<{ name: string; message: string }> }).items).toMatchObject([{ name: 'phone-3', message: `still down ${BOLD} ${IMG}` }]);
  });

  it("accepts a same-site stream path (the demo's) only when Chromium resolves it to the dashboard itself", async () => {
    // Real clusters cannot hold paths (the CRD wants http(s)://), and --stream-origin takes
    // origins only: same-site paths are the embedded demo's. The browser has the last word on
    // where a path leads, so ask it.
    const paths = ['/demo/stream/farm/phone-0', '/demo/stream/farm/phone-0?x=1#y', '/\\streams.elsewhere.example/x', '/\t/streams.elsewhere.example/x', '/\\/streams.elsewhere.example/', '/./\\x/'];
    const { page, problems } = await open();
    await page.goto(`${url}/pools/${namespace}/${pool}`);
    const sameSite = await page.evaluate(
      (hrefs) => {
        const here = (globalThis as unknown as { location: { href: string; origin: string } }).location;
        return hrefs.map((h) => new URL(h, here.href).origin === here.origin);
      },
      paths,
    );
    const policy = { origins: ["'self'"], allowHttp: false };
    expect(paths.map((p) => checkURL(p, policy).ok)).toEqual(sameSite);
    expect(sameSite).toEqual([true, true, false, false, false, true]); // both kinds, as Chromium sees them
    expect(problems).toEqual([]);
  });

  it('lists an Unhealthy episode the dashboard saw (Unhealthy, then Idle) with its reason, on the page and in the JSON', async () => {
    const phone = (state: TestDevice['state'], message?: string) => devices.map((d) => (d.name === 'phone-1' ? { ...d, state, ...(message ? { message } : {}) } : d));
    const seen = (state: string) => () => app!.farm.store.getPool(namespace, pool)?.devices.find((d) => d.name === 'phone-1')?.state === state;
    await setDevices(namespace, pool, phone('Unhealthy', `adb offline ${IMG}\nstack trace line`));
    await waitFor('the dashboard to see phone-1 Unhealthy', seen('Unhealthy'));
    await setDevices(namespace, pool, phone('Idle'));
    await waitFor('the dashboard to see phone-1 Idle again', seen('Idle'));
    for (const viewport of [{ width: 1440, height: 900 }, { width: 390, height: 844 }]) {
      const { page, problems } = await open();
      await page.setViewportSize(viewport);
      expect((await page.goto(`${url}/pools/${namespace}/${pool}/devices/phone-1`))?.status()).toBe(200);
      const list = page.getByRole('list', { name: 'Unhealthy episodes' });
      await list.waitFor();
      const items = list.getByRole('listitem');
      expect(await items.count()).toBe(1);
      const text = (await items.first().innerText()).replace(/\s+/g, ' ');
      expect(text).toContain(`adb offline ${IMG}`);
      expect(text).not.toContain('stack trace line');
      expect(text).toMatch(/Unhealthy for \d+s /);
      expect(text).toContain('then Idle');
      expect(await items.first().getAttribute('data-episode')).toBe('ended');
      expect(await items.first().isVisible()).toBe(true);
      expect(await page.locator('[data-unhealthy-summary]').innerText()).toMatch(/^1 Unhealthy episode seen by this dashboard since .+ a restart of the dashboard forgets these/);
      expect(await page.locator('#main img, [onerror]').count()).toBe(0);
      // Nothing wider than the phone's screen.
      expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement.scrollWidth <= (globalThis as unknown as { document: { documentElement: { clientWidth: number } } }).document.documentElement.clientWidth)).toBe(true);
      expect(problems).toEqual([]);
    }
    const res = await fetch(`${url}/api/v1/pools/${namespace}/${pool}/devices/phone-1`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { state: string; history: { unhealthyEpisodes: { items: Array<Record<string, unknown>> } } };
    expect(body.state).toBe('Idle');
    expect(body.history.unhealthyEpisodes.items).toMatchObject([{ ongoing: false, startSeen: true, endedAs: 'Idle', reason: `adb offline ${IMG}` }]);
  });
});
