// The live farm against the real API server: a change in the cluster reaches the pages'
// event streams as exactly the fragments it affects, and the JSON stream as typed events.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createTemplate, deletePool, devices, scalePool, setDevices } from '../helpers/farm.js';
import { openStream, type SseStream } from '../helpers/sse.js';

const tileIds = (data: string) => [...data.matchAll(/id="(tile__[^"]+)"/g)].map((m) => m[1]);

describe('live updates from the real API server', () => {
  let namespace: string;
  let app: FastifyInstance;
  let base: string;
  const streams: SseStream[] = [];
  const open = async (path: string, headers?: Record<string, string>) => {
    const s = await openStream(base + path, headers);
    streams.push(s);
    return s;
  };

  beforeAll(async () => {
    namespace = await freshNamespace('live');
    await createTemplate(namespace);
    await createPool(namespace, 'grid', 20);
    await setDevices(namespace, 'grid', devices('grid', 20));
    app = await startDashboard({ namespaces: [namespace] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    await waitFor('the dashboard synced with the pool', () => app.farm.store.syncStatus().synced && app.farm.store.getPool(namespace, 'grid')?.devices.length === 20);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await app?.close();
  });

  it('answers the event stream with SSE headers and a snapshot of the subscribed regions first', async () => {
    const s = await open(`/live?topic=${encodeURIComponent(`pool:${namespace}/grid`)}`);
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(s.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(s.headers.get('x-accel-buffering')).toBe('no');
    const snapshot = await s.next((e) => e.event === 'update');
    expect(snapshot.id).toMatch(/^[0-9a-f]+-\d+$/);
    expect(snapshot.data).toContain(`id="device-grid__${namespace}__grid"`);
    expect(snapshot.data).toContain('id="live-badge"');
    expect(tileIds(snapshot.data)).toHaveLength(20);
  });

  it('delivers exactly the changed tile within a second when one device changes state', async () => {
    const page = await open(`/live?topic=${encodeURIComponent(`pool:${namespace}/grid`)}`);
    const json = await open(`/api/v1/events?namespace=${namespace}`);
    await page.next((e) => e.event === 'update');
    await json.next((e) => e.event === 'reset');
    const from = page.events.length;
    const jsonFrom = json.events.length;

    const next = devices('grid', 20);
    next[7] = { name: 'grid-7', state: 'Busy', session: 'run-42' };
    const start = Date.now();
    await setDevices(namespace, 'grid', next);

    const tile = await page.next((e) => e.data.includes(`tile__${namespace}__grid__grid-7`), { from });
    expect(tile.receivedAt - start).toBeLessThan(1_000);
    expect(tileIds(tile.data)).toEqual([`tile__${namespace}__grid__grid-7`]);
    expect(tile.data).toContain('data-state="Busy"');
    expect(tile.data).toContain('run-42');
    expect(tile.data).toContain('hx-swap-oob="true"');

    const typed = await json.next((e) => e.event === 'device', { from: jsonFrom });
    expect(typed.receivedAt - start).toBeLessThan(1_000);
    expect(JSON.parse(typed.data)).toMatchObject({
      type: 'modified',
      namespace,
      pool: 'grid',
      previousState: 'Idle',
      device: { name: 'grid-7', state: 'Busy', session: 'run-42' },
    });
    // Only that device changed: no other device events.
    await page.next((e) => e.data.includes(`pool-header__${namespace}__grid`), { from });
    expect(json.events.slice(jsonFrom).filter((e) => e.event === 'device')).toHaveLength(1);
  });

  it('shows a pool that is created, scaled and deleted, everywhere', async () => {
    const farm = await open('/live?topic=farm');
    const json = await open(`/api/v1/events?namespace=${namespace}&pool=burst`);
    await farm.next((e) => e.event === 'update');

    await createPool(namespace, 'burst', 2);
    await setDevices(namespace, 'burst', devices('burst', 2, 'Booting'));
    await farm.next((e) => e.data.includes(`pool-card__${namespace}__burst`));
    // The pool and its status are two writes: the card may show the first before the second.
    await waitFor('the pool with its devices in the API', async () => (await app.inject(`/api/v1/pools/${namespace}/burst`)).json().counts?.booting === 2);
    expect((await app.inject(`/api/v1/pools/${namespace}/burst`)).json()).toMatchObject({ replicas: 2, counts: { booting: 2 } });
    expect((await app.inject('/')).body).toContain(`pool-card__${namespace}__burst`);
    await json.next((e) => e.event === 'pool' && JSON.parse(e.data).type === 'added');

    await scalePool(namespace, 'burst', 5);
    await setDevices(namespace, 'burst', [...devices('burst', 2, 'Idle'), ...devices('burst-new', 3, 'Booting')]);
    await waitFor('scaled pool in the API', async () => (await app.inject(`/api/v1/pools/${namespace}/burst`)).json().devices === 5);
    const page = await app.inject(`/pools/${namespace}/burst`);
    expect(tileIds(page.body)).toHaveLength(5);
    await json.next((e) => e.event === 'device' && JSON.parse(e.data).type === 'added');

    await deletePool(namespace, 'burst');
    await json.next((e) => e.event === 'pool' && JSON.parse(e.data).type === 'deleted');
    await waitFor('pool gone from the JSON API', async () => (await app.inject(`/api/v1/pools/${namespace}/burst`)).statusCode === 404);
    expect((await app.inject('/')).body).not.toContain(`pool-card__${namespace}__burst`);
    expect((await app.inject(`/pools/${namespace}/burst`)).statusCode).toBe(404);
  });

  it('replays exactly the missed events for a recent Last-Event-ID, and snapshots otherwise', async () => {
    const topic = `/live?topic=${encodeURIComponent(`pool:${namespace}/grid`)}`;
    const first = await open(topic);
    const snap = await first.next((e) => e.event === 'update');
    // Keep one subscriber so the topic's events are kept while the other is away.
    const keeper = await open(topic);
    await keeper.next((e) => e.event === 'update');
    first.close();
    const next = devices('grid', 20);
    next[3] = { name: 'grid-3', state: 'Unhealthy', message: 'adb lost' };
    await setDevices(namespace, 'grid', next);
    await keeper.next((e) => e.data.includes(`tile__${namespace}__grid__grid-3`));

    const again = await open(topic, { 'last-event-id': snap.id });
    const replay = await again.next((e) => e.event === 'update');
    expect(replay.data).toContain(`tile__${namespace}__grid__grid-3`);
    expect(replay.data).not.toContain('device-grid__');

    const stranger = await open(topic, { 'last-event-id': 'ffffffff-1' });
    const full = await stranger.next((e) => e.event === 'update');
    expect(full.data).toContain(`device-grid__${namespace}__grid`);
  });

  it('rejects bad topics with a coded 400', async () => {
    const res = await app.inject('/live?topic=nonsense');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'DF_ERR_BAD_REQUEST' } });
    expect((await app.inject('/live')).statusCode).toBe(400);
  });

  it('serves the JSON API with stable shapes and JSON errors', async () => {
    const list = (await app.inject(`/api/v1/pools?namespace=${namespace}`)).json();
    expect(list.items.map((p: { name: string }) => p.name)).toContain('grid');
    const pool = (await app.inject(`/api/v1/pools/${namespace}/grid`)).json();
    expect(Object.keys(pool)).toEqual(
      expect.arrayContaining(['namespace', 'name', 'template', 'replicas', 'devices', 'counts', 'idleCapacity', 'conditions', 'deviceList']),
    );
    const devicesRes = (await app.inject(`/api/v1/pools/${namespace}/grid/devices?state=Idle`)).json();
    expect(devicesRes.items.every((d: { state: string }) => d.state === 'Idle')).toBe(true);
    expect(Object.keys(devicesRes.items[0])).toEqual(
      expect.arrayContaining(['name', 'state', 'session', 'podName', 'streamURL', 'appiumURL', 'lastHeartbeatTime', 'heartbeatStale']),
    );
    expect((await app.inject(`/api/v1/pools/${namespace}/nope`)).json()).toEqual({
      error: { code: 'DF_ERR_NOT_FOUND', message: `DevicePool ${namespace}/nope was not found.` },
    });
    expect((await app.inject(`/api/v1/pools/${namespace}/grid/devices?state=Sleeping`)).statusCode).toBe(400);
    expect((await app.inject('/api/v1/pools?namespace=Not_A_NS')).statusCode).toBe(400);
    expect((await app.inject('/api/v1/templates')).json().items[0]).toMatchObject({ name: 'pixel-6', androidVersion: '14' });
  });
});
