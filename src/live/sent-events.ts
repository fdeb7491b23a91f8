// The broker's event sequence and what it can replay: every change gets the next sequence
// number; an event sent to subscribers is kept (bounded) for reconnecting clients, and one
// for a topic nobody watched is only noted as skipped, which makes replays from before it
// impossible for that topic. A client is brought up to date by replay only when every
// event since its Last-Event-ID is at hand; otherwise it gets a snapshot.
import { DEFAULT_REPLAY_BOUNDS, ReplayLog, type ReplayBounds } from './replay-log.js';

/** '*' addresses every client, whatever its topics (the live badge). */
export const EVERYONE = '*';

export interface SentEvent {
  seq: number;
  bytes: number;
  at: number;
  topic: string;
  fragments: Map<string, string>;
}

export class SentEvents {
  private seq = 0;
  private readonly history: ReplayLog<SentEvent>;
  /**
   * Last sequence number of an event not kept for a topic (no one was listening), oldest
   * first. Entries older than the history are useless and pruned; past the cap the oldest
   * (or older than the replay age) are forgotten and `skippedFloor` rises instead: no
   * replay from before it.
   */
  private readonly skipped = new Map<string, { seq: number; at: number }>();
  private skippedFloor = 0;
  private skippedBytesTotal = 0;
  /** Sequence numbers snapshot renders started from: their skipped entries must stay. */
  private readonly rendersFrom = new Map<number, number>();
  /** The event being rendered by the broker's send(): not in history yet, but going to every subscriber. */
  inFlight: number | undefined;

  constructor(
    private readonly replay: Partial<ReplayBounds> | undefined,
    /** Topics remembered as changed-while-unwatched; past this the oldest are forgotten (see skippedFloor). */
    private readonly maxSkippedTopics = 10_000,
  ) {
    this.history = new ReplayLog({ ...DEFAULT_REPLAY_BOUNDS, maxEvents: 500, ...replay });
  }

  /** The next sequence number. */
  next(): number {
    return ++this.seq;
  }

  /** The last sequence number given out. */
  get last(): number {
    return this.seq;
  }

  /** The last event id whose event, and every one before it, is either in history or skipped. */
  settled(): number {
    return this.inFlight !== undefined ? this.inFlight - 1 : this.seq;
  }

  remember(event: SentEvent): void {
    this.history.push(event);
  }

  skip(topic: string, seq: number): void {
    const old = this.skipped.get(topic);
    if (old === undefined) this.skippedBytesTotal += skippedEntryBytes(topic);
    // Delete first, so the map stays in sequence order (oldest first) for pruning.
    this.skipped.delete(topic);
    this.skipped.set(topic, { seq, at: Date.now() });
    if (this.skipped.size > this.maxSkippedTopics) this.prune();
  }

  /** Whether every event after `seq` for these topics is in the history (or still on its way to subscribers). */
  replayableSince(topics: readonly string[], seq: number): boolean {
    // Events after the last one the history dropped are all in it, or skipped (checked below).
    if (seq < this.history.droppedThrough || seq < this.skippedFloor) return false;
    for (const topic of [...topics, EVERYONE]) if ((this.skipped.get(topic)?.seq ?? 0) > seq) return false;
    return true;
  }

  /** Whether something went to one of these topics after `seq` without being kept (skipped or published). */
  missedSince(topics: readonly string[], seq: number): boolean {
    return seq < this.skippedFloor || topics.some((t) => (this.skipped.get(t)?.seq ?? 0) > seq);
  }

  /** The events a client that saw `last` missed, merged, or undefined when it needs a snapshot. */
  replayFor(topics: readonly string[], last: number | undefined): Map<string, string> | undefined {
    if (last === undefined || last > this.seq || !this.replayableSince(topics, last)) return undefined;
    return this.sentSince(topics, last);
  }

  /** What was sent to these topics (and to everyone) after `seq`, merged in order. */
  sentSince(topics: readonly string[], seq: number): Map<string, string> {
    const wanted = new Set([...topics, EVERYONE]);
    const merged = new Map<string, string>();
    for (const event of this.history.since(seq)) {
      if (wanted.has(event.topic)) for (const [id, html] of event.fragments) merged.set(id, html);
    }
    return merged;
  }

  /** Runs a snapshot render that starts from `seq`: the skipped entries it may need are kept meanwhile. */
  async renderingFrom<T>(seq: number, render: () => Promise<T>): Promise<T> {
    this.rendersFrom.set(seq, (this.rendersFrom.get(seq) ?? 0) + 1);
    try {
      return await render();
    } finally {
      const n = this.rendersFrom.get(seq)! - 1;
      if (n === 0) this.rendersFrom.delete(seq);
      else this.rendersFrom.set(seq, n);
    }
  }

  /** Drops replay history past its bounds and skipped entries that can no longer matter. */
  prune(): void {
    this.history.prune();
    // A skipped entry matters while a replay or a snapshot render could start from before it.
    let below = this.history.droppedThrough + 1;
    for (const from of this.rendersFrom.keys()) below = Math.min(below, from + 1);
    below = Math.min(below, this.settled() + 1);
    const oldestAllowed = Date.now() - (this.replay?.maxAgeMs ?? DEFAULT_REPLAY_BOUNDS.maxAgeMs);
    for (const [topic, { seq, at }] of this.skipped) {
      if (seq >= below && this.skipped.size <= this.maxSkippedTopics && at >= oldestAllowed) break;
      // Forgetting one that still matters: no replay (or reuse of a snapshot) from before it.
      if (seq >= below) this.skippedFloor = Math.max(this.skippedFloor, seq);
      this.skipped.delete(topic);
      this.skippedBytesTotal -= skippedEntryBytes(topic);
    }
  }

  stats(): { historyEvents: number; historyBytes: number; skippedTopics: number; skippedBytes: number } {
    return { historyEvents: this.history.size, historyBytes: this.history.bytes, skippedTopics: this.skipped.size, skippedBytes: this.skippedBytesTotal };
  }
}

/** What one skipped entry takes, roughly: the key's UTF-16 characters and the map's entry. */
function skippedEntryBytes(topic: string): number {
  return topic.length * 2 + 64;
}
