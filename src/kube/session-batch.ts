// Bulk writes of sessions: one action on many, a few at a time so 500 stay gentle on the
// apiserver, each through the same SessionWriter as one button (read, decided by the one
// rule, refused when it makes no sense) and each reported on its own: done, or refused and why.
import { describeError } from '../http/errors.js';
import type { SessionWriter } from './session-writer.js';

export const BATCH_ACTIONS = ['cancel', 'retry', 'delete'] as const;
export type BatchAction = (typeof BATCH_ACTIONS)[number];
/** Writes in flight at once: quick for 50, gentle on the apiserver for 500. */
const CONCURRENCY = 6;

export interface BatchTarget {
  namespace: string;
  name: string;
}

export interface BatchResult extends BatchTarget {
  ok: boolean;
  /** The HTTP status the single action would have answered. */
  status: number;
  /** Set when refused: the DF_ERR_* code and why. */
  error?: { code: string; message: string };
  /** Retry: the new session's name. */
  created?: string;
}

export interface BatchReport {
  action: BatchAction;
  total: number;
  done: number;
  refused: number;
  results: BatchResult[];
}

/** Runs one action on every target, a few at a time, and reports each in the targets' order. */
export async function runBatch(actions: SessionWriter, action: BatchAction, targets: readonly BatchTarget[]): Promise<BatchReport> {
  const results: BatchResult[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      const t = targets[i]!;
      try {
        if (action === 'cancel') await actions.cancel(t.namespace, t.name);
        else if (action === 'delete') await actions.delete(t.namespace, t.name);
        else {
          const created = await actions.retry(t.namespace, t.name);
          results[i] = { ...t, ok: true, status: 201, created: created.name };
          continue;
        }
        results[i] = { ...t, ok: true, status: action === 'delete' ? 202 : 200 };
      } catch (err) {
        const { status, body } = describeError(err);
        results[i] = { ...t, ok: false, status, error: { code: body.error.code, message: body.error.message } };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, targets.length) }, worker));
  const done = results.filter((r) => r.ok).length;
  return { action, total: results.length, done, refused: results.length - done, results };
}
