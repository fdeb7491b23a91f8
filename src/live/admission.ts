// Who may open a live stream: nothing a stranger can start is unbounded. Streams of both
// kinds (/live for pages, /api/v1/events for scripts) count against one total and one
// per-address cap; a refusal says which and when to come back. The browser's EventSource
// retries by itself after the `retry:` delay, so a refused page comes back on its own.
import type { ServerResponse } from 'node:http';
import type { Limits } from '../config.js';
import { LimitError } from '../http/limits.js';

export type AdmissionRefusal = 'total' | 'address';

export interface AdmissionStats {
  open: number;
  addresses: number;
  refused: Record<AdmissionRefusal, number>;
}

/** Seconds a refused client is told to wait: long enough for a storm to pass. */
const RETRY_AFTER_S = 5;

export class LiveAdmission {
  private open = 0;
  private readonly byAddress = new Map<string, number>();
  private readonly refused: Record<AdmissionRefusal, number> = { total: 0, address: 0 };

  constructor(private readonly limits: Pick<Limits, 'liveClients' | 'liveClientsPerAddress'>) {}

  /** Counts the stream until its response closes, or throws a LimitError (503 or 429). */
  admit(address: string, res: ServerResponse): void {
    if (this.open >= this.limits.liveClients) {
      this.refused.total++;
      throw new LimitError(503, 'DF_ERR_LIVE_FULL', `The dashboard is serving as many live streams as it may (${this.limits.liveClients}); try again in a few seconds.`, RETRY_AFTER_S);
    }
    const mine = this.byAddress.get(address) ?? 0;
    if (mine >= this.limits.liveClientsPerAddress) {
      this.refused.address++;
      throw new LimitError(
        429,
        'DF_ERR_TOO_MANY_STREAMS',
        `Your address already has ${mine} live streams open, the most one address may; close some pages or scripts (or raise --max-live-clients-per-address) and try again.`,
        RETRY_AFTER_S,
      );
    }
    this.open++;
    this.byAddress.set(address, mine + 1);
    res.once('close', () => {
      this.open--;
      const left = (this.byAddress.get(address) ?? 1) - 1;
      if (left > 0) this.byAddress.set(address, left);
      else this.byAddress.delete(address);
    });
  }

  stats(): AdmissionStats {
    return { open: this.open, addresses: this.byAddress.size, refused: { ...this.refused } };
  }
}
