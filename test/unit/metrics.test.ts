// The pure parts of /metrics: figures from plain views, watch summaries, and the rule that
// each boot and each finished session is observed once, whatever the store replays.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FarmStore } from '../../src/farm/store.js';
import type { DeviceView, PoolView, SessionPhase, SessionView } from '../../src/farm/types.js';
import type { InformerStatus } from '../../src/kube/informer.js';
import { watchFigures } from '../../src/metrics/dashboard-metrics.js';
import { bootSeconds, farmFigures, FarmMetrics, sessionSeconds } from '../../src/metrics/farm-metrics.js';
import { RecentKeys } from '../../src/metrics/registry.js';
import { deviceView } from '../helpers/views.js';

const T0 = Date.parse('2026-05-01T10:00:00Z');


let rv = 1;
const pool = (namespace: string, name: string, devices: DeviceView[], uid = `uid-${namespace}-${name}`): PoolView => ({
  namespace,
  name,
  uid,
  resourceVersion: String(rv++),
  createdAt: T0,
  labels: {},
  templateName: 'pixel-6',
  replicas: devices.length,
  generation: 1,
  observedGeneration: 1,
  counts: { Booting: 0, Idle: 0, Busy: 0, Unhealthy: 0 },
  devices,
  conditions: [],
});

const session = (namespace: string, name: string, poolName: string, phase: SessionPhase, patch: Partial<SessionView> = {}): SessionView => ({
  namespace,
  name,
  uid: `uid-${namespace}-${name}`,
  resourceVersion: String(rv++),
  createdAt: T0,
  labels: {},
  spec: { poolName, deviceName: '', timeoutSeconds: 1800, apps: [], runner: undefined, cancelRequested: false },
  phase,
  device: undefined,
  podName: '',
  assignedAt: undefined,
  startedAt: undefined,
  completedAt: undefined,
  progress: undefined,
  results: undefined,
  artifacts: [],
  reason: '',
  message: '',
  conditions: [],
  retryOf: '',
  lease: undefined,
  ...patch,
});

const status = (patch: Partial<InformerStatus>): InformerStatus => ({
  resource: 'pools',
  namespace: undefined,
  state: 'live',
  synced: true,
  resourceVersion: '1',
  lastSyncAt: undefined,
  lastEventAt: undefined,
  restarts: 0,
  relists: 0,
  failingSince: undefined,
  forbidden: undefined,
  conversionFailures: 0,
  lastError: undefined,
  ...patch,
});

describe('farmFigures', () => {
  it('counts devices per pool and state, zeros included', () => {
    const figures = farmFigures([pool('a', 'p', [deviceView('d0'), deviceView('d1', { state: 'Busy' }), deviceView('d2')]), pool('a', 'empty', [])], []);
    expect(figures.devices).toEqual([
      [{ namespace: 'a', pool: 'p', state: 'Booting' }, 0],
      [{ namespace: 'a', pool: 'p', state: 'Idle' }, 2],
      [{ namespace: 'a', pool: 'p', state: 'Busy' }, 1],
      [{ namespace: 'a', pool: 'p', state: 'Unhealthy' }, 0],
      [{ namespace: 'a', pool: 'empty', state: 'Booting' }, 0],
      [{ namespace: 'a', pool: 'empty', state: 'Idle' }, 0],
      [{ namespace: 'a', pool: 'empty', state: 'Busy' }, 0],
      [{ namespace: 'a', pool: 'empty', state: 'Unhealthy' }, 0],
    ]);
  });

  it('counts sessions per namespace and phase, every phase of every namespace with pools or sessions', () => {
    const figures = farmFigures(
      [pool('a', 'p', [])],
      [session('a', 's1', 'p', 'Running'), session('a', 's2', 'p', 'Running'), session('b', 's3', 'q', 'Failed')],
    );
    const byKey = Object.fromEntries(figures.sessions.map(([l, v]) => [`${l.namespace}/${l.phase}`, v]));
    expect(figures.sessions).toHaveLength(14);
    expect(byKey).toMatchObject({ 'a/Running': 2, 'a/Pending': 0, 'a/Failed': 0, 'b/Failed': 1, 'b/Running': 0 });
  });

  it('gives every pool a queue, and a pool that does not exist one too when sessions wait for it', () => {
    const figures = farmFigures(
      [pool('a', 'p', []), pool('a', 'idle-pool', [])],
      [session('a', 's1', 'p', 'Pending'), session('a', 's2', 'p', 'Pending'), session('a', 's3', 'p', 'Running'), session('a', 's4', 'ghost', 'Pending')],
    );
    expect(figures.queue).toEqual([
      [{ namespace: 'a', pool: 'p' }, 2],
      [{ namespace: 'a', pool: 'idle-pool' }, 0],
      [{ namespace: 'a', pool: 'ghost' }, 1],
    ]);
  });
});

describe('bootSeconds and sessionSeconds', () => {
  it('measures a boot only once both ends are known and in order', () => {
    expect(bootSeconds(deviceView('d', { bootStartedAt: T0, readyAt: T0 + 42_500 }))).toBe(42.5);
    expect(bootSeconds(deviceView('d', { state: 'Booting', bootStartedAt: T0 }))).toBeUndefined();
    // A reboot that has not finished yet: readyAt is the previous boot's.
    expect(bootSeconds(deviceView('d', { state: 'Booting', bootStartedAt: T0 + 60_000, readyAt: T0 }))).toBeUndefined();
  });

  it('measures a session only when it has finished and had started', () => {
    expect(sessionSeconds(session('a', 's', 'p', 'Succeeded', { startedAt: T0, completedAt: T0 + 95_000 }))).toBe(95);
    expect(sessionSeconds(session('a', 's', 'p', 'Running', { startedAt: T0, completedAt: T0 + 95_000 }))).toBeUndefined();
    expect(sessionSeconds(session('a', 's', 'p', 'Cancelled', { completedAt: T0 }))).toBeUndefined();
  });
});

describe('watchFigures', () => {
  it('sums restarts and relists over namespaces and reports the quietest scope', () => {
    const now = T0 + 100_000;
    const figures = watchFigures(
      [
        status({ namespace: 'a', restarts: 2, relists: 1, lastEventAt: T0 + 90_000, lastSyncAt: T0 }),
        status({ namespace: 'b', restarts: 1, lastSyncAt: T0 + 40_000, state: 'retrying' }),
        status({ resource: 'sessions', lastEventAt: now + 5 }),
      ],
      now,
    );
    expect(figures).toEqual([
      { resource: 'pools', restarts: 3, relists: 1, silenceSeconds: 60, synced: true, failing: true },
      { resource: 'sessions', restarts: 0, relists: 0, silenceSeconds: 0, synced: true, failing: false },
    ]);
  });

  it('reports no silence before a scope has been listed', () => {
    const [f] = watchFigures([status({ lastSyncAt: T0 }), status({ namespace: 'b', synced: false, restarts: 4, state: 'retrying' })], T0 + 1_000);
    expect(f).toEqual({ resource: 'pools', restarts: 4, relists: 0, silenceSeconds: undefined, synced: false, failing: true });
  });
});

describe('RecentKeys', () => {
  it('forgets the oldest key beyond its bound', () => {
    const keys = new RecentKeys(2);
    keys.add('a');
    keys.add('b');
    keys.add('a');
    keys.add('c');
    expect([keys.has('a'), keys.has('b'), keys.has('c'), keys.size]).toEqual([false, true, true, 2]);
  });
});

describe('FarmMetrics histograms', () => {
  const setup = () => {
    const store = new FarmStore();
    const metrics = new FarmMetrics(new Registry(), store);
    const synced = () => store.setSync({ synced: true, stale: false, detail: [] });
    const count = async (h: 'boot' | 'session', labels: Record<string, string>) => {
      const values = (await (h === 'boot' ? metrics.bootSeconds : metrics.sessionSeconds).get()).values;
      const v = values.find((x) => x.metricName?.endsWith('_count') && JSON.stringify(x.labels) === JSON.stringify(labels));
      return v?.value ?? 0;
    };
    const sum = async (labels: Record<string, string>) =>
      (await metrics.bootSeconds.get()).values.find((x) => x.metricName?.endsWith('_sum') && JSON.stringify(x.labels) === JSON.stringify(labels))?.value;
    return { store, metrics, synced, count, sum };
  };
  const ready = (name: string, start: number, seconds: number) => deviceView(name, { bootStartedAt: start, readyAt: start + seconds * 1000 });

  it('does not observe what the first list finds, and observes a boot seen live once', async () => {
    const { store, synced, count, sum } = setup();
    store.applyPool('added', pool('a', 'p', [ready('old', T0, 30), deviceView('new', { state: 'Booting', bootStartedAt: T0 })]));
    synced();
    expect(await count('boot', { namespace: 'a', pool: 'p' })).toBe(0);

    store.applyPool('modified', pool('a', 'p', [ready('old', T0, 30), ready('new', T0, 42)]));
    expect(await count('boot', { namespace: 'a', pool: 'p' })).toBe(1);
    expect(await sum({ namespace: 'a', pool: 'p' })).toBe(42);

    // Later changes of the same boot, a relist replaying the same pool, and the device
    // vanishing from the status and coming back: none of them is a new boot.
    store.applyPool('modified', pool('a', 'p', [ready('old', T0, 30), { ...ready('new', T0, 42), state: 'Busy', session: 's1' }]));
    store.applyPool('modified', pool('a', 'p', [ready('old', T0, 30), { ...ready('new', T0, 42), state: 'Busy', session: 's1' }]));
    store.applyPool('modified', pool('a', 'p', [ready('old', T0, 30)]));
    store.applyPool('modified', pool('a', 'p', [ready('old', T0, 30), ready('new', T0, 42)]));
    expect(await count('boot', { namespace: 'a', pool: 'p' })).toBe(1);

    // A reboot is a new boot.
    store.applyPool('modified', pool('a', 'p', [ready('old', T0, 30), deviceView('new', { state: 'Booting', bootStartedAt: T0 + 600_000, readyAt: T0 + 42_000 })]));
    store.applyPool('modified', pool('a', 'p', [ready('old', T0, 30), ready('new', T0 + 600_000, 50)]));
    expect(await count('boot', { namespace: 'a', pool: 'p' })).toBe(2);
    expect(await sum({ namespace: 'a', pool: 'p' })).toBe(92);
  });

  it('observes a device added to a pool after the first list when it arrives ready, and a re-created pool afresh', async () => {
    const { store, synced, count } = setup();
    synced();
    store.applyPool('added', pool('a', 'p', [ready('d0', T0, 20)]));
    expect(await count('boot', { namespace: 'a', pool: 'p' })).toBe(1);
    store.applyPool('deleted', pool('a', 'p', [ready('d0', T0, 20)]));
    // The series of a deleted pool goes with it.
    expect(await count('boot', { namespace: 'a', pool: 'p' })).toBe(0);
    store.applyPool('added', pool('a', 'p', [ready('d0', T0, 20)], 'uid-second-life'));
    expect(await count('boot', { namespace: 'a', pool: 'p' })).toBe(1);
  });

  it('observes a session once when it finishes, by final phase, and never one that finished before the first list', async () => {
    const { store, synced, count } = setup();
    store.applySession('added', session('a', 'before', 'p', 'Succeeded', { startedAt: T0, completedAt: T0 + 10_000 }));
    store.applySession('added', session('a', 'run', 'p', 'Running', { startedAt: T0 }));
    synced();
    store.applySession('modified', session('a', 'run', 'p', 'Failed', { startedAt: T0, completedAt: T0 + 95_000 }));
    store.applySession('modified', session('a', 'run', 'p', 'Failed', { startedAt: T0, completedAt: T0 + 95_000, message: 'junit uploaded' }));
    // Deleted and seen again (a relist after the object came back in the cache): same uid.
    store.applySession('deleted', session('a', 'run', 'p', 'Failed', { startedAt: T0, completedAt: T0 + 95_000 }));
    store.applySession('added', session('a', 'run', 'p', 'Failed', { startedAt: T0, completedAt: T0 + 95_000 }));
    // Cancelled before it started: no run time to measure.
    store.applySession('modified', session('a', 'queued', 'p', 'Cancelled', { completedAt: T0 }));
    expect(await count('session', { namespace: 'a', phase: 'Failed' })).toBe(1);
    expect(await count('session', { namespace: 'a', phase: 'Succeeded' })).toBe(0);
    expect(await count('session', { namespace: 'a', phase: 'Cancelled' })).toBe(0);
  });

  it('observes a session whose completionTime arrives after its phase', async () => {
    const { store, synced, count } = setup();
    synced();
    store.applySession('added', session('a', 's', 'p', 'Running', { startedAt: T0 }));
    store.applySession('modified', session('a', 's', 'p', 'Succeeded', { startedAt: T0 }));
    store.applySession('modified', session('a', 's', 'p', 'Succeeded', { startedAt: T0, completedAt: T0 + 5_000 }));
    expect(await count('session', { namespace: 'a', phase: 'Succeeded' })).toBe(1);
  });
});
