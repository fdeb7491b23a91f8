// What `npm run simulate` prints: a clock per line, the transitions worth a line, and a
// budget so a busy farm does not flood the terminal.
import type { Transition } from './simulator.js';

export function clock(): string {
  return new Date().toISOString().slice(11, 19);
}

/** At most a burst of lines, then a few per second; the rest are counted in the summary. */
export class LineBudget {
  private tokens: number;
  private last = Date.now();
  suppressed = 0;
  constructor(
    private readonly burst = 10,
    private readonly perSecond = 2,
  ) {
    this.tokens = burst;
  }
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens--;
      return true;
    }
    this.suppressed++;
    return false;
  }
}

export function describeTransition(t: Transition): string | undefined {
  if (t.kind === 'session') {
    if (t.phase === 'Pending' || t.phase === 'Running') return undefined;
    return `session ${t.session} ${t.phase === 'Assigned' ? 'assigned' : `→ ${t.phase}`}`;
  }
  if (t.state === 'Unhealthy') return `device ${t.device} (pool ${t.pool}) → Unhealthy`;
  return undefined;
}
