// What insights need from one TestSession: its pool, its times and its outcome. Missing
// timestamps and clock skew are settled here, once, so every figure reads the same facts:
// - queue wait is creationTimestamp → assignedAt (startTime when assignedAt is missing),
//   never negative (the apiserver and the operator may disagree by a second or two);
// - the device is busy from the earlier of assignedAt and startTime to completionTime, or
//   up to now while the session still holds it (an open interval);
// - a finished session without completionTime counts at its latest known time and has no
//   run time and no busy interval (it is not known how long it held the device).
import { key } from '../store.js';
import { FINISHED_PHASES, type SessionPhase, type SessionView } from '../types.js';

export const SUITE_LABEL = 'droidfarm.io/suite';

export interface SessionFacts {
  key: string;
  namespace: string;
  name: string;
  poolKey: string;
  phase: SessionPhase;
  finished: boolean;
  createdAt: number | undefined;
  assignedAt: number | undefined;
  /** When the session finished (completionTime, or its latest known time when missing). */
  endedAt: number | undefined;
  /** Seconds from creation to assignment. */
  waitSeconds: number | undefined;
  /** Seconds from start to completion. */
  runSeconds: number | undefined;
  startedAt: number | undefined;
  device: string;
  /** When the session held its device: [from, to); to undefined while it still does. */
  busy: { from: number; to: number | undefined } | undefined;
  tests: { passed: number; run: number } | undefined;
  reason: string;
  suite: string;
}

export function factsOf(s: SessionView): SessionFacts {
  const finished = FINISHED_PHASES.has(s.phase);
  const assigned = s.assignedAt ?? s.startedAt;
  const busyFrom = s.assignedAt !== undefined && s.startedAt !== undefined ? Math.min(s.assignedAt, s.startedAt) : assigned;
  const endedAt = finished ? (s.completedAt ?? latest(s.startedAt, s.assignedAt, s.createdAt)) : undefined;
  let busy: SessionFacts['busy'];
  if (busyFrom !== undefined && s.device?.name) {
    if (!finished) busy = { from: busyFrom, to: undefined };
    else if (s.completedAt !== undefined) busy = { from: busyFrom, to: Math.max(busyFrom, s.completedAt) };
  }
  return {
    key: key(s.namespace, s.name),
    namespace: s.namespace,
    name: s.name,
    poolKey: key(s.namespace, s.spec.poolName),
    phase: s.phase,
    finished,
    createdAt: s.createdAt,
    assignedAt: assigned,
    endedAt,
    startedAt: s.startedAt,
    waitSeconds: assigned !== undefined && s.createdAt !== undefined ? Math.max(0, assigned - s.createdAt) / 1000 : undefined,
    runSeconds: finished && s.startedAt !== undefined && s.completedAt !== undefined ? Math.max(0, s.completedAt - s.startedAt) / 1000 : undefined,
    device: s.device?.name ?? '',
    busy,
    tests: s.results ? { passed: s.results.passed, run: s.results.passed + s.results.failed } : undefined,
    reason: finished && s.phase !== 'Succeeded' ? normaliseReason(s.reason, s.phase) : '',
    suite: s.labels[SUITE_LABEL] ?? '',
  };
}

/** A failure's reason as a short stable word: CamelCase kept, ids and numbers dropped. */
export function normaliseReason(reason: string, phase: SessionPhase): string {
  const cleaned = reason
    .trim()
    .replace(/[0-9a-f]{8,}/gi, '')
    .replace(/\d+/g, '')
    .replace(/[^A-Za-z_ -]/g, '')
    .trim()
    .slice(0, 60);
  return cleaned || phase;
}

function latest(...times: Array<number | undefined>): number | undefined {
  const known = times.filter((t): t is number => t !== undefined);
  return known.length ? Math.max(...known) : undefined;
}

/** Every instant at which the session contributes something to a figure. */
export function eventTimes(f: SessionFacts): number[] {
  const out: number[] = [];
  if (f.createdAt !== undefined) out.push(f.createdAt);
  if (f.startedAt !== undefined) out.push(f.startedAt);
  if (f.assignedAt !== undefined) out.push(f.assignedAt);
  if (f.endedAt !== undefined) out.push(f.endedAt);
  return out;
}
