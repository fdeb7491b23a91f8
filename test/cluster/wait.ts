// Waiting for a condition, the test harness's one way to wait: poll a probe until it holds,
// with a deadline and a message that says what was awaited and what went wrong last.
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Extra text for the timeout error (for example the tail of a log). */
  detail?: () => string;
}

/**
 * Polls `probe` until it returns a value other than undefined/false/null and returns it.
 * A probe that throws counts as "not yet"; its last error is part of the timeout message.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      lastError = undefined;
    } catch (err) {
      if (err instanceof FatalWaitError) throw err.cause;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const last = lastError === undefined ? '' : `; last error: ${errorText(lastError)}`;
      const detail = opts.detail ? `\n${opts.detail()}` : '';
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** Thrown from a waitFor probe to stop waiting at once (e.g. the process died). */
export class FatalWaitError extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
