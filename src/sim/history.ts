// A day of finished sessions for the embedded demo, written on start so /insights has
// history from the first minute: each pool's queue is played out (arrivals, a device each,
// run times), with one flaky device, one suite that fails everywhere (the app's fault),
// and bursts that make the tablets pool a bottleneck at times — and a queue waiting now.
import type { Cluster } from '../kube/types.js';
import { between, logNormal, streamFor, type Random } from './random.js';

export interface HistoryPool {
  name: string;
  replicas: number;
  /** Sessions per hour outside bursts. */
  perHour: number;
  meanRunMs: number;
  /** [hours ago from, hours ago to, sessions per hour]. */
  bursts?: ReadonlyArray<readonly [number, number, number]>;
  /** Sessions already waiting (created minutes ago) when the demo starts. */
  waitingNow?: number;
}

export interface HistoryOptions {
  cluster: Cluster;
  namespace: string;
  seed: number;
  now: number;
  pools: readonly HistoryPool[];
  /** Sets the in-memory cluster's clock, so creationTimestamps lie in the past; undefined: back to real time. */
  setClock: (at: number | undefined) => void;
  /** The device whose sessions fail far more than its pool's others. */
  flakyDevice: string;
  hours?: number;
}

const SUITES = ['nightly', 'smoke', 'checkout', 'payments', 'search'];
/** The suite whose tests fail on every device: the app's fault, not the farm's. */
const BROKEN_SUITE = 'payments';
const HOUR = 3_600_000;

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Planned {
  pool: string;
  createdAt: number;
  device: string | undefined;
  assignedAt: number;
  completedAt: number;
  suite: string;
}

/** Plans then writes the history; returns how many sessions it wrote. */
export async function backfillHistory(o: HistoryOptions): Promise<number> {
  const planned: Planned[] = [];
  for (const pool of o.pools) planned.push(...planPool(o, pool, streamFor(o.seed, 'history', pool.name)));
  planned.sort((a, b) => a.createdAt - b.createdAt);
  const random = streamFor(o.seed, 'history', 'outcomes');
  let n = 0;
  try {
    for (const p of planned) {
      o.setClock(p.createdAt);
      const created = await o.cluster.create('sessions', o.namespace, {
        metadata: { generateName: `${p.pool}-${p.suite}-`, namespace: o.namespace, labels: { 'droidfarm.io/history': 'true', 'droidfarm.io/suite': p.suite } },
        spec: { poolRef: { name: p.pool }, timeoutSeconds: 1800 },
      });
      n++;
      const status = p.device ? finishedStatus(o, p, random) : p.completedAt ? cancelledStatus(p) : undefined;
      if (status) await o.cluster.patch('sessions', o.namespace, created.metadata.name, { status }, { subresource: 'status' });
    }
  } finally {
    o.setClock(undefined);
  }
  return n;
}

function planPool(o: HistoryOptions, pool: HistoryPool, random: Random): Planned[] {
  const hours = o.hours ?? 24;
  const start = o.now - hours * HOUR;
  const end = o.now - 10 * 60_000;
  const freeAt = Array.from({ length: pool.replicas }, () => start);
  const out: Planned[] = [];
  let t = start;
  for (;;) {
    const ago = (o.now - t) / HOUR;
    const burst = pool.bursts?.find(([from, to]) => ago <= from && ago >= to);
    const perHour = burst ? burst[2] : pool.perHour;
    t += Math.max(1000, Math.round(-Math.log(1 - random()) * (HOUR / perHour)));
    if (t >= end) break;
    const suite = SUITES[between(random, 0, SUITES.length - 1)]!;
    if (random() < 0.02) {
      // Cancelled while waiting: no device.
      out.push({ pool: pool.name, createdAt: t, device: undefined, assignedAt: 0, completedAt: t + between(random, 20, 120) * 1000, suite });
      continue;
    }
    let d = 0;
    for (let i = 1; i < freeAt.length; i++) if (freeAt[i]! < freeAt[d]!) d = i;
    const assignedAt = Math.max(t, freeAt[d]!) + 2000;
    const completedAt = assignedAt + logNormal(random, pool.meanRunMs, 0.45);
    if (completedAt >= o.now - 60_000) continue; // would still be running: the live simulator owns the present
    freeAt[d] = completedAt + 1000;
    out.push({ pool: pool.name, createdAt: t, device: `${pool.name}-${d}`, assignedAt, completedAt, suite });
  }
  for (let i = 0; i < (pool.waitingNow ?? 0); i++) {
    out.push({ pool: pool.name, createdAt: o.now - (9 - i * 0.7) * 60_000, device: undefined, assignedAt: 0, completedAt: 0, suite: 'nightly' });
  }
  return out;
}

function finishedStatus(o: HistoryOptions, p: Planned, random: Random): Record<string, unknown> {
  const flaky = p.device === o.flakyDevice;
  const roll = random();
  const failP = flaky ? 0.65 : p.suite === BROKEN_SUITE ? 0.7 : 0.08;
  const phase = roll < failP ? 'Failed' : roll < failP + 0.03 ? 'TimedOut' : 'Succeeded';
  const total = between(random, 12, 80);
  const failed = phase === 'Failed' ? between(random, 1, 4) : 0;
  const run = phase === 'TimedOut' ? Math.floor(total * random()) : total;
  const reason =
    phase === 'Succeeded' ? 'TestsPassed' : phase === 'TimedOut' ? 'Timeout' : flaky && random() < 0.7 ? (random() < 0.5 ? 'InstrumentationCrashed' : 'DeviceDisconnected') : 'TestsFailed';
  return {
    phase,
    device: { name: p.device },
    podName: `${p.device}-runner`,
    assignedAt: iso(p.assignedAt),
    startTime: iso(p.assignedAt + 1000),
    completionTime: iso(p.completedAt),
    progress: { completed: run, total },
    results: { passed: run - failed, failed, skipped: total - run },
    reason,
    message: phase === 'Succeeded' ? `${run - failed} tests passed` : phase === 'TimedOut' ? 'The session ran past its timeout.' : `${failed} of ${run} tests failed`,
  };
}

function cancelledStatus(p: Planned): Record<string, unknown> {
  return { phase: 'Cancelled', completionTime: iso(p.completedAt), reason: 'CancelRequested', message: 'Cancelled while waiting for a device.' };
}
