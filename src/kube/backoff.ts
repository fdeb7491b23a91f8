// Capped exponential backoff with jitter, so a flapping API server is retried promptly at
// first and then gently, and many dashboards never retry in lock-step.

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
    return Math.round(step / 2 + (step / 2) * random());
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}
