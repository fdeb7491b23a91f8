// Retry delays for everything that talks to a cluster. Two shapes:
// - Backoff: capped exponential with jitter, for one stream that retries on its own
//   (runner logs): prompt at first, then gentle, and many dashboards never retry in lock-step.
// - RetrySchedule: the informers' schedule, which must meet two goals at once: data live
//   again within 2 s of a short apiserver outage (a restart, a rolling upgrade), yet a long
//   outage must stay gentle on a recovering apiserver. So an outage starts with a fast
//   phase (steps grow from initialMs to fastMs, each delay jittered to half..all of its
//   step) for fastWindowMs, then doubles from fastMs up to maxMs. An outage ends (reset)
//   only when a watch has proven itself healthy (see informer.ts), so outages a few
//   seconds apart each get their own fast phase.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Random source in [0, 1); injectable for tests. */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next retry: between half and all of the capped exponential step. */
  next(): number {
    const { initialMs, maxMs, random = Math.random } = this.options;
    const step = Math.min(maxMs, initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return jitter(step, random);
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}

export interface RetryScheduleOptions {
  /** First step of an outage. */
  initialMs: number;
  /** Largest step while the outage is younger than fastWindowMs. */
  fastMs?: number;
  /** How long an outage is retried at fastMs at most. */
  fastWindowMs?: number;
  /** Largest step of a long outage. */
  maxMs: number;
  random?: () => number;
  now?: () => number;
}

/** The production schedule: ≤ 1 s between attempts for the first 30 s, then 2, 4, … 30 s. */
export const PRODUCTION_RETRY: Required<Pick<RetryScheduleOptions, 'initialMs' | 'fastMs' | 'fastWindowMs' | 'maxMs'>> = {
  initialMs: 250,
  fastMs: 1_000,
  fastWindowMs: 30_000,
  maxMs: 30_000,
};

export class RetrySchedule {
  private attempt = 0;
  private slowAttempt = 0;
  private outageStartedAt = 0;
  private readonly fastMs: number;
  private readonly fastWindowMs: number;

  constructor(private readonly options: RetryScheduleOptions) {
    this.fastMs = Math.min(options.fastMs ?? PRODUCTION_RETRY.fastMs, options.maxMs);
    this.fastWindowMs = options.fastWindowMs ?? PRODUCTION_RETRY.fastWindowMs;
  }

  /** The delay before the next attempt; the first call after a reset starts an outage. */
  next(): number {
    const { initialMs, maxMs, random = Math.random, now = Date.now } = this.options;
    const t = now();
    if (this.attempt === 0) this.outageStartedAt = t;
    let step: number;
    if (t - this.outageStartedAt < this.fastWindowMs) {
      step = Math.min(this.fastMs, initialMs * 2 ** Math.min(this.attempt, 30));
    } else {
      this.slowAttempt = Math.min(this.slowAttempt + 1, 30);
      step = Math.min(maxMs, this.fastMs * 2 ** this.slowAttempt);
    }
    this.attempt++;
    return jitter(step, random);
  }

  /** The outage is over: the next failure starts a new one, with its fast phase. */
  reset(): void {
    this.attempt = 0;
    this.slowAttempt = 0;
  }

  /** Failed attempts in the current outage (0: none). */
  get failures(): number {
    return this.attempt;
  }
}

/** Between half and all of the step. */
function jitter(step: number, random: () => number): number {
  return Math.round(step / 2 + (step / 2) * random());
}
