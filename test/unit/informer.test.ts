// The informer's reconnect paths, driven through the in-memory cluster (with the faults a
// real network and apiserver produce, test/helpers/faulty-cluster.ts) on a fake clock, with
// the production retry schedule and watchdog: nothing here is shortened.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClusterError } from '../../src/kube/errors.js';
import { HEALTHY_WATCH_MS, Informer, versionAtLeast, type InformerChange, type InformerStatus } from '../../src/kube/informer.js';
import { decodeWatchLine, WatchLineError } from '../../src/kube/watch-line.js';
import type { KubeObject } from '../../src/kube/types.js';
import { FaultyCluster } from '../helpers/faulty-cluster.js';

interface View {
  name: string;
  resourceVersion: string;
}

const NS = 'farm';

/** Reads like slim.ts, but an object labelled unreadable=yes cannot be read at all. */
function toView(o: KubeObject): View {
  if (o.metadata.labels?.unreadable === 'yes') throw new Error('bad spec');
  return { name: o.metadata.name, resourceVersion: o.metadata.resourceVersion ?? '' };
}

function setup(options: { bookmarkIntervalMs?: number } = {}) {
  const cluster = new FaultyCluster(options);
  const changes: InformerChange<View>[] = [];
  const warnings: string[] = [];
  const log = {
    info: () => {},
    warn: (obj: object, msg: string) => warnings.push(`${msg} ${JSON.stringify(obj)}`),
    error: (obj: object, msg: string) => warnings.push(`ERROR ${msg} ${JSON.stringify(obj)}`),
  };
  const informer = new Informer<View>({
    cluster,
    resource: 'templates',
    namespace: NS,
    toView,
    versionOf: (v) => v.resourceVersion,
    onChange: (c) => changes.push(c),
    log,
  });
  const status = (): InformerStatus => informer.snapshot();
  const create = (name: string, labels: Record<string, string> = {}) =>
    cluster.memory.create('templates', NS, { metadata: { name, labels }, spec: {} });
  return { cluster, informer, changes, warnings, status, create };
}

/** Advances the fake clock in small steps until `check` holds; returns the time it took. */
async function advanceUntil(check: () => boolean, limitMs: number, stepMs = 10): Promise<number> {
  let waited = 0;
  while (!check()) {
    if (waited >= limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await vi.advanceTimersByTimeAsync(stepMs);
    waited += stepMs;
  }
  return waited;
}

let stopAll: Array<() => void> = [];

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date'] });
  stopAll = [];
});

afterEach(() => {
  for (const stop of stopAll) stop();
  vi.useRealTimers();
});

async function started(options: { bookmarkIntervalMs?: number } = {}) {
  const s = setup(options);
  stopAll.push(() => s.informer.stop());
  s.informer.start();
  await advanceUntil(() => s.status().state === 'live', 1_000);
  return s;
}

describe('informer: apiserver outages', () => {
  it('is live again within 1 s of each return when 4 s outages come every 20 s (production schedule)', async () => {
    const s = await started();
    // A healthy watch first: it delivered an event.
    await s.create('t0');
    await advanceUntil(() => s.changes.length === 1, 1_000);

    const late: number[] = [];
    for (let outage = 1; outage <= 3; outage++) {
      s.cluster.goDown();
      await vi.advanceTimersByTimeAsync(4_000);
      expect(s.status().state).toBe('retrying');
      expect(s.status().failingSince).toBeDefined();
      s.cluster.up();
      // A change made right after the return arrives with the watch.
      await s.create(`t${outage}`);
      late.push(await advanceUntil(() => s.status().state === 'live' && s.changes.some((c) => c.key === `${NS}/t${outage}`), 5_000));
      expect(s.status().failingSince).toBeUndefined();
      await vi.advanceTimersByTimeAsync(16_000);
    }
    expect(late.every((ms) => ms <= 1_000), `back after ${late.join(', ')} ms`).toBe(true);
    // Resumed from the last version each time: one list, at the start.
    expect(s.cluster.lists).toBe(1);
  });

  it('stays gentle through a long outage: ≤ 1 s apart for 30 s, then at most one attempt per 15-30 s', async () => {
    const s = await started();
    await s.create('t0');
    await advanceUntil(() => s.changes.length === 1, 1_000);
    s.cluster.goDown();
    const before = s.cluster.watchesFrom.length;
    await vi.advanceTimersByTimeAsync(30_000);
    const fast = s.cluster.watchesFrom.length - before;
    expect(fast).toBeGreaterThanOrEqual(29); // every ≤ 1 s
    expect(fast).toBeLessThanOrEqual(70);
    await vi.advanceTimersByTimeAsync(60_000); // steps of 2, 4, 8, 16, 30 s
    const afterMinute = s.cluster.watchesFrom.length;
    await vi.advanceTimersByTimeAsync(300_000);
    const slow = s.cluster.watchesFrom.length - afterMinute;
    expect(slow).toBeLessThanOrEqual(300 / 15);
    expect(slow).toBeGreaterThanOrEqual(300 / 30 - 1);
  });
});

describe('informer: watch reconnect paths', () => {
  it('counts a watch that closes cleanly at once, having delivered nothing, as a failure (no hot loop)', async () => {
    const s = await started();
    s.cluster.watchFault = 'close-at-once';
    s.cluster.endOpenWatches();
    const before = s.cluster.watchesFrom.length;
    await vi.advanceTimersByTimeAsync(3_000);
    const attempts = s.cluster.watchesFrom.length - before;
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(8); // 125-250 ms, 250-500 ms, then 0.5-1 s apart
    expect(s.status().lastError).toContain('closed at once');
    expect(s.status().restarts).toBeGreaterThanOrEqual(3);
    // Once the watch stays open, it is live and healthy again.
    s.cluster.watchFault = undefined;
    await advanceUntil(() => s.status().state === 'live', 1_100);
  });

  it('a clean close of a healthy watch resumes at once, without a failure', async () => {
    const s = await started();
    await vi.advanceTimersByTimeAsync(HEALTHY_WATCH_MS + 10);
    s.cluster.endOpenWatches();
    const before = s.cluster.watchesFrom.length;
    await vi.advanceTimersByTimeAsync(5);
    expect(s.cluster.watchesFrom.length).toBe(before + 1);
    expect(s.status().restarts).toBe(0);
  });

  it('relists at once on a 410 after a healthy watch, and backs off when 410s repeat', async () => {
    const s = await started();
    await s.create('t0');
    await advanceUntil(() => s.changes.length === 1, 1_000);
    s.cluster.watchFault = 'expire-at-once';
    s.cluster.endOpenWatches();
    await vi.advanceTimersByTimeAsync(5);
    expect(s.cluster.lists).toBe(2); // at once
    await vi.advanceTimersByTimeAsync(3_000);
    expect(s.cluster.lists).toBeGreaterThanOrEqual(4);
    expect(s.cluster.lists).toBeLessThanOrEqual(9);
    expect(s.status().state).toBe('retrying');
    s.cluster.watchFault = undefined;
    await advanceUntil(() => s.status().state === 'live', 1_100);
    await vi.advanceTimersByTimeAsync(HEALTHY_WATCH_MS + 10);
    // The next expiry, after a healthy watch again, relists at once.
    const lists = s.cluster.lists;
    s.cluster.watchFault = 'expire-at-once';
    s.cluster.endOpenWatches();
    await vi.advanceTimersByTimeAsync(5);
    expect(s.cluster.lists).toBe(lists + 1);
  });

  it('never emits an undefined view for a DELETED object that cannot be read and was never cached; it logs and counts it', async () => {
    const s = await started();
    await s.create('odd', { unreadable: 'yes' });
    await s.create('fine');
    await advanceUntil(() => s.changes.length === 1, 1_000);
    await s.cluster.memory.delete('templates', NS, 'odd');
    await s.cluster.memory.delete('templates', NS, 'fine');
    await advanceUntil(() => s.changes.length === 2, 1_000);
    expect(s.changes.map((c) => [c.type, c.key])).toEqual([
      ['added', `${NS}/fine`],
      ['deleted', `${NS}/fine`],
    ]);
    expect(s.changes.every((c) => c.view !== undefined)).toBe(true);
    expect(s.status().conversionFailures).toBe(2); // its ADDED and its DELETED
    expect(s.warnings.filter((w) => w.includes('could not be read') && w.includes(`${NS}/odd`))).toHaveLength(2);
  });

  it('deletes a cached object with its last readable view when its final state cannot be read', async () => {
    const s = await started();
    await s.create('flaky');
    await advanceUntil(() => s.changes.length === 1, 1_000);
    await s.cluster.memory.patch('templates', NS, 'flaky', { metadata: { labels: { unreadable: 'yes' } } });
    await s.cluster.memory.delete('templates', NS, 'flaky');
    await advanceUntil(() => s.changes.length === 2, 1_000);
    expect(s.changes[1]).toMatchObject({ type: 'deleted', key: `${NS}/flaky`, view: { name: 'flaky' } });
    expect(s.status().conversionFailures).toBe(1); // its MODIFIED; the delete needs no reading
  });

  it('logs an unreadable watch line and resumes the watch from the last resourceVersion, without a relist', async () => {
    const s = await started();
    const created = await s.create('before');
    await advanceUntil(() => s.changes.length === 1, 1_000);
    s.cluster.breakOpenWatches('{"type":"MODIFIED","object":{"metadata":');
    await advanceUntil(() => s.status().state === 'live' && s.cluster.watchesFrom.length === 2, 1_000);
    expect(s.cluster.watchesFrom.at(-1)).toBe(created.metadata.resourceVersion);
    expect(s.cluster.lists).toBe(1);
    expect(s.warnings.some((w) => w.includes('watch failed') && w.includes('unreadable watch line'))).toBe(true);
    await s.create('after');
    await advanceUntil(() => s.changes.some((c) => c.key === `${NS}/after`), 1_000);
  });

  it('records a 403 as the read that is forbidden, and clears it once the read is allowed', async () => {
    const s = setup();
    stopAll.push(() => s.informer.stop());
    s.cluster.forbidden = true;
    s.informer.start();
    await advanceUntil(() => s.status().forbidden !== undefined, 1_000);
    expect(s.status().forbidden).toEqual({ verb: 'list', resource: 'devicetemplates', group: 'droidfarm.io', namespace: NS });
    expect(s.status().synced).toBe(false);
    s.cluster.forbidden = false;
    await advanceUntil(() => s.status().state === 'live', 1_100);
    expect(s.status().forbidden).toBeUndefined();
    // A watch refused later names the watch.
    s.cluster.forbidden = true;
    s.cluster.endOpenWatches();
    await advanceUntil(() => s.status().forbidden !== undefined, 1_000);
    expect(s.status().forbidden?.verb).toBe('watch');
  });
});

describe('informer: watchdog', () => {
  it('does not warn about a healthy idle watch (bookmarks) over many watchdog periods', async () => {
    const s = await started(); // production bookmark interval (60 s) and watchdog (400 s)
    await vi.advanceTimersByTimeAsync(1_000_000);
    expect(s.warnings.filter((w) => w.includes('went silent'))).toEqual([]);
    expect(s.status().restarts).toBe(0);
    expect(s.status().lastEventAt).toBeGreaterThan(Date.now() - 61_000);
  });

  it('restarts a watch that delivers nothing at all, not even bookmarks', async () => {
    const s = await started({ bookmarkIntervalMs: 0 });
    await vi.advanceTimersByTimeAsync(401_000);
    expect(s.warnings.filter((w) => w.includes('went silent'))).toHaveLength(1);
    expect(s.status().restarts).toBe(1);
  });
});

describe('informer: caught up with a write', () => {
  it('resolves caughtUpTo once the watch has brought the write, and at once for a write it already has', async () => {
    const s = await started();
    const first = await s.create('t0');
    await advanceUntil(() => s.changes.length === 1, 1_000);
    let caughtUp = false;
    void s.informer.caughtUpTo(first.metadata.resourceVersion!).then(() => (caughtUp = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(caughtUp).toBe(true);

    // Written while the watch is away: not caught up until the watch is back and brings it.
    s.cluster.goDown();
    await vi.advanceTimersByTimeAsync(10);
    const second = await s.create('t1');
    caughtUp = false;
    void s.informer.caughtUpTo(second.metadata.resourceVersion!).then(() => (caughtUp = true));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(caughtUp).toBe(false);
    s.cluster.up();
    await advanceUntil(() => caughtUp, 2_000);
    expect(s.changes.map((c) => c.key)).toContain(`${NS}/t1`);
  });

  it('lets a waiter go when the informer stops', async () => {
    const s = await started();
    let released = false;
    void s.informer.caughtUpTo('999999').then(() => (released = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(released).toBe(false);
    s.informer.stop();
    await vi.advanceTimersByTimeAsync(0);
    expect(released).toBe(true);
  });

  it('compares versions as numbers; a version that is not one counts as seen', () => {
    expect(versionAtLeast('10', '9')).toBe(true);
    expect(versionAtLeast('9', '10')).toBe(false);
    expect(versionAtLeast('123456789012345678901', '123456789012345678900')).toBe(true);
    expect(versionAtLeast('', '1')).toBe(false);
    expect(versionAtLeast('5', 'opaque')).toBe(true);
  });
});

describe('decodeWatchLine', () => {
  it('reads each event type of a watch response', () => {
    expect(decodeWatchLine('{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}}')).toEqual({
      type: 'ADDED',
      object: { metadata: { name: 'a', resourceVersion: '5' } },
    });
    expect(decodeWatchLine('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}')).toEqual({ type: 'BOOKMARK', resourceVersion: '9' });
    expect(decodeWatchLine('{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}}')).toEqual({
      type: 'ERROR',
      code: 410,
      reason: 'Expired',
      message: 'too old',
    });
  });

  it.each([
    ['truncated JSON', '{"type":"MODIFIED","object":{"metadata":'],
    ['not an object', '"hello"'],
    ['no object', '{"type":"ADDED"}'],
    ['an unknown type', '{"type":"RENAMED","object":{"metadata":{"name":"a"}}}'],
    ['null', 'null'],
  ])('refuses %s with a WatchLineError that shows the line', (_what, line) => {
    expect(() => decodeWatchLine(line)).toThrow(WatchLineError);
    expect(() => decodeWatchLine(line)).toThrow(line.slice(0, 20));
  });
});

// ClusterError is what a 403 from the API looks like to the informer (kube-cluster.ts).
it('the faulty cluster answers reads with the API server’s 403 shape', async () => {
  const cluster = new FaultyCluster();
  cluster.forbidden = true;
  await expect(cluster.list('sessions', 'team-b')).rejects.toMatchObject({ status: 403, code: 'DF_ERR_KUBE_FORBIDDEN' });
  await expect(cluster.list('sessions', 'team-b')).rejects.toBeInstanceOf(ClusterError);
});
