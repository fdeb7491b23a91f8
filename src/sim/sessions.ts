// The TestSessions as the simulator plays them. A session seen for the first time gets its
// story drawn from its own random stream and joins the queue (in order of creation, name
// order breaking ties: creationTimestamp has 1 s resolution). One already Assigned or
// Running under an earlier simulator cannot be resumed: its runner is gone, so it ends.
// Spec changes that matter while a session lives (stop, a lease's extension) are followed;
// a session deleted while it runs gives its device back.
import { FINISHED_PHASES, type SessionPhase } from '../farm/types.js';
import { objectKey } from '../kube/informer.js';
import type { KubeObject } from '../kube/types.js';
import { codeUnitOrder } from './farm-watch.js';
import { streamFor, type Random } from './random.js';
import { adoptSession, type SimSession } from './session-model.js';

/** A session as the simulator plays it: the model and its random stream. */
export interface Played {
  model: SimSession;
  random: Random;
}

export interface SessionPlay {
  seed: number;
  /** Simulated time. */
  now: number;
  /** The queue position of the next session first seen. */
  nextSeq(): number;
  /** A session joined the queue as Pending. */
  queued(played: Played): void;
  /** A session found Assigned or Running that cannot go on: end it (its status so far is in the model). */
  lost(played: Played, phase: SessionPhase): void;
  /** A session deleted while it held a device. */
  gone(played: Played, device: string): void;
}

interface SessionSpec {
  poolRef?: { name?: string };
  deviceName?: string;
  timeoutSeconds?: number;
  runner?: unknown;
  cancelRequested?: boolean;
}

/** Brings `sessions` in line with the TestSession objects. */
export function followSessions(sessions: Map<string, Played>, objects: readonly KubeObject[], play: SessionPlay): void {
  const seen = new Set<string>();
  // Sessions seen for the first time are queued by creationTimestamp, then name; those
  // seen in an earlier tick stay ahead of them (creationTimestamp has 1 s resolution, so
  // it cannot order sessions created within one second on its own).
  const fresh = objects.filter((o) => !sessions.has(objectKey(o))).sort((a, b) => createdAtOf(a) - createdAtOf(b) || codeUnitOrder(a.metadata.name, b.metadata.name));
  const adopt = new Set(fresh.map(objectKey));
  for (const o of [...objects.filter((i) => !adopt.has(objectKey(i))), ...fresh]) {
    const k = objectKey(o);
    seen.add(k);
    const spec = (o.spec ?? {}) as SessionSpec;
    let played = sessions.get(k);
    if (!played) {
      const status = (o.status ?? {}) as { phase?: SessionPhase; progress?: { completed?: number; total?: number } };
      const phase = status.phase ?? 'Pending';
      if (FINISHED_PHASES.has(phase)) continue; // finished: not ours to touch
      const namespace = o.metadata.namespace!;
      const random = streamFor(play.seed, namespace, o.metadata.name);
      const facts = { pool: spec.poolRef?.name ?? '', deviceName: typeof spec.deviceName === 'string' ? spec.deviceName : '', timeoutSeconds: spec.timeoutSeconds, hasRunner: spec.runner !== undefined, ownedBySimulator: o.metadata.labels?.['droidfarm.io/simulated'] === 'true' };
      played = { model: adoptSession(namespace, o.metadata.name, facts, createdAtOf(o), play.nextSeq(), play.now, random), random };
      sessions.set(k, played);
      if (phase === 'Pending') {
        play.queued(played);
      } else {
        // Assigned or Running under an earlier simulator (or operator) whose runner is gone:
        // its device was already given back when the pool was adopted. End it plainly
        // instead of leaving it Running forever on a device that shows Idle.
        const total = status.progress?.total ?? played.model.total;
        played.model = { ...played.model, status: { ...(o.status as Record<string, unknown>) }, phase, total, completed: Math.min(status.progress?.completed ?? 0, total) };
        play.lost(played, phase);
        continue;
      }
    }
    // Extend (a lease) raises spec.timeoutSeconds while the session runs.
    played.model = { ...played.model, cancelRequested: spec.cancelRequested === true, timeoutMs: (spec.timeoutSeconds ?? 1800) * 1000 };
  }
  for (const [k, p] of [...sessions]) {
    if (seen.has(k)) continue;
    // Deleted while running: give its device back.
    if (p.model.device) play.gone(p, p.model.device);
    sessions.delete(k);
  }
}

function createdAtOf(o: KubeObject): number {
  return Date.parse(o.metadata.creationTimestamp ?? '') || 0;
}
