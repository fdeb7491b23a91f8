// The insights of a window as people and scripts read them: per pool, per template and for
// the whole farm, from tallies (history.ts) and the pools' devices as they are now.
import type { DeviceView } from '../types.js';
import { percentile, selectPercentile, spread } from './percentile.js';
import { likelyApp, suspectDevices, type LikelyApp, type SuspectDevice } from './suspects.js';
import { flat, type FinalPhase, type SessionRef, type Tally } from './tally.js';
import type { Verdict } from './verdict.js';
import type { WindowName } from './window.js';

export interface Figures {
  sessions: Record<FinalPhase, number> & { created: number; started: number; finished: number; waiting: number; running: number };
  /** Succeeded ÷ finished. */
  passRate: number | null;
  /** Tests passed ÷ tests run (passed + failed) from the sessions' results. */
  testsPassRate: number | null;
  queueWaitSeconds: { p50: number | null; p95: number | null; max: number | null };
  runSeconds: { p50: number | null; p95: number | null };
  /** Busy device-seconds ÷ available device-seconds over the covered part of the window. */
  utilisation: number | null;
  peakBusy: number;
  devices: number;
  bootSeconds: { p50: number | null; p95: number | null };
  unhealthyShare: number | null;
  topFailureReasons: Array<{ reason: string; count: number; sessions: SessionRef[] }>;
}

export interface Slot {
  from: number;
  to: number;
  byPhase: Record<FinalPhase, number>;
  p95WaitSeconds: number | null;
  utilisation: number | null;
  peakBusy: number;
}

export interface PoolInsights extends Figures {
  namespace: string;
  pool: string;
  template: string;
  bottleneck: Verdict | null;
  verdict: Verdict;
  suspectDevices: SuspectDevice[];
  likelyApp: LikelyApp[];
  series: Slot[];
}

export interface FarmInsightsReport {
  window: WindowName;
  from: number;
  to: number;
  /** The oldest session the window could see, and whether the cluster keeps the whole window. */
  coverage: { oldestSession: number | null; complete: boolean };
  farm: Figures & { bottlenecks: number; suspectDevices: number; series: Slot[] };
  templates: Array<{ template: string; pools: number } & Pick<Figures, 'sessions' | 'passRate' | 'queueWaitSeconds' | 'runSeconds' | 'utilisation'>>;
  pools: PoolInsights[];
}

const TOP_REASONS = 5;

/** Figures from a tally over [from, to) and the devices of the pools it covers. */
export function figuresOf(
  t: Tally,
  devices: readonly DeviceView[],
  poolSize: number,
  window: { from: number; to: number },
  /** The part of the window the cluster's sessions cover: what utilisation divides by. */
  span: { from: number; to: number },
  live: { waiting: number; running: number },
): Figures {
  const waits = spread(flat(t.waits));
  const runs = spread(flat(t.runs));
  const available = poolSize * Math.max(0, span.to - span.from);
  const boots = devices
    .filter((d) => d.bootStartedAt !== undefined && d.readyAt !== undefined && d.readyAt >= d.bootStartedAt && d.readyAt >= window.from && d.readyAt <= window.to)
    .map((d) => (d.readyAt! - d.bootStartedAt!) / 1000)
    .sort((a, b) => a - b);
  return {
    sessions: { created: t.created, started: t.started, finished: t.finished, ...t.byPhase, waiting: live.waiting, running: live.running },
    passRate: t.finished ? t.byPhase.Succeeded / t.finished : null,
    testsPassRate: t.tests.run ? t.tests.passed / t.tests.run : null,
    queueWaitSeconds: waits,
    runSeconds: { p50: runs.p50, p95: runs.p95 },
    utilisation: available > 0 ? Math.min(1, t.busyMs / available) : null,
    peakBusy: t.peak,
    devices: poolSize,
    bootSeconds: { p50: percentile(boots, 50), p95: percentile(boots, 95) },
    unhealthyShare: devices.length ? devices.filter((d) => d.state === 'Unhealthy').length / devices.length : null,
    topFailureReasons: [...t.reasons]
      .map(([reason, r]) => ({ reason, count: r.count, sessions: r.recent }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
      .slice(0, TOP_REASONS),
  };
}

/** A chart slot; utilisation divides by the part of the slot the cluster's sessions cover. */
export function slotOf(t: Tally, poolSize: number, span: { from: number; to: number }, covered: { from: number; to: number }): Slot {
  const available = poolSize * Math.max(0, Math.min(span.to, covered.to) - Math.max(span.from, covered.from));
  return {
    from: span.from,
    to: span.to,
    byPhase: { ...t.byPhase },
    p95WaitSeconds: selectPercentile(flat(t.waits), 95),
    utilisation: available > 0 ? Math.min(1, t.busyMs / available) : null,
    peakBusy: t.peak,
  };
}

export function poolExtras(t: Tally): { suspectDevices: SuspectDevice[]; likelyApp: LikelyApp[] } {
  return { suspectDevices: suspectDevices(t), likelyApp: likelyApp(t) };
}
