// A simulated TestSession's run, as pure step functions: the story of each session (how
// many tests, which fail, how fast) is drawn from its own random stream when it is first
// seen; then Pending → Assigned (a device) → Running (tests one after the other) → an end
// (Succeeded, Failed, Cancelled or TimedOut). The status it would write is part of the state.
import type { SessionPhase } from '../farm/types.js';
import { between, logNormal, type Random } from './random.js';

export const ASSIGN_TO_RUN_MS = 2_000;

export interface SimSession {
  readonly namespace: string;
  readonly name: string;
  readonly pool: string;
  readonly createdAt: number;
  /** Order in which the simulator first saw the session: ties of createdAt (1 s resolution) break on it. */
  readonly seq: number;
  readonly timeoutMs: number;
  readonly hasRunner: boolean;
  /** spec.deviceName: only this device of the pool may take the session ('' for any). */
  readonly deviceName: string;
  readonly cancelRequested: boolean;
  readonly phase: SessionPhase;
  /** The device it runs on, while Assigned or Running. */
  readonly device: string | undefined;
  readonly phaseSince: number;
  readonly assignedAt: number | undefined;
  readonly startedAt: number | undefined;
  readonly total: number;
  readonly completed: number;
  readonly failedTests: number;
  readonly skippedTests: number;
  /** Simulated time per test. */
  readonly paceMs: number;
  readonly ownedBySimulator: boolean;
  readonly finishedAt: number | undefined;
  /** The status to write: only what changed is not tracked, the whole status is written. */
  readonly status: Readonly<Record<string, unknown>>;
  /** Status changed since it was last written. */
  readonly dirty: boolean;
}

export interface SessionSpecFacts {
  pool: string;
  deviceName: string;
  timeoutSeconds: number | undefined;
  hasRunner: boolean;
  ownedBySimulator: boolean;
}

/** A session seen for the first time: its story drawn from its own stream. */
export function adoptSession(namespace: string, name: string, facts: SessionSpecFacts, createdAt: number, seq: number, now: number, random: Random): SimSession {
  const total = between(random, 12, 80);
  const willFail = random() < 0.18;
  const failedTests = willFail ? between(random, 1, 4) : 0;
  const skippedTests = between(random, 0, 2);
  const paceMs = logNormal(random, 2_500, 0.5);
  return {
    namespace,
    name,
    pool: facts.pool,
    createdAt,
    seq,
    timeoutMs: (facts.timeoutSeconds ?? 1800) * 1000,
    hasRunner: facts.hasRunner,
    deviceName: facts.deviceName,
    cancelRequested: false,
    phase: 'Pending',
    device: undefined,
    phaseSince: now,
    assignedAt: undefined,
    startedAt: undefined,
    total,
    completed: 0,
    failedTests,
    skippedTests,
    paceMs,
    ownedBySimulator: facts.ownedBySimulator,
    finishedAt: undefined,
    status: {},
    dirty: false,
  };
}

/** What a step did, for the simulator to tell (Events, runner log lines, device release). */
export type SessionStep =
  | { kind: 'assigned'; device: string }
  | { kind: 'started' }
  /** A claim (no runner, e.g. a lease) holds its device: nothing runs on it. */
  | { kind: 'held' }
  | { kind: 'test'; index: number; passed: boolean; test: string }
  | { kind: 'finished'; phase: SessionPhase; reason: string; message: string; device: string | undefined };

/** Timestamps as the status holds them (the simulator maps simulated time to wall time). */
export type Stamp = (simAt?: number) => string;

export function withPhase(s: SimSession, phase: SessionPhase, reason: string, message: string, now: number, status: Record<string, unknown> = {}): SimSession {
  return { ...s, phase, phaseSince: now, status: { ...s.status, ...status, phase, reason, message }, dirty: true };
}

/** A Pending session's reason for waiting; unchanged (not dirty) when it says the same. */
export function waiting(s: SimSession, reason: string, message: string): SimSession {
  if (s.status.phase === 'Pending' && s.status.reason === reason && s.status.message === message) return s;
  return { ...s, status: { ...s.status, phase: 'Pending', reason, message }, dirty: true };
}

/** A Pending session takes a device. */
export function assign(s: SimSession, device: { name: string; streamURL: string; appiumURL: string }, now: number, stamp: Stamp): { session: SimSession; steps: SessionStep[] } {
  const status: Record<string, unknown> = { assignedAt: stamp(), device };
  if (s.hasRunner) status.podName = `${s.name}-runner`;
  const session = { ...withPhase(s, 'Assigned', 'DeviceAssigned', `Assigned to ${device.name}.`, now, status), device: device.name, assignedAt: now };
  return { session, steps: [{ kind: 'assigned', device: device.name }] };
}

/**
 * Results of the tests run so far, matching the runner log: the failing tests are the last
 * ones of the run; skipped tests are only known from the final report of a complete run.
 */
export function results(s: SimSession, complete: boolean): TestResults {
  const failed = Math.max(0, s.completed - (s.total - s.failedTests));
  const skipped = complete ? Math.min(s.skippedTests, s.completed - failed) : 0;
  return { passed: s.completed - failed - skipped, failed, skipped };
}

/** The session ended; `artifacts` lists its files when it ran at all. */
/** The files a finished run leaves (their sizes drawn from the session's stream). */
export type Artifacts = (s: SimSession, phase: SessionPhase, results: TestResults, random: Random) => Array<Record<string, unknown>>;

export interface TestResults {
  passed: number;
  failed: number;
  skipped: number;
}

export function finish(s: SimSession, phase: SessionPhase, reason: string, message: string, now: number, random: Random, stamp: Stamp, artifacts: Artifacts): { session: SimSession; steps: SessionStep[] } {
  const status: Record<string, unknown> = { completionTime: stamp() };
  // A claim ran no tests: no results, no artifacts.
  if (s.hasRunner) {
    const res = results(s, (phase === 'Succeeded' || phase === 'Failed') && s.completed >= s.total);
    status.results = res;
    if (s.startedAt !== undefined) status.artifacts = artifacts(s, phase, res, random);
  }
  const session = { ...withPhase(s, phase, reason, message, now, status), finishedAt: now, device: undefined };
  return { session, steps: [{ kind: 'finished', phase, reason, message, device: s.device }] };
}

/**
 * An Assigned or Running session at `now`: it starts, runs its tests at its pace, and ends
 * when they are done, when it is stopped, or when its time is up (counted from assignment).
 */
export function advanceSession(s: SimSession, now: number, random: Random, stamp: Stamp, artifacts: Artifacts): { session: SimSession; steps: SessionStep[] } {
  if (s.phase === 'Assigned') {
    if (s.cancelRequested) return finish(s, 'Cancelled', 'CancelRequested', 'Stopped by an operator.', now, random, stamp, artifacts);
    if (now - s.phaseSince < ASSIGN_TO_RUN_MS) return { session: s, steps: [] };
    if (!s.hasRunner) {
      const held = { ...withPhase(s, 'Running', 'Held', `Device ${s.device} is held until Stop or the timeout.`, now, { startTime: stamp() }), startedAt: now };
      return { session: held, steps: [{ kind: 'held' }] };
    }
    const session = { ...withPhase(s, 'Running', 'Running', `Running ${s.total} tests.`, now, { startTime: stamp(), progress: { completed: 0, total: s.total } }), startedAt: now };
    return { session, steps: [{ kind: 'started' }] };
  }
  if (s.phase !== 'Running') return { session: s, steps: [] };
  if (s.cancelRequested) return finish(s, 'Cancelled', 'CancelRequested', `Stopped by an operator after ${s.completed} of ${s.total} tests.`, now, random, stamp, artifacts);
  if (now - (s.assignedAt ?? s.phaseSince) >= s.timeoutMs) {
    const message = s.hasRunner ? `Did not finish within ${s.timeoutMs / 1000}s (${s.completed} of ${s.total} tests done).` : `The device was held for ${s.timeoutMs / 1000}s, the session's timeout.`;
    return finish(s, 'TimedOut', 'Timeout', message, now, random, stamp, artifacts);
  }
  // Held: nothing to advance until Stop or the timeout.
  if (!s.hasRunner) return { session: s, steps: [] };
  const due = Math.min(s.total, Math.floor((now - (s.startedAt ?? 0)) / s.paceMs));
  const steps: SessionStep[] = [];
  let completed = s.completed;
  while (completed < due) {
    completed++;
    steps.push({ kind: 'test', index: completed, passed: completed <= s.total - s.failedTests, test: testName(random) });
  }
  let session: SimSession = { ...s, completed, dirty: s.dirty || steps.length > 0 };
  session = { ...session, status: { ...session.status, progress: { completed, total: s.total }, results: results(session, false) } };
  if (completed < s.total) return { session, steps };
  const failed = s.failedTests > 0;
  const end = finish(
    session,
    failed ? 'Failed' : 'Succeeded',
    failed ? 'TestsFailed' : 'AllTestsPassed',
    failed ? `${s.failedTests} of ${s.total} tests failed.` : `All ${s.total - s.skippedTests} tests passed.`,
    now,
    random,
    stamp,
    artifacts,
  );
  return { session: end.session, steps: [...steps, ...end.steps] };
}

const TEST_CLASSES = ['LoginTest', 'CheckoutTest', 'SearchTest', 'SettingsTest', 'OnboardingTest', 'PaymentTest'];
const TEST_METHODS = ['opensScreen', 'acceptsValidInput', 'rejectsEmptyForm', 'survivesRotation', 'restoresState', 'showsOfflineBanner'];

/** A test's name in the runner log, from the session's stream. */
function testName(random: Random): string {
  const cls = TEST_CLASSES[Math.floor(random() * TEST_CLASSES.length)]!;
  const method = TEST_METHODS[Math.floor(random() * TEST_METHODS.length)]!;
  return `com.example.${cls}#${method}`;
}
