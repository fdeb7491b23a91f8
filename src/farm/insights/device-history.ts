// One device's last 24 hours for its page: the sessions that ended on it, their outcomes,
// its failure rate against the rest of its pool's (the suspect test is suspects.ts's), the
// Unhealthy episodes this dashboard saw (unhealthy-episodes.ts) and its last boot.
import type { DeviceView } from '../types.js';
import type { UnhealthyEpisode } from './unhealthy-episodes.js';
import type { PoolHistory } from './history.js';
import type { FarmInsightsReport } from './report.js';
import type { FinalPhase } from './tally.js';
import { HOUR_MS } from './window.js';

export interface DeviceHistory {
  sessions: number;
  byPhase: Record<FinalPhase, number>;
  /** Failed or TimedOut ÷ sessions the device decided (Cancelled ones not counted). */
  failureRate: number | null;
  poolFailureRate: number | null;
  suspect: { pValue: number } | null;
  recent: Array<{ namespace: string; name: string; phase: string; at: number; runSeconds: number | null; reason: string }>;
  coverage: FarmInsightsReport['coverage'];
  /** Seen by this dashboard since `since` (its start), newest first; `dropped`: older ones past the count bound. */
  unhealthy: { since: number; episodes: UnhealthyEpisode[]; dropped: number };
  /** The device's last boot as its pool's status keeps it (only the latest one). */
  boot: { startedAt: number; readyAt: number | undefined; seconds: number | null } | null;
}

/** `report`: the pool's 24-hour report (for its suspect devices and coverage). */
export function deviceHistoryOf(
  h: PoolHistory,
  report: FarmInsightsReport,
  pool: string,
  device: string,
  now: number,
  unhealthy: DeviceHistory['unhealthy'] = { since: now, episodes: [], dropped: 0 },
  current?: DeviceView,
): DeviceHistory {
  const from = now - 24 * HOUR_MS;
  const ended = h.endedOn(device, from, now);
  const byPhase: Record<FinalPhase, number> = { Succeeded: 0, Failed: 0, Cancelled: 0, TimedOut: 0 };
  for (const f of ended) byPhase[f.phase as FinalPhase]++;
  const decided = byPhase.Succeeded + byPhase.Failed + byPhase.TimedOut;
  const suspect = report.pools.find((x) => x.pool === pool)?.suspectDevices.find((d) => d.device === device);
  let poolN = 0;
  let poolFailed = 0;
  for (const [name, d] of h.tally(from, now, now).devices) {
    if (name === device) continue;
    poolN += d.n;
    poolFailed += d.failed;
  }
  return {
    sessions: ended.length,
    byPhase,
    failureRate: decided ? (byPhase.Failed + byPhase.TimedOut) / decided : null,
    poolFailureRate: poolN ? poolFailed / poolN : null,
    suspect: suspect ? { pValue: suspect.pValue } : null,
    recent: ended.slice(0, 10).map((f) => ({ namespace: f.namespace, name: f.name, phase: f.phase, at: f.endedAt!, runSeconds: f.runSeconds ?? null, reason: f.reason })),
    coverage: report.coverage,
    unhealthy,
    boot: current?.bootStartedAt === undefined ? null : { startedAt: current.bootStartedAt, ...bootOf(current.bootStartedAt, current.readyAt) },
  };
}

/** A readyAt before bootStartedAt belongs to the boot before: this one is still going. */
function bootOf(startedAt: number, readyAt: number | undefined): { readyAt: number | undefined; seconds: number | null } {
  return readyAt === undefined || readyAt < startedAt ? { readyAt: undefined, seconds: null } : { readyAt, seconds: (readyAt - startedAt) / 1000 };
}
