// The simulator reads the cluster through the project's informer, one watch per kind, and a
// tick still reads what was written before it: it waits until the watch has brought the
// simulator's own writes and those announced to it (expectWrite). Driven through the
// in-memory cluster with an apiserver that can go away (test/helpers/faulty-cluster.ts), on
// a fake clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CATCH_UP_LIMIT_MS } from '../../src/sim/farm-watch.js';
import { FarmSimulator, type Transition } from '../../src/sim/simulator.js';
import { FaultyCluster } from '../helpers/faulty-cluster.js';

const NS = 'farm';

async function farm() {
  const cluster = new FaultyCluster({ bookmarkIntervalMs: 0 });
  await cluster.create('templates', NS, { metadata: { name: 't' }, spec: {} });
  await cluster.create('pools', NS, { metadata: { name: 'smoke' }, spec: { templateRef: { name: 't' }, replicas: 2 } });
  const transitions: Transition[] = [];
  const warnings: string[] = [];
  const sim = new FarmSimulator({
    cluster,
    namespace: NS,
    seed: 1,
    speed: 1,
    tickMs: 500,
    warmStart: true,
    devicePods: true,
    onTransition: (t) => transitions.push(t),
    log: { warn: (_obj, msg) => warnings.push(msg) },
  });
  return { cluster, sim, transitions, warnings };
}

const queued = (ts: Transition[]) => ts.flatMap((t) => (t.kind === 'session' && t.phase === 'Pending' ? [t.session] : []));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Runs one tick, moving the fake clock on while it waits. */
async function tick(sim: FarmSimulator): Promise<void> {
  let done = false;
  const ticking = sim.tick().then(() => (done = true));
  for (let i = 0; i < 1_000 && !done; i++) await vi.advanceTimersByTimeAsync(10);
  await ticking;
}

describe('simulator reading through the informer', () => {
  it('lists each kind once, then only watches: one watch per kind, however many ticks', async () => {
    const { cluster, sim, warnings } = await farm();
    for (let i = 0; i < 20; i++) await tick(sim);
    expect(cluster.lists).toBe(3); // pools, sessions, the device pods
    expect(cluster.watchesFrom).toHaveLength(3);
    expect((await cluster.list('pods', NS)).items.map((p) => p.metadata.name)).toEqual(['smoke-0-cvd', 'smoke-1-cvd']);
    expect(warnings).toEqual([]);
    await sim.stop();
  });

  it('a tick waits until the watch has brought a write announced to it, so it sees what was written before it', async () => {
    const { cluster, sim, transitions, warnings } = await farm();
    await tick(sim);
    cluster.goDown();
    await vi.advanceTimersByTimeAsync(10);
    // Written while the watch is away (straight into the store behind the faulty server).
    const late = await cluster.memory.create('sessions', NS, { metadata: { name: 'late' }, spec: { poolRef: { name: 'smoke' } } });
    sim.expectWrite('sessions', late);
    let done = false;
    const ticking = sim.tick().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(3_000);
    expect(done).toBe(false);
    cluster.up();
    for (let i = 0; i < 300 && !done; i++) await vi.advanceTimersByTimeAsync(10);
    await ticking;
    expect(queued(transitions)).toEqual(['late']);
    expect(warnings.filter((w) => w.includes('has not caught up'))).toEqual([]);
    await sim.stop();
  });

  it('ticks on what it has, and says so, when a watch stays behind too long', async () => {
    const { cluster, sim, warnings } = await farm();
    await tick(sim);
    cluster.goDown();
    await vi.advanceTimersByTimeAsync(10);
    sim.expectWrite('sessions', await cluster.memory.create('sessions', NS, { metadata: { name: 'late' }, spec: { poolRef: { name: 'smoke' } } }));
    let done = false;
    const ticking = sim.tick().catch(() => {}).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(CATCH_UP_LIMIT_MS + 100);
    await ticking;
    expect(done).toBe(true);
    expect(warnings.filter((w) => w.includes('the watch of sessions has not caught up'))).toHaveLength(1);
    cluster.up();
    await sim.stop();
  });

  it('stop() ends a tick that waits for a first list that never comes', async () => {
    const { cluster, sim } = await farm();
    cluster.goDown();
    const ticking = sim.tick().catch(() => {});
    await vi.advanceTimersByTimeAsync(1_000);
    const stopping = sim.stop();
    await vi.advanceTimersByTimeAsync(10);
    await stopping;
    await ticking;
  });
});
