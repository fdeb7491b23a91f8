// One TestSession as a row of the session list: what an operator scans for (phase, device,
// progress, results, how long it ran), with the links to follow it further.
import type { SessionView } from '../farm/types.js';
import { formatDuration, timeView, type TimeView } from './format.js';
import { deviceHref, poolHref, sessionHref } from './links.js';
import { domId } from './dom-id.js';
import { progressView, type ProgressView } from './progress.js';

export interface SessionRow {
  id: string;
  name: string;
  namespace: string;
  href: string;
  pool: string;
  poolHref: string;
  phase: string;
  reason: string;
  device: string;
  deviceHref: string;
  progress: ProgressView | undefined;
  results: { passed: number; failed: number; skipped: number } | undefined;
  duration: string;
  created: TimeView | undefined;
}

/** The element id of a session's row, in every list that shows it. */
export const sessionRowId = (s: Pick<SessionView, 'namespace' | 'name'>): string => domId('session-row', s.namespace, s.name);

export function sessionRow(s: SessionView, now: number): SessionRow {
  const device = s.device?.name ?? '';
  const progress = progressView(s.progress);
  return {
    id: sessionRowId(s),
    name: s.name,
    namespace: s.namespace,
    href: sessionHref(s.namespace, s.name),
    pool: s.spec.poolName,
    poolHref: poolHref(s.namespace, s.spec.poolName),
    phase: s.phase,
    reason: s.reason,
    device,
    deviceHref: device ? deviceHref(s.namespace, s.spec.poolName, device) : '',
    progress,
    results: s.results,
    // Running: so far; finished: start to completion; not started: nothing to say.
    duration: s.startedAt === undefined ? '' : formatDuration((s.completedAt ?? now) - s.startedAt),
    created: timeView(s.createdAt, now),
  };
}
