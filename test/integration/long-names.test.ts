// Names as long as Kubernetes allows (253 characters; Fastify's default would answer 414
// past 100): a pool, one of its devices (its name comes from the pool's status) and a
// session, each 253 characters long, against the real apiserver. Their pages, their JSON,
// their live topics and the session's Stop, Retry and Delete all work.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { domId } from '../../src/view/dom-id.js';
import { topics } from '../../src/live/topics.js';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { api, createPool, createSession, createTemplate, setDevices, setSessionStatus } from '../helpers/farm.js';
import { openStream } from '../helpers/sse.js';

/** A valid DNS subdomain of exactly 253 characters: dotted labels, as long names often are. */
const longName = (prefix: string): string => {
  const name = `${prefix}.${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.`;
  return (name + 'd'.repeat(253 - name.length));
};

const POOL = longName('pool');
const DEVICE = longName('device');
const SESSION = longName('session');
const GROUP = { group: 'droidfarm.io', version: 'v1alpha1', plural: 'testsessions' };

describe('names of 253 characters', () => {
  let namespace: string;
  let app: FastifyInstance;
  let base: string;
  const fromPage = (opts: InjectOptions): InjectOptions => ({ ...opts, headers: { 'hx-request': 'true', 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80', host: 'localhost:80', ...(opts.headers ?? {}) } });
  const getSession = async (name: string) => (await api().getNamespacedCustomObject({ ...GROUP, namespace, name })) as { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: { cancelRequested?: boolean } };

  beforeAll(async () => {
    expect([POOL, DEVICE, SESSION].map((n) => n.length)).toEqual([253, 253, 253]);
    namespace = await freshNamespace('long-names');
    await createTemplate(namespace);
    await createPool(namespace, POOL, 1);
    await setDevices(namespace, POOL, [{ name: DEVICE, state: 'Busy', session: SESSION }]);
    await createSession(namespace, SESSION, { pool: POOL });
    await setSessionStatus(namespace, SESSION, { phase: 'Running', device: { name: DEVICE, appiumURL: 'https://appium.example.com/wd/hub' }, podName: `${SESSION.slice(0, 240)}-runner` });
    app = await startDashboard({ namespaces: [namespace] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    await waitFor('the dashboard to sync and read the pool and the running session', () => app.farm.store.syncStatus().synced && app.farm.store.getPool(namespace, POOL)?.devices.length === 1 && app.farm.store.getSession(namespace, SESSION)?.phase === 'Running');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('serves the pool, device and session pages and their JSON', async () => {
    const pages = [`/pools/${namespace}/${POOL}`, `/pools/${namespace}/${POOL}/devices/${DEVICE}`, `/sessions/${namespace}/${SESSION}`, `/sessions?pool=${POOL}`];
    for (const url of pages) {
      const res = await app.inject({ url, headers: { accept: 'text/html' } });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toContain(url.includes('/devices/') ? DEVICE : url.startsWith('/pools') ? POOL : SESSION);
    }
    // The device tile's id on the pool page is the one the live fragments replace.
    expect((await app.inject(`/pools/${namespace}/${POOL}`)).body).toContain(`id="${domId('tile', namespace, POOL, DEVICE)}"`);

    const pool = await app.inject(`/api/v1/pools/${namespace}/${POOL}`);
    expect(pool.statusCode).toBe(200);
    expect(pool.json()).toMatchObject({ name: POOL });
    const devices = await app.inject(`/api/v1/pools/${namespace}/${POOL}/devices`);
    expect(devices.statusCode).toBe(200);
    expect(JSON.stringify(devices.json())).toContain(DEVICE);
    const session = await app.inject(`/api/v1/sessions/${namespace}/${SESSION}`);
    expect(session.statusCode).toBe(200);
    expect(session.json()).toMatchObject({ name: SESSION, pool: POOL, phase: 'Running' });
  });

  it('streams the pool, device and session topics', async () => {
    const subscriptions = [topics.pool(namespace, POOL), topics.device(namespace, POOL, DEVICE), topics.session(namespace, SESSION)];
    const stream = await openStream(`${base}/live?${subscriptions.map((t) => `topic=${encodeURIComponent(t)}`).join('&')}`);
    try {
      expect(stream.status).toBe(200);
      // The snapshot carries each region, named after the long names.
      await stream.next((e) => e.data.includes(DEVICE) && e.data.includes(SESSION));
      const from = stream.events.length;
      await setSessionStatus(namespace, SESSION, { progress: { completed: 3, total: 7 } });
      await stream.next((e) => e.data.includes('3/7 tests'), { from });
    } finally {
      stream.close();
    }
  });

  it('stops, retries and deletes the session from its page', async () => {
    const stop = await app.inject(fromPage({ method: 'POST', url: `/sessions/${namespace}/${SESSION}/cancel` }));
    expect(stop.statusCode, stop.body).toBe(200);
    expect((await getSession(SESSION)).spec.cancelRequested).toBe(true);

    await setSessionStatus(namespace, SESSION, { phase: 'Cancelled', reason: 'CancelRequested' });
    await waitFor('the store to see Cancelled', () => app.farm.store.getSession(namespace, SESSION)?.phase === 'Cancelled');
    const retry = await app.inject(fromPage({ method: 'POST', url: `/sessions/${namespace}/${SESSION}/retry` }));
    expect(retry.statusCode, retry.body).toBe(201);
    const retriedName = String(retry.headers['hx-redirect']).split('/').pop()!;
    const retried = await getSession(retriedName);
    // A label value holds at most 63 characters: the whole name is in the annotation.
    expect(retried.metadata.annotations?.['droidfarm.io/retry-of']).toBe(SESSION);
    expect(retried.metadata.labels?.['droidfarm.io/retry-of']).toMatch(/^session\.a+-[0-9a-f]{10}$/);
    const retriedPage = await app.inject(`/sessions/${namespace}/${retriedName}`);
    expect(retriedPage.statusCode).toBe(200);
    expect(retriedPage.body).toMatch(new RegExp(`retry of <a href="/sessions/${namespace}/${SESSION.replaceAll('.', '\\.')}"`));

    const del = await app.inject(fromPage({ method: 'POST', url: `/sessions/${namespace}/${SESSION}/delete` }));
    expect(del.statusCode, del.body).toBe(200);
    expect(del.headers['hx-redirect']).toBe('/sessions');
    await expect(getSession(SESSION)).rejects.toThrow(/404/);
    // The list it lands on says what was deleted, once.
    const cookie = String(del.headers['set-cookie']).split(';')[0]!;
    const list = await app.inject({ url: '/sessions', headers: { cookie } });
    expect(list.body).toContain(`Deleted TestSession ${SESSION} from ${namespace}.`);
    expect(String(list.headers['set-cookie'])).toMatch(/Max-Age=0/);
    expect((await app.inject({ url: `/api/v1/sessions/${namespace}/${SESSION}` })).statusCode).toBe(404);
  });

  it('answers the JSON actions for a 253-character session', async () => {
    const name = longName('json');
    await createSession(namespace, name, { pool: POOL });
    await setSessionStatus(namespace, name, { phase: 'Running' });
    await waitFor('the store to see it', () => app.farm.store.getSession(namespace, name)?.phase === 'Running');
    const stop = await app.inject({ method: 'POST', url: `/api/v1/sessions/${namespace}/${name}/cancel` });
    expect(stop.statusCode, stop.body).toBe(200);
    await setSessionStatus(namespace, name, { phase: 'Cancelled' });
    await waitFor('the store to see Cancelled', () => app.farm.store.getSession(namespace, name)?.phase === 'Cancelled');
    const retry = await app.inject({ method: 'POST', url: `/api/v1/sessions/${namespace}/${name}/retry` });
    expect(retry.statusCode, retry.body).toBe(201);
    const del = await app.inject({ method: 'DELETE', url: `/api/v1/sessions/${namespace}/${name}` });
    expect(del.statusCode, del.body).toBe(202);
    await expect(getSession(name)).rejects.toThrow(/404/);
  });
});
