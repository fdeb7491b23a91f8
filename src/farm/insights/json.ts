// The insights report as the JSON API returns it: times as RFC 3339, failed sessions with
// their page's path. Field names are documented in the README (GET /api/v1/insights).
import type { FarmInsightsReport, PoolInsights, Slot } from './report.js';
import type { SessionRef } from './tally.js';
import type { DeviceHistory } from './device-history.js';

const iso = (t: number | null | undefined): string | null => (t === null || t === undefined ? null : new Date(t).toISOString());
const sessionPath = (r: Pick<SessionRef, 'namespace' | 'name'>) => `/sessions/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}`;
const refJSON = (r: SessionRef) => ({ namespace: r.namespace, name: r.name, finishedAt: iso(r.at), href: sessionPath(r) });
const slotJSON = (s: Slot) => ({ from: iso(s.from), to: iso(s.to), sessions: s.byPhase, p95WaitSeconds: s.p95WaitSeconds, utilisation: s.utilisation, peakBusy: s.peakBusy });

function poolJSON(p: PoolInsights) {
  const { verdict: _verdict, series, suspectDevices, topFailureReasons, ...rest } = p;
  return {
    ...rest,
    topFailureReasons: topFailureReasons.map((r) => ({ ...r, sessions: r.sessions.map(refJSON) })),
    suspectDevices: suspectDevices.map((d) => ({ ...d, recentFailures: d.recentFailures.map(refJSON) })),
    series: series.map(slotJSON),
  };
}

export function insightsJSON(r: FarmInsightsReport) {
  const { series, topFailureReasons, ...farm } = r.farm;
  return {
    window: r.window,
    from: iso(r.from),
    to: iso(r.to),
    coverage: { oldestSession: iso(r.coverage.oldestSession), complete: r.coverage.complete },
    farm: { ...farm, topFailureReasons: topFailureReasons.map((x) => ({ ...x, sessions: x.sessions.map(refJSON) })), series: series.map(slotJSON) },
    templates: r.templates,
    pools: r.pools.map(poolJSON),
  };
}

/** One device's last 24 hours (GET /api/v1/pools/:namespace/:name/devices/:device, `history`). */
export function deviceHistoryJSON(h: DeviceHistory, now: number) {
  return {
    window: '24h',
    sessions: h.sessions,
    byPhase: h.byPhase,
    failureRate: h.failureRate,
    poolFailureRate: h.poolFailureRate,
    suspect: h.suspect,
    recent: h.recent.map((r) => ({ namespace: r.namespace, name: r.name, phase: r.phase, reason: r.reason || null, finishedAt: iso(r.at), runSeconds: r.runSeconds, href: sessionPath(r) })),
    lastBoot: h.boot && { bootStartedAt: iso(h.boot.startedAt), readyAt: iso(h.boot.readyAt), seconds: h.boot.seconds },
    // What this dashboard saw, not what the cluster holds: gone after a restart.
    unhealthyEpisodes: {
      seenSince: iso(h.unhealthy.since),
      dropped: h.unhealthy.dropped,
      items: h.unhealthy.episodes.map((e) => ({
        start: iso(e.start),
        startSeen: e.startSeen,
        end: iso(e.end),
        ongoing: e.end === undefined,
        seconds: Math.max(0, (e.end ?? now) - e.start) / 1000,
        endedAs: e.endedAs ?? null,
        reason: e.reason || null,
      })),
    },
  };
}
