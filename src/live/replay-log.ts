// The events a reconnecting client may have missed, kept in order and bounded by count,
// bytes and age: a burst of large events (a 500-device grid is ~185 KB) must not pin
// hundreds of megabytes, and an id from an hour ago is better answered with a fresh
// snapshot (or a `reset`) than with an hour of changes. What falls out only makes replays
// from before it impossible; the streams answer those with a snapshot or a reset.

export interface ReplayBounds {
  maxEvents: number;
  maxBytes: number;
  maxAgeMs: number;
}

export const DEFAULT_REPLAY_BOUNDS: ReplayBounds = { maxEvents: 2_000, maxBytes: 8 << 20, maxAgeMs: 5 * 60_000 };

export interface Replayable {
  seq: number;
  /** Roughly what the event holds in memory: its text's length. */
  bytes: number;
  /** When it was sent (ms). */
  at: number;
}

export class ReplayLog<E extends Replayable> {
  private readonly events: E[] = [];
  private head = 0;
  private totalBytes = 0;
  private dropped = 0;

  constructor(
    private readonly bounds: ReplayBounds,
    private readonly now: () => number = Date.now,
  ) {}

  push(event: E): void {
    this.events.push(event);
    this.totalBytes += event.bytes;
    this.prune();
  }

  /** Drops what is past its bounds; also called on a timer, since age passes without events. */
  prune(): void {
    const oldestAllowed = this.now() - this.bounds.maxAgeMs;
    while (this.size > 0) {
      const first = this.events[this.head]!;
      if (this.size <= this.bounds.maxEvents && this.totalBytes <= this.bounds.maxBytes && first.at >= oldestAllowed) break;
      this.totalBytes -= first.bytes;
      this.dropped = first.seq;
      this.head++;
    }
    // Compact now and then rather than shifting on every drop.
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The sequence number of the oldest event kept, or undefined when none is. */
  get oldestSeq(): number | undefined {
    return this.events[this.head]?.seq;
  }

  /** The sequence number of the last event dropped (0 before any): a replay must start at or after it. */
  get droppedThrough(): number {
    return this.dropped;
  }

  get size(): number {
    return this.events.length - this.head;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Events after `seq`, oldest first. */
  *since(seq: number): Iterable<E> {
    // Sequence numbers grow: skip to the first one after seq by binary search.
    let lo = this.head;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.events.length; i++) yield this.events[i]!;
  }
}
