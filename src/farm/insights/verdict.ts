// A pool's bottleneck verdict, said plainly with its evidence. The pool is a bottleneck when
// sessions wait with no device idle and the wait is past the SLO (the oldest waiting
// session, or the last hour's p95). The estimate of the devices that would be enough comes
// from the M/M/c model (erlang.ts) fed with the last hour's arrival rate and mean run time.
import { devicesFor, waitQuantile } from './erlang.js';

/** Queue wait the farm aims to keep its p95 under. */
export const QUEUE_WAIT_SLO_SECONDS = 120;

export interface VerdictInput {
  pool: string;
  /** Devices that can take sessions (every device but the Unhealthy ones). */
  devices: number;
  idle: number;
  waiting: number;
  oldestWaitSeconds: number | null;
  /** p95 queue wait of the last hour. */
  p95WaitSeconds: number | null;
  /** Sessions created in the last hour. */
  arrivalsLastHour: number;
  meanRunSeconds: number | null;
}

export interface Verdict {
  status: 'bottleneck' | 'healthy';
  summary: string;
  evidence: {
    waiting: number;
    idle: number;
    devices: number;
    oldestWaitSeconds: number | null;
    p95WaitSeconds: number | null;
    arrivalsPerHour: number;
    meanRunSeconds: number | null;
    /** The p95 wait (seconds) the model expects with today's devices; -1: the queue grows without bound; null: no estimate (no arrivals or no run time). */
    modelP95WaitSeconds: number | null;
    /** Devices that would keep the modelled p95 wait under the SLO. */
    devicesNeeded: number | null;
    sloSeconds: number;
  };
}

export function verdictOf(v: VerdictInput, slo = QUEUE_WAIT_SLO_SECONDS): Verdict {
  const lambda = v.arrivalsLastHour / 3600;
  const mu = v.meanRunSeconds ? 1 / v.meanRunSeconds : 0;
  let model: number | null = null;
  let needed: number | null = null;
  if (lambda > 0 && mu > 0) {
    const q = waitQuantile(v.devices, lambda, mu, 0.95);
    model = Number.isFinite(q) ? Math.round(q) : -1;
    needed = devicesFor(lambda, mu, 0.95, slo);
  }
  const overSlo = (v.oldestWaitSeconds ?? 0) > slo || (v.p95WaitSeconds ?? 0) > slo;
  const status = v.waiting > 0 && v.idle === 0 && overSlo ? 'bottleneck' : 'healthy';
  const evidence = {
    waiting: v.waiting,
    idle: v.idle,
    devices: v.devices,
    oldestWaitSeconds: v.oldestWaitSeconds,
    p95WaitSeconds: v.p95WaitSeconds,
    arrivalsPerHour: v.arrivalsLastHour,
    meanRunSeconds: v.meanRunSeconds,
    modelP95WaitSeconds: model,
    devicesNeeded: needed,
    sloSeconds: slo,
  };
  return { status, summary: status === 'healthy' ? 'healthy' : bottleneckSummary(v, needed, slo), evidence };
}

function bottleneckSummary(v: VerdictInput, needed: number | null, slo: number): string {
  const parts = [`${v.waiting} ${v.waiting === 1 ? 'session' : 'sessions'} waiting, ${v.idle} idle`];
  if (v.oldestWaitSeconds !== null) parts[0] += `, oldest waiting ${duration(v.oldestWaitSeconds)}`;
  if (v.p95WaitSeconds !== null) parts.push(`p95 wait ${duration(v.p95WaitSeconds)} in the last hour`);
  if (needed !== null && v.meanRunSeconds !== null) {
    parts.push(`at ${v.arrivalsLastHour} arrivals/h and ${duration(v.meanRunSeconds)} mean run time, ~${needed} devices would keep p95 wait under ${duration(slo)} (${v.devices} now)`);
  }
  return `${v.pool}: ${parts.join('; ')}`;
}

/** 95 → "1.6 min", 40 → "40 s", 7200 → "2.0 h". */
export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
