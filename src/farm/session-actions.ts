// Which of Stop, Retry and Delete a session allows, and why not: the one rule that both the
// writer (src/kube/session-writer.ts, which refuses with a 409) and the session page's view
// model (which shows only the buttons that apply) follow, so the two cannot disagree.
import { FINISHED_PHASES, type SessionPhase } from './types.js';

export type SessionAction = 'stop' | 'retry' | 'delete';
export const SESSION_ACTIONS: readonly SessionAction[] = ['stop', 'retry', 'delete'];

/** What the rule looks at: the session as read (from the apiserver or the store). */
export interface ActionSubject {
  name: string;
  phase: SessionPhase;
  cancelRequested: boolean;
}

export type ActionVerdict =
  | { allowed: true }
  | {
      allowed: false;
      /**
       * The 409 an action answers. None when asking again is harmless: a second Stop of a
       * session whose stop is already requested answers as the first did, and writes nothing.
       */
      refusal?: { code: 'DF_ERR_SESSION_FINISHED' | 'DF_ERR_SESSION_NOT_FINISHED'; message: string };
    };

const ALLOWED: ActionVerdict = { allowed: true };

/** Stop: a session that has not ended and whose stop nobody requested yet. */
export function canStop(s: ActionSubject): ActionVerdict {
  if (FINISHED_PHASES.has(s.phase)) {
    return { allowed: false, refusal: { code: 'DF_ERR_SESSION_FINISHED', message: `TestSession ${s.name} already ended (${s.phase}): there is nothing to stop.` } };
  }
  return s.cancelRequested ? { allowed: false } : ALLOWED;
}

/** Retry: only a session that has ended (a new session with its spec). */
export function canRetry(s: ActionSubject): ActionVerdict {
  if (FINISHED_PHASES.has(s.phase)) return ALLOWED;
  return { allowed: false, refusal: { code: 'DF_ERR_SESSION_NOT_FINISHED', message: `TestSession ${s.name} is still ${s.phase}: retry it once it has ended, or stop it first.` } };
}

/** Delete: only a session that has ended, so a running test is never pulled away. */
export function canDelete(s: ActionSubject): ActionVerdict {
  if (FINISHED_PHASES.has(s.phase)) return ALLOWED;
  return {
    allowed: false,
    refusal: { code: 'DF_ERR_SESSION_NOT_FINISHED', message: `TestSession ${s.name} is still ${s.phase}: stop it and wait until it has ended before deleting it.` },
  };
}

export const sessionActionRules: Record<SessionAction, (s: ActionSubject) => ActionVerdict> = { stop: canStop, retry: canRetry, delete: canDelete };
