// The broker over real HTTP, with the store, the catalog and the real templates: what it
// keeps for reconnecting clients is bounded in entries, bytes and age, and a fleet of pages
// connecting at once shares one rendering of their snapshot, never an out-of-date one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Eta } from 'eta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FarmStore } from '../../src/farm/store.js';
import { toPoolView } from '../../src/kube/slim.js';
import { Broker, type BrokerOptions } from '../../src/live/broker.js';
import { FragmentCatalog } from '../../src/live/fragments.js';
import { waitFor } from '../helpers/cluster.js';
import { openStream, type SseStream } from '../helpers/sse.js';

const eta = new Eta({ views: join(import.meta.dirname, '..', '..', 'views'), autoEscape: true, autoTrim: [false, 'nl'] });

function pool(name: string, rv: string, states: Array<'Idle' | 'Busy'>, message = '') {
  return toPoolView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'DevicePool',
    metadata: { name, namespace: 'ns', uid: `u-${name}`, resourceVersion: rv, creationTimestamp: '2026-11-23T10:00:00Z', generation: 1 },
    spec: { templateRef: { name: 't' }, replicas: states.length },
    status: { devices: states.map((state, i) => ({ name: `${name}-${i}`, state, message })) },
  });
}

/** A broker behind a real HTTP listener; `?topic=` and Last-Event-ID as on /live. */
async function serve(options: Partial<BrokerOptions>, renders: Map<string, number>) {
  const store = new FarmStore();
  const broker = new Broker({
    store,
    catalog: new FragmentCatalog(store, { origins: [], allowHttp: false }),
    coalesceMs: 0,
    log: { warn: () => {}, error: () => {} },
    render: (template, data) => {
      renders.set(template, (renders.get(template) ?? 0) + 1);
      return eta.renderAsync(template, data);
    },
    ...options,
  });
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    const url = new URL(req.url!, 'http://x');
    const last = req.headers['last-event-id'];
    void broker.connect(res, url.searchParams.getAll('topic'), typeof last === 'string' ? last : undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const streams: SseStream[] = [];
  return {
    store,
    broker,
    open: async (topic: string, lastEventId?: string) => {
      const s = await openStream(`${base}/live?topic=${encodeURIComponent(topic)}`, lastEventId ? { 'last-event-id': lastEventId } : {});
      streams.push(s);
      return s;
    },
    close: async () => {
      for (const s of streams) s.close();
      broker.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('what the broker keeps for reconnecting clients', () => {
  const renders = new Map<string, number>();
  let env: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    env = await serve({ maxSkippedTopics: 100, replay: { maxEvents: 1_000, maxBytes: 64 * 1024, maxAgeMs: 60_000 } }, renders);
    env.store.applyPool('added', pool('watched', '1', ['Idle', 'Idle']));
    env.store.setSync({ synced: true, stale: false, detail: [] });
    env.broker.start();
  });
  afterAll(() => env.close());

  it('forgets unwatched topics past its cap, and a client from before them gets a snapshot', async () => {
    const page = await env.open('pool:ns/watched');
    const first = await page.next((e) => e.data.includes('device-grid__ns__watched'));
    // 1,000 pools appear and change while nobody watches them: each was one entry for good.
    for (let i = 0; i < 1_000; i++) env.store.applyPool('added', pool(`p${i}`, '1', ['Idle']));
    await env.broker.settle();
    for (let i = 0; i < 1_000; i++) env.store.applyPool('modified', pool(`p${i}`, '2', ['Busy']));
    await env.broker.settle();
    const stats = env.broker.stats();
    expect(stats.skippedTopics).toBeLessThanOrEqual(100);
    expect(stats.skippedBytes).toBeLessThanOrEqual(100 * 200);

    // A page of one of those pools, back with the id of before: what it missed is not in
    // the history, so it gets a snapshot showing the pool as it is now.
    const back = await env.open('pool:ns/p5', first.id);
    const snapshot = await back.next((e) => e.event === 'update');
    expect(snapshot.data).toContain('device-grid__ns__p5');
    expect(snapshot.data).toMatch(/id="tile__ns__p5__p5-0"[^>]*data-state="Busy"/);
  });

  it('keeps replay history under its byte bound, and answers an id older than it with a snapshot', async () => {
    const page = await env.open('pool:ns/watched');
    const first = await page.next((e) => e.data.includes('device-grid__ns__watched'));
    await waitFor('the page registered', () => env.broker.stats().clients >= 2);
    const padding = 'emulator slow to answer; '.repeat(100); // ~2.5 KB a tile
    for (let round = 0; round < 60; round++) {
      env.store.applyPool('modified', pool('watched', String(10 + round), [round % 2 ? 'Busy' : 'Idle', 'Idle'], `round ${round} ${padding}`));
      await env.broker.settle();
    }
    await page.next((e) => e.data.includes('round 59 '));
    const stats = env.broker.stats();
    expect(stats.historyBytes).toBeLessThanOrEqual(64 * 1024);
    expect(stats.historyEvents).toBeLessThan(60);

    const back = await env.open('pool:ns/watched', first.id);
    const snapshot = await back.next((e) => e.event === 'update');
    // A snapshot (the whole grid), not a partial replay of what was still kept.
    expect(snapshot.data).toContain('device-grid__ns__watched');
    expect(snapshot.data).toContain('round 59 ');
  });

  it('drops history past its age on the heartbeat', async () => {
    const aged = await serve({ heartbeatMs: 20, replay: { maxEvents: 1_000, maxBytes: 1 << 20, maxAgeMs: 50 } }, new Map());
    try {
      aged.store.applyPool('added', pool('q', '1', ['Idle']));
      aged.broker.start();
      const page = await aged.open('pool:ns/q');
      await page.next((e) => e.event === 'update');
      await waitFor('the page registered', () => aged.broker.stats().clients === 1);
      aged.store.applyPool('modified', pool('q', '2', ['Busy']));
      await aged.broker.settle();
      await page.next((e) => e.data.includes('data-state="Busy"'));
      expect(aged.broker.stats().historyEvents).toBeGreaterThan(0);
      await waitFor('the history aged out', () => aged.broker.stats().historyEvents === 0);
    } finally {
      await aged.close();
    }
  });
});

describe('many pages connecting at once', () => {
  const renders = new Map<string, number>();
  let env: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    env = await serve({}, renders);
    env.store.applyPool('added', pool('big', '1', Array(50).fill('Idle')));
    env.store.setSync({ synced: true, stale: false, detail: [] });
    env.broker.start();
  });
  afterAll(() => env.close());

  it('render the snapshot once and share it, with every change since folded in', async () => {
    const viewer = await env.open('pool:ns/big');
    await viewer.next((e) => e.data.includes('device-grid__ns__big'));
    await waitFor('the viewer registered', () => env.broker.stats().clients === 1);
    const before = renders.get('/partials/device-grid') ?? 0;

    const storm = await Promise.all(Array.from({ length: 50 }, () => env.open('pool:ns/big')));
    const snapshots = await Promise.all(storm.map((s) => s.next((e) => e.data.includes('device-grid__ns__big'))));
    expect(new Set(snapshots.map((s) => s.data)).size).toBe(1);
    expect((renders.get('/partials/device-grid') ?? 0) - before).toBe(1);
    expect(env.broker.stats().snapshotsShared).toBeGreaterThanOrEqual(49);

    // A change goes out to everyone connected; a page connecting after it reuses the same
    // rendering with the change folded in, never the grid as it was before.
    env.store.applyPool('modified', pool('big', '2', ['Busy', ...Array(49).fill('Idle')]));
    await env.broker.settle();
    await viewer.next((e) => e.data.includes('data-state="Busy"'));
    const late = await env.open('pool:ns/big');
    const snapshot = await late.next((e) => e.data.includes('device-grid__ns__big'));
    const tile = snapshot.data.lastIndexOf('id="tile__ns__big__big-0"');
    expect(snapshot.data.slice(tile, snapshot.data.indexOf('>', tile))).toContain('data-state="Busy"');
    expect((renders.get('/partials/device-grid') ?? 0) - before).toBe(1);
    // Its id is the latest: reconnecting with it replays nothing it already has.
    expect(late.events[0]!.id).toBe(`${env.broker.bootId}-${snapshot.id.split('-')[1]}`);
    expect(Number(snapshot.id.split('-')[1])).toBeGreaterThanOrEqual(Number(viewer.events.at(-1)!.id.split('-')[1]));
  });
});
