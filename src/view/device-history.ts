// A device's last 24 hours as its page shows them (read at page load): what ran on it, how
// it ended, its failure rate against the rest of its pool, the Unhealthy episodes this
// dashboard saw and its last boot (src/farm/insights).
import type { DeviceHistory } from '../farm/insights/device-history.js';
import { duration } from '../farm/insights/verdict.js';
import { formatDuration, timeView } from './format.js';
import { sessionHref } from './links.js';
import { percent } from './insights-charts.js';

export function deviceHistoryView(h: DeviceHistory, now: number) {
  return {
    sessions: h.sessions,
    byPhase: h.byPhase,
    failureRate: percent(h.failureRate),
    poolFailureRate: percent(h.poolFailureRate),
    suspect: h.suspect ? { p: h.suspect.pValue < 0.0001 ? '< 0.0001' : `= ${h.suspect.pValue.toFixed(4)}` } : null,
    coverageNote: h.coverage.complete || h.coverage.oldestSession === null ? '' : `The cluster holds sessions for the last ${duration(Math.max(0, now - h.coverage.oldestSession) / 1000)} only.`,
    unhealthy: unhealthyView(h.unhealthy, now),
    boot: h.boot && { started: timeView(h.boot.startedAt, now), ready: timeView(h.boot.readyAt, now), took: h.boot.seconds === null ? 'still booting' : `ready in ${formatDuration(h.boot.seconds * 1000)}` },
    recent: h.recent.map((r) => ({ name: r.name, href: sessionHref(r.namespace, r.name), phase: r.phase, reason: r.reason, at: timeView(r.at, now), run: r.runSeconds === null ? '' : duration(r.runSeconds) })),
  };
}

/** The episodes as rows, and the sentence that says whose memory they come from. */
export function unhealthyView(u: DeviceHistory['unhealthy'], now: number) {
  const n = u.episodes.length;
  return {
    since: timeView(u.since, now),
    summary: n === 0 ? 'No Unhealthy episode' : `${n} Unhealthy ${n === 1 ? 'episode' : 'episodes'}${u.episodes[0]!.end === undefined ? ' (one goes on now)' : ''}`,
    dropped: u.dropped ? `Only the newest ${n} are kept: ${u.dropped} older ${u.dropped === 1 ? 'one was' : 'ones were'} dropped.` : '',
    episodes: u.episodes.map((e) => ({
      start: timeView(e.start, now),
      /** Seen at the dashboard's first look: it may have begun earlier. */
      startNote: e.startSeen ? '' : 'already Unhealthy when first seen',
      end: timeView(e.end, now),
      ongoing: e.end === undefined,
      duration: formatDuration((e.end ?? now) - e.start) || '0s',
      endedAs: e.endedAs === 'removed' ? 'removed from the pool' : e.endedAs ? `then ${e.endedAs}` : '',
      reason: e.reason,
    })),
  };
}
