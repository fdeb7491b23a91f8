// What the session page shows below its title, from the store alone: phase and progress,
// the device and its stream, times, artifacts (links only when the link policy allows),
// a timeline joining phase changes with the Events of the session and its pod, and, for a
// Pending session, why it is still waiting.
import type { FarmStore } from '../farm/store.js';
import { FINISHED_PHASES, type SessionView } from '../farm/types.js';
import { formatBytes, formatDuration, timeView, type TimeView } from './format.js';
import { checkLink, checkURL, type UrlPolicy, type UrlVerdict } from './url-policy.js';
import { sessionHref } from './links.js';
import { progressView } from './progress.js';

export interface TimelineEntry {
  at: TimeView | undefined;
  type: 'phase' | 'Normal' | 'Warning';
  reason: string;
  message: string;
  source: string;
}

export interface PendingReason {
  poolExists: boolean;
  /** 1-based place among the pool's Pending sessions, oldest first. */
  position: number;
  queued: number;
  idle: number;
  booting: number;
  unhealthy: number;
}

export interface SessionDetailData {
  namespace: string;
  name: string;
  exists: boolean;
  [key: string]: unknown;
}

/** The buttons a session offers now, with where they post and what they ask first. */
export interface SessionActionsView {
  stop?: { href: string; confirm: string };
  retry?: { href: string };
  delete?: { href: string; confirm: string };
}

function sessionActions(s: SessionView, finished: boolean): SessionActionsView {
  const base = sessionHref(s.namespace, s.name);
  return {
    ...(!finished && !s.spec.cancelRequested ? { stop: { href: `${base}/cancel`, confirm: `Stop TestSession ${s.name}? Its test run is ended and the session ends as Cancelled.` } } : {}),
    ...(finished ? { retry: { href: `${base}/retry` } } : {}),
    ...(finished ? { delete: { href: `${base}/delete`, confirm: `Delete TestSession ${s.name}? Its record and status are removed from the cluster.` } } : {}),
  };
}

/** A Pending session's estimated wait, from its pool's recent throughput (src/farm/insights). */
export type QueueEta = (namespace: string, pool: string, session: string, now: number) => { estimatedWaitSeconds: number | null; finishedLastHour: number } | undefined;

export function sessionDetailData(store: FarmStore, policy: UrlPolicy, namespace: string, name: string, now: number, eta?: QueueEta): SessionDetailData {
  const s = store.getSession(namespace, name);
  if (!s) return { namespace, name, exists: false };
  const finished = FINISHED_PHASES.has(s.phase);
  const pool = store.getPool(namespace, s.spec.poolName);
  const device = s.device && pool?.devices.find((d) => d.name === s.device!.name);
  return {
    namespace,
    name,
    exists: true,
    phase: s.phase,
    finished,
    reason: s.reason,
    message: s.message,
    cancelRequested: s.spec.cancelRequested,
    actions: sessionActions(s, finished),
    retryOf: s.retryOf ? { name: s.retryOf, href: sessionHref(namespace, s.retryOf) } : undefined,
    progress: progressView(s.progress),
    results: s.results,
    poolName: s.spec.poolName,
    poolExists: pool !== undefined,
    device: s.device && { name: s.device.name, state: device?.state ?? '', stream: checkURL(s.device.streamURL, policy), appiumURL: s.device.appiumURL },
    podName: s.podName,
    times: [
      ['Created', s.createdAt],
      ['Assigned', s.assignedAt],
      ['Started', s.startedAt],
      ['Completed', s.completedAt],
    ].map(([label, at]) => ({ label, at: timeView(at as number | undefined, now) })),
    duration: s.startedAt === undefined ? '' : formatDuration((s.completedAt ?? now) - s.startedAt),
    timeout: formatDuration(s.spec.timeoutSeconds * 1000),
    apps: s.spec.apps,
    runner: s.spec.runner,
    labels: Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)),
    artifacts: s.artifacts.map((a) => ({ name: a.name, kind: a.kind, size: formatBytes(a.sizeBytes), link: checkLink(a.url, policy) satisfies UrlVerdict, url: a.url })),
    timeline: timeline(store, s, now),
    pending: s.phase === 'Pending' ? pendingReason(store, s) : undefined,
    eta: s.phase === 'Pending' ? etaView(eta?.(namespace, s.spec.poolName, name, now)) : undefined,
  };
}

function timeline(store: FarmStore, s: SessionView, now: number): TimelineEntry[] {
  const entries: Array<TimelineEntry & { ms: number }> = [];
  const phase = (ms: number | undefined, reason: string, message: string) => {
    if (ms !== undefined) entries.push({ ms, at: timeView(ms, now), type: 'phase', reason, message, source: 'status' });
  };
  phase(s.createdAt, 'Created', `in pool ${s.spec.poolName}`);
  phase(s.assignedAt, 'Assigned', s.device ? `to device ${s.device.name}` : '');
  phase(s.startedAt, 'Running', s.podName ? `runner pod ${s.podName}` : '');
  phase(s.completedAt, s.phase, s.reason ? `${s.reason}${s.message ? `: ${s.message}` : ''}` : s.message);
  const events = [...store.eventsFor('TestSession', s.namespace, s.name), ...(s.podName ? store.eventsFor('Pod', s.namespace, s.podName) : [])];
  for (const e of events) {
    const ms = e.lastAt ?? e.firstAt ?? 0;
    entries.push({
      ms,
      at: timeView(ms, now),
      type: e.type,
      reason: e.reason,
      message: e.count > 1 ? `${e.message} (×${e.count})` : e.message,
      source: `${e.involved.kind === 'Pod' ? 'pod' : 'session'}${e.source ? ` · ${e.source}` : ''}`,
    });
  }
  // Stable: a phase and an Event in the same second keep the phase first.
  return entries.sort((a, b) => a.ms - b.ms).map(({ ms: _ms, ...e }) => e);
}

/** "about 12 min (place ÷ the 25 sessions the pool finished in the last hour)". */
function etaView(e: ReturnType<QueueEta>): { wait: string; basis: string } | undefined {
  if (!e) return undefined;
  if (e.estimatedWaitSeconds === null) return { wait: '', basis: 'The pool finished no session in the last hour, so there is no estimate.' };
  return {
    wait: e.estimatedWaitSeconds < 60 ? 'under a minute' : `about ${formatDuration(e.estimatedWaitSeconds * 1000)}`,
    basis: `Its place in the queue divided by the pool's throughput: ${e.finishedLastHour} ${e.finishedLastHour === 1 ? 'session' : 'sessions'} finished in the last hour.`,
  };
}

function pendingReason(store: FarmStore, s: SessionView): PendingReason {
  const pool = store.getPool(s.namespace, s.spec.poolName);
  const queue = store
    .sessionsOfPool(s.namespace, s.spec.poolName)
    .filter((o) => o.phase === 'Pending')
    .sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const count = (state: string) => pool?.devices.filter((d) => d.state === state).length ?? 0;
  return {
    poolExists: pool !== undefined,
    position: queue.findIndex((o) => o.name === s.name) + 1,
    queued: queue.length,
    idle: count('Idle'),
    booting: count('Booting'),
    unhealthy: count('Unhealthy'),
  };
}
