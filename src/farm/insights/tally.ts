// A tally: every figure of one span of time, from the facts of the sessions that did
// something in it. Tallies of disjoint spans merge into the tally of their union (counts
// add, samples concatenate, peaks take the max), which is what lets hourly buckets be
// tallied once and reused until one of their sessions changes (see history.ts).
import type { SessionPhase } from '../types.js';
import type { SessionFacts } from './facts.js';

export type FinalPhase = 'Succeeded' | 'Failed' | 'Cancelled' | 'TimedOut';
export const FINAL_PHASES: readonly FinalPhase[] = ['Succeeded', 'Failed', 'Cancelled', 'TimedOut'];
const FAILING = new Set<SessionPhase>(['Failed', 'TimedOut']);
/** Failed sessions kept per device and per reason, newest first: what the page links to. */
export const RECENT = 3;

export interface SessionRef {
  namespace: string;
  name: string;
  at: number;
}

export interface DeviceTally {
  /** Sessions that ended on the device, Cancelled ones not counted (the device did not decide those). */
  n: number;
  failed: number;
  recent: SessionRef[];
}

export interface Tally {
  created: number;
  started: number;
  finished: number;
  byPhase: Record<FinalPhase, number>;
  tests: { passed: number; run: number };
  /** Queue waits and run times (seconds) in chunks, one per tallied span: a merge adds chunks, never copies samples. */
  waits: Float64Array[];
  runs: Float64Array[];
  busyMs: number;
  peak: number;
  devices: Map<string, DeviceTally>;
  reasons: Map<string, { count: number; recent: SessionRef[] }>;
  /** Per suite label: sessions decided, failed, and the devices the failures happened on. */
  suites: Map<string, { n: number; failed: number; devices: Set<string> }>;
}

export function emptyTally(): Tally {
  return {
    created: 0,
    started: 0,
    finished: 0,
    byPhase: { Succeeded: 0, Failed: 0, Cancelled: 0, TimedOut: 0 },
    tests: { passed: 0, run: 0 },
    waits: [],
    runs: [],
    busyMs: 0,
    peak: 0,
    devices: new Map(),
    reasons: new Map(),
    suites: new Map(),
  };
}

const inSpan = (t: number | undefined, from: number, to: number): t is number => t !== undefined && t >= from && t < to;

/**
 * The tally of [from, to) from the facts of sessions with an event or a busy interval in
 * it. Busy intervals are clipped to the span; open ones (still holding their device) end
 * at `now`, or are left out when `now` is undefined (history.ts adds them itself). Each
 * event counts where it happened: creation, start, assignment, end.
 */
export function tallyOf(facts: Iterable<SessionFacts>, from: number, to: number, now: number | undefined): Tally {
  const t = emptyTally();
  const intervals: Array<[number, number]> = [];
  const waits: number[] = [];
  const runs: number[] = [];
  for (const f of facts) {
    if (inSpan(f.createdAt, from, to)) t.created++;
    if (inSpan(f.startedAt, from, to)) t.started++;
    if (inSpan(f.assignedAt, from, to) && f.waitSeconds !== undefined) waits.push(f.waitSeconds);
    if (f.busy && (f.busy.to !== undefined || now !== undefined)) {
      const a = Math.max(f.busy.from, from);
      const b = Math.min(f.busy.to ?? now!, to);
      if (b > a) intervals.push([a, b]);
    }
    if (f.finished && inSpan(f.endedAt, from, to)) ended(t, f, f.endedAt, runs);
  }
  if (waits.length) t.waits.push(Float64Array.from(waits));
  if (runs.length) t.runs.push(Float64Array.from(runs));
  for (const [a, b] of intervals) t.busyMs += b - a;
  t.peak = peakOf(intervals);
  return t;
}

function ended(t: Tally, f: SessionFacts, endedAt: number, runs: number[]): void {
  t.finished++;
  t.byPhase[f.phase as FinalPhase]++;
  if (f.tests) {
    t.tests.passed += f.tests.passed;
    t.tests.run += f.tests.run;
  }
  if (f.runSeconds !== undefined) runs.push(f.runSeconds);
  if (f.phase === 'Cancelled') return;
  const failed = FAILING.has(f.phase);
  const ref = { namespace: f.namespace, name: f.name, at: endedAt };
  if (f.device) {
    let d = t.devices.get(f.device);
    if (!d) t.devices.set(f.device, (d = { n: 0, failed: 0, recent: [] }));
    d.n++;
    if (failed) {
      d.failed++;
      d.recent = keepRecent(d.recent, [ref]);
    }
  }
  if (f.suite) {
    let s = t.suites.get(f.suite);
    if (!s) t.suites.set(f.suite, (s = { n: 0, failed: 0, devices: new Set() }));
    s.n++;
    if (failed) {
      s.failed++;
      if (f.device) s.devices.add(f.device);
    }
  }
  if (failed) {
    let r = t.reasons.get(f.reason);
    if (!r) t.reasons.set(f.reason, (r = { count: 0, recent: [] }));
    r.count++;
    r.recent = keepRecent(r.recent, [ref]);
  }
}

/** The samples of chunks as one array (to select percentiles in). */
export function flat(chunks: readonly Float64Array[]): Float64Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Float64Array(n);
  let i = 0;
  for (const c of chunks) {
    out.set(c, i);
    i += c.length;
  }
  return out;
}

/** The most devices busy at once among half-open intervals (one ending as another starts: not overlapping). */
export function peakOf(intervals: ReadonlyArray<readonly [number, number]>): number {
  if (intervals.length === 0) return 0;
  const edges: Array<[number, number]> = [];
  for (const [a, b] of intervals) edges.push([a, 1], [b, -1]);
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of edges) {
    now += d;
    if (now > peak) peak = now;
  }
  return peak;
}

/**
 * Adds `b` into `a` (spans must not overlap); returns `a`. `a` owns what it holds: entries
 * taken from `b` are copied before `a` changes them. `light` skips the per-device, per-reason
 * and per-suite figures (chart slots and verdicts do not read them).
 */
export function mergeInto(a: Tally, b: Tally, light = false): Tally {
  a.created += b.created;
  a.started += b.started;
  a.finished += b.finished;
  for (const p of FINAL_PHASES) a.byPhase[p] += b.byPhase[p];
  a.tests.passed += b.tests.passed;
  a.tests.run += b.tests.run;
  for (const w of b.waits) a.waits.push(w);
  for (const r of b.runs) a.runs.push(r);
  a.busyMs += b.busyMs;
  a.peak = Math.max(a.peak, b.peak);
  if (light) return a;
  for (const [name, d] of b.devices) {
    const x = a.devices.get(name);
    if (!x) a.devices.set(name, { n: d.n, failed: d.failed, recent: d.recent });
    else {
      x.n += d.n;
      x.failed += d.failed;
      if (d.recent.length) x.recent = keepRecent(x.recent, d.recent);
    }
  }
  for (const [reason, r] of b.reasons) {
    const x = a.reasons.get(reason);
    if (!x) a.reasons.set(reason, { count: r.count, recent: r.recent });
    else {
      x.count += r.count;
      x.recent = keepRecent(x.recent, r.recent);
    }
  }
  for (const [suite, s] of b.suites) {
    const x = a.suites.get(suite);
    if (!x) a.suites.set(suite, { n: s.n, failed: s.failed, devices: new Set(s.devices) });
    else {
      x.n += s.n;
      x.failed += s.failed;
      for (const d of s.devices) x.devices.add(d);
    }
  }
  return a;
}

function keepRecent(a: readonly SessionRef[], b: readonly SessionRef[]): SessionRef[] {
  return [...a, ...b].sort((x, y) => y.at - x.at || x.name.localeCompare(y.name)).slice(0, RECENT);
}
