// What the session page shows below its title, from the store alone: phase and progress,
// the device and its stream, times, artifacts (links only when the link policy allows),
// a timeline joining phase changes with the Events of the session and its pod, and, for a
// Pending session, why it is still waiting. The template only renders: which buttons apply
// (the rule of src/farm/session-actions.ts, the one the writer follows), links, sentences
// and times are decided here.
import { canDelete, canRetry, canStop } from '../farm/session-actions.js';
import type { FarmStore } from '../farm/store.js';
import { FINISHED_PHASES, type SessionView } from '../farm/types.js';
import { formatBytes, formatDuration, timeView, type TimeView } from './format.js';
import { checkLink, checkURL, type UrlPolicy, type UrlVerdict } from './url-policy.js';
import { deviceHref, poolHref, sessionHref } from './links.js';
import { progressView } from './progress.js';

export interface TimelineEntry {
  at: TimeView | undefined;
  type: 'phase' | 'Normal' | 'Warning';
  reason: string;
  message: string;
  source: string;
  /** What the entry shows after its message: where an Event came from; nothing for a phase. */
  from: string;
}

export interface PendingReason {
  poolExists: boolean;
  /** 1-based place among the pool's Pending sessions, oldest first. */
  position: number;
  queued: number;
  idle: number;
  booting: number;
  unhealthy: number;
  /** What happens next, from the devices: "An idle device should pick it up shortly." */
  outlook: string;
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

function sessionActions(s: SessionView): SessionActionsView {
  const base = sessionHref(s.namespace, s.name);
  const subject = { name: s.name, phase: s.phase, cancelRequested: s.spec.cancelRequested };
  return {
    ...(canStop(subject).allowed ? { stop: { href: `${base}/cancel`, confirm: `Stop TestSession ${s.name}? Its test run is ended and the session ends as Cancelled.` } } : {}),
    ...(canRetry(subject).allowed ? { retry: { href: `${base}/retry` } } : {}),
    ...(canDelete(subject).allowed ? { delete: { href: `${base}/delete`, confirm: `Delete TestSession ${s.name}? Its record and status are removed from the cluster.` } } : {}),
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
  const pending = s.phase === 'Pending' ? pendingReason(store, s) : undefined;
  return {
    namespace,
    name,
    exists: true,
    phase: s.phase,
    finished,
    reason: s.reason,
    message: s.message,
    cancelRequested: s.spec.cancelRequested,
    stopRequested: s.spec.cancelRequested && !finished,
    actions: sessionActions(s),
    retryOf: s.retryOf ? { name: s.retryOf, href: sessionHref(namespace, s.retryOf) } : undefined,
    progress: progressView(s.progress),
    results: s.results,
    poolName: s.spec.poolName,
    poolExists: pool !== undefined,
    poolHref: poolHref(namespace, s.spec.poolName),
    device: s.device && {
      name: s.device.name,
      href: deviceHref(namespace, s.spec.poolName, s.device.name),
      state: device?.state ?? '',
      stream: checkURL(s.device.streamURL, policy),
      appiumURL: s.device.appiumURL,
    },
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
    runner: s.spec.runner && { ...s.spec.runner, commandLine: [...s.spec.runner.command, ...s.spec.runner.args].join(' ') },
    labels: Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1)),
    artifactsEmpty: finished ? 'This session produced no artifacts.' : 'Artifacts appear here when the runner uploads them.',
    artifacts: s.artifacts.map((a) => ({ name: a.name, kind: a.kind, size: formatBytes(a.sizeBytes), link: checkLink(a.url, policy) satisfies UrlVerdict, url: a.url })),
    timeline: timeline(store, s, now),
    pending,
    // The estimate matters only while no device is idle: otherwise one picks it up shortly.
    eta: pending && pending.idle === 0 ? etaView(eta?.(namespace, s.spec.poolName, name, now)) : undefined,
  };
}

function timeline(store: FarmStore, s: SessionView, now: number): TimelineEntry[] {
  const entries: Array<TimelineEntry & { ms: number }> = [];
  const phase = (ms: number | undefined, reason: string, message: string) => {
    if (ms !== undefined) entries.push({ ms, at: timeView(ms, now), type: 'phase', reason, message, source: 'status', from: '' });
  };
  phase(s.createdAt, 'Created', `in pool ${s.spec.poolName}`);
  phase(s.assignedAt, 'Assigned', s.device ? `to device ${s.device.name}` : '');
  phase(s.startedAt, 'Running', s.podName ? `runner pod ${s.podName}` : '');
  phase(s.completedAt, s.phase, s.reason ? `${s.reason}${s.message ? `: ${s.message}` : ''}` : s.message);
  const events = [...store.eventsFor('TestSession', s.namespace, s.name), ...(s.podName ? store.eventsFor('Pod', s.namespace, s.podName) : [])];
  for (const e of events) {
    const ms = e.lastAt ?? e.firstAt ?? 0;
    const source = `${e.involved.kind === 'Pod' ? 'pod' : 'session'}${e.source ? ` · ${e.source}` : ''}`;
    entries.push({ ms, at: timeView(ms, now), type: e.type, reason: e.reason, message: e.count > 1 ? `${e.message} (×${e.count})` : e.message, source, from: source });
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
  const [idle, booting] = [count('Idle'), count('Booting')];
  return {
    poolExists: pool !== undefined,
    position: queue.findIndex((o) => o.name === s.name) + 1,
    queued: queue.length,
    idle,
    booting,
    unhealthy: count('Unhealthy'),
    outlook:
      idle === 0 && booting === 0
        ? 'No device is idle or booting: it waits for a running session to end.'
        : idle === 0
          ? 'It starts when a booting device becomes idle.'
          : 'An idle device should pick it up shortly.',
  };
}
