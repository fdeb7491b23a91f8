// A device's last 24 hours as its page shows them (read at page load): what ran on it, how
// it ended, and its failure rate against the rest of its pool (src/farm/insights).
import type { DeviceHistory } from '../farm/insights/device-history.js';
import { duration } from '../farm/insights/verdict.js';
import { timeView } from './format.js';
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
    recent: h.recent.map((r) => ({ name: r.name, href: sessionHref(r.namespace, r.name), phase: r.phase, reason: r.reason, at: timeView(r.at, now), run: r.runSeconds === null ? '' : duration(r.runSeconds) })),
  };
}
