// A Pending session's place in its pool's queue (oldest first, then by name) and an
// estimated wait: its place ÷ the sessions the pool finished in the last hour. Plain, and
// said so on the page: a pool whose throughput changes makes the estimate drift.
import type { PoolHistory } from './history.js';
import { HOUR_MS } from './window.js';

export interface QueuePlace {
  /** 1: next to be assigned. */
  place: number;
  waiting: number;
  finishedLastHour: number;
  /** place ÷ the last hour's throughput; null when nothing finished in the last hour. */
  estimatedWaitSeconds: number | null;
}

export function queuePlaceOf(h: PoolHistory, sessionKey: string, now: number): QueuePlace | undefined {
  const me = h.pending.get(sessionKey);
  if (!me) return undefined;
  let place = 1;
  for (const f of h.pending.values()) {
    if (f.key === me.key) continue;
    if ((f.createdAt ?? 0) < (me.createdAt ?? 0) || ((f.createdAt ?? 0) === (me.createdAt ?? 0) && f.name < me.name)) place++;
  }
  const finished = h.tally(now - HOUR_MS, now, now, true).finished;
  return { place, waiting: h.pending.size, finishedLastHour: finished, estimatedWaitSeconds: finished > 0 ? Math.round((place / finished) * 3600) : null };
}
