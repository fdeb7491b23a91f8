// Insights bench (issue 13): 50,000 finished TestSessions over 7 days in 5 pools of 40
// devices, fed to the store as the watches would. Measured in one process, with the
// production template cache:
// - GET /insights (app.inject) p50 for 24 h and 7 d, with the report cached (no change in
//   between) and right after a session change (the report rebuilt from the hourly tallies);
// - the cost of one session change: to the insights alone (a FarmStore whose only
//   subscriber is FarmInsights), and to the whole dashboard store (every subscriber: the
//   attention strip, session lists, metrics, insights, the broker's marking).
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { FarmInsights } from '../../src/farm/insights/insights.js';
import { FarmStore } from '../../src/farm/store.js';
import type { SessionView } from '../../src/farm/types.js';
import { MemoryCluster } from '../../src/kube/memory-cluster.js';
import { toPoolView, toSessionView } from '../../src/kube/slim.js';
import { mulberry32 } from '../../src/sim/random.js';
import { summarise, type Summary } from './stats.js';

export interface InsightsOptions {
  sessions: number;
  renders: number;
  changes: number;
  log: (line: string) => void;
}

export interface InsightsResult {
  sessions: number;
  pools: number;
  bytes: number;
  render: Record<'24h cached' | '7d cached' | '24h after a change' | '7d after a change', Summary>;
  /** CPU time of the process per render (user + system): what a loaded machine does not inflate. */
  renderCpu: Record<'24h cached' | '7d cached' | '24h after a change' | '7d after a change', Summary>;
  changeInsightsUs: Summary;
  changeStoreUs: Summary;
}

const NS = 'bench';
const POOLS = 5;
const DEVICES = 40;
const HOUR = 3_600_000;
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

function poolView(i: number) {
  return toPoolView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'DevicePool',
    metadata: { name: `pool-${i}`, namespace: NS, uid: `pool-${i}`, resourceVersion: '1', generation: 1 },
    spec: { templateRef: { name: 'pixel' }, replicas: DEVICES },
    status: { observedGeneration: 1, devices: Array.from({ length: DEVICES }, (_, d) => ({ name: `pool-${i}-${d}`, state: d % 4 === 0 ? 'Busy' : 'Idle', bootStartedAt: iso(Date.now() - HOUR), readyAt: iso(Date.now() - HOUR + 40_000) })) },
  });
}

let rv = 0;
function session(name: string, pool: number, createdAt: number, status: Record<string, unknown>, labels: Record<string, string> = {}): SessionView {
  return toSessionView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'TestSession',
    metadata: { name, namespace: NS, uid: name, resourceVersion: String(++rv), creationTimestamp: iso(createdAt), labels },
    spec: { poolRef: { name: `pool-${pool}` } },
    status,
  });
}

/** A week of finished sessions, evenly spread, each on a device of its pool. */
function history(n: number, now: number): SessionView[] {
  const random = mulberry32(13);
  const out: SessionView[] = [];
  const span = 7 * 24 * HOUR - 2 * HOUR;
  for (let i = 0; i < n; i++) {
    const pool = i % POOLS;
    const created = now - 7 * 24 * HOUR + Math.floor((i / n) * span);
    const assigned = created + Math.floor(random() * 120_000);
    const done = assigned + 60_000 + Math.floor(random() * 20 * 60_000);
    const roll = random();
    const phase = roll < 0.85 ? 'Succeeded' : roll < 0.95 ? 'Failed' : roll < 0.98 ? 'TimedOut' : 'Cancelled';
    out.push(
      session(`s-${i}`, pool, created, {
        phase,
        device: { name: `pool-${pool}-${Math.floor(random() * DEVICES)}` },
        assignedAt: iso(assigned),
        startTime: iso(assigned + 1000),
        completionTime: iso(done),
        results: { passed: 30, failed: phase === 'Failed' ? 2 : 0, skipped: 1 },
        reason: phase === 'Succeeded' ? 'TestsPassed' : phase === 'Failed' ? 'TestsFailed' : phase,
      }, { 'droidfarm.io/suite': ['nightly', 'smoke', 'checkout'][i % 3]! }),
    );
  }
  return out;
}

/** The i-th change of a realistic mix: a new session, it starting, progress ticks, it finishing. */
function change(i: number, now: number): SessionView {
  const n = Math.floor(i / 6);
  const pool = n % POOLS;
  const name = `live-${n}`;
  const created = now - 60_000;
  const step = i % 6;
  if (step === 0) return session(name, pool, created, {});
  const running = { phase: 'Running', device: { name: `pool-${pool}-${n % DEVICES}` }, assignedAt: iso(created + 5000), startTime: iso(created + 6000) };
  if (step < 5) return session(name, pool, created, { ...running, progress: { completed: step, total: 10 } });
  return session(name, pool, created, { ...running, phase: 'Succeeded', completionTime: iso(now - 1000), results: { passed: 10, failed: 0, skipped: 0 } });
}

export async function runInsights(o: InsightsOptions): Promise<InsightsResult> {
  const now = Date.now();
  const sessions = history(o.sessions, now);

  // 1. One change to the insights alone.
  const bare = new FarmStore();
  for (let i = 0; i < POOLS; i++) bare.applyPool('added', poolView(i));
  for (const s of sessions) bare.applySession('added', s);
  new FarmInsights(bare);
  const insightsTimes: number[] = [];
  for (let i = 0; i < o.changes; i++) {
    const s = change(i, now);
    const t = performance.now();
    bare.applySession(bare.getSession(NS, s.name) ? 'modified' : 'added', s);
    insightsTimes.push((performance.now() - t) * 1000);
  }

  // 2. The dashboard: its store fed as the watches would, pages rendered by app.inject.
  const app = await buildApp(loadConfig({ argv: ['--demo', '--log-level', 'silent'], env: { NODE_ENV: 'production' } })!, { cluster: new MemoryCluster() });
  await app.ready();
  try {
    const store = app.farm.store;
    for (let i = 0; i < POOLS; i++) store.applyPool('added', poolView(i));
    for (const s of sessions) store.applySession('added', s);
    store.setSync({ synced: true, stale: false, detail: [] });
    const get = async (window: string) => {
      const cpu = process.cpuUsage();
      const t = performance.now();
      const res = await app.inject({ method: 'GET', url: `/insights?window=${window}` });
      if (res.statusCode !== 200) throw new Error(`GET /insights?window=${window} answered ${res.statusCode}`);
      const used = process.cpuUsage(cpu);
      return { ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000, bytes: res.rawPayload.length };
    };
    let bytes = 0;
    for (let i = 0; i < 10; i++) bytes = (await get('24h')).bytes + 0 * (await get('7d')).bytes;
    const render: Partial<InsightsResult['render']> = {};
    const renderCpu: Partial<InsightsResult['renderCpu']> = {};
    for (const window of ['24h', '7d'] as const) {
      const cached: number[] = [];
      const cachedCpu: number[] = [];
      for (let i = 0; i < o.renders; i++) {
        const r = await get(window);
        cached.push(r.ms);
        cachedCpu.push(r.cpuMs);
      }
      render[`${window} cached`] = summarise(cached);
      renderCpu[`${window} cached`] = summarise(cachedCpu);
      const changed: number[] = [];
      const changedCpu: number[] = [];
      for (let i = 0; i < o.renders; i++) {
        // A new session that just finished, in one of the pools: every render after a new change.
        const s = change((window === '24h' ? 1_000_000 : 3_000_000) + i * 6 + 5, now);
        store.applySession(store.getSession(NS, s.name) ? 'modified' : 'added', s);
        const r = await get(window);
        changed.push(r.ms);
        changedCpu.push(r.cpuMs);
      }
      render[`${window} after a change`] = summarise(changed);
      renderCpu[`${window} after a change`] = summarise(changedCpu);
    }
    const storeTimes: number[] = [];
    for (let i = 0; i < o.changes; i++) {
      const s = change(2_000_000 + i, now);
      const t = performance.now();
      store.applySession(store.getSession(NS, s.name) ? 'modified' : 'added', s);
      storeTimes.push((performance.now() - t) * 1000);
    }
    o.log(`  /insights 7d after a change p50 ${render['7d after a change']!.p50.toFixed(1)} ms; one change to the insights p50 ${summarise(insightsTimes).p50.toFixed(1)} µs`);
    return {
      sessions: o.sessions,
      pools: POOLS,
      bytes,
      render: render as InsightsResult['render'],
      renderCpu: renderCpu as InsightsResult['renderCpu'],
      changeInsightsUs: summarise(insightsTimes),
      changeStoreUs: summarise(storeTimes),
    };
  } finally {
    await app.close();
  }
}
