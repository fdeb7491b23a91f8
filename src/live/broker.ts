// The live broker: turns store changes into page fragments and fans them out over SSE.
// Bursts are coalesced for a short window; each out-of-date fragment is rendered once and
// the same bytes go to every subscriber of its topic. On every (re)connect a client first
// gets a snapshot of its topics (or, when its Last-Event-ID is recent enough, exactly the
// events it missed), so a reconnect can never leave a stale tile behind. Snapshots are
// rendered once per topic set and revision and their bytes shared: a fleet reconnecting
// after a deploy costs one render, not one per client (see SharedSnapshot).
import type { ServerResponse } from 'node:http';
import type { FarmStore } from '../farm/store.js';
import { DEFAULT_LIMITS, LiveClient, type ClientLimits, type DropReason } from './client.js';
import { outOfBand } from './oob.js';
import { eventId, newBootId, seqOfEventId } from './event-id.js';
import { formatEvent } from './sse-frame.js';
import type { Fragment, FragmentCatalog, TopicFragment } from './fragments.js';
import { DEFAULT_REPLAY_BOUNDS, ReplayLog, type ReplayBounds } from './replay-log.js';

export type Render = (template: string, data: Record<string, unknown>) => Promise<string>;

export interface BrokerOptions {
  store: FarmStore;
  catalog: FragmentCatalog;
  render: Render;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  coalesceMs?: number;
  heartbeatMs?: number;
  staleCheckMs?: number;
  /** What is kept for replay to reconnecting clients (count, bytes, age). */
  replay?: Partial<ReplayBounds>;
  /** Topics remembered as changed-while-unwatched; past this the oldest are forgotten (see skippedFloor). */
  maxSkippedTopics?: number;
  /** Shared snapshots kept for reuse: total bytes, and how long one may be reused. */
  snapshotCache?: { maxBytes: number; maxAgeMs: number };
  limits?: ClientLimits;
  /** Told when a topic gets its first subscriber (true) and loses its last (false): log topics follow a pod only while watched. */
  onTopicActive?: (topic: string, active: boolean) => void;
}

interface SentEvent {
  seq: number;
  bytes: number;
  at: number;
  topic: string;
  fragments: Map<string, string>;
}

/**
 * One rendering of a topic set's regions, shared by every client that connects to it. It
 * shows the store as of event `seq`: a client gets it plus every event after `seq` (folded
 * in once per revision, see rebase), so it is never older than what the client gets next.
 */
interface SharedSnapshot {
  key: string;
  topics: readonly string[];
  seq: number;
  renderedAt: number;
  /** Each topic's activation epoch at render start, or -1 when it had no subscriber then. */
  epochs: number[];
  fragments: Map<string, string>;
  /** `event:` and `data:` lines without id or the closing blank line: each client adds its own id. */
  body: Buffer;
}

export interface BrokerStats {
  clients: number;
  /** The most any one client holds beyond what its socket took. */
  maxHeldBytes: number;
  dropped: number;
  eventsSent: number;
  /** Events times the clients each was sent to (the fan-out), for /metrics. */
  deliveries: number;
  fragmentsRendered: number;
  /** Replay history: events and bytes kept. */
  historyEvents: number;
  historyBytes: number;
  /** Topics remembered as changed while unwatched, and roughly what they take. */
  skippedTopics: number;
  skippedBytes: number;
  /** Shared snapshots kept, their bytes, and how many connects reused one. */
  snapshotsCached: number;
  snapshotBytes: number;
  snapshotsShared: number;
}

/** Every client is told to wait this long before reconnecting, and on shutdown. */
// 1 s: a restarted dashboard (or the next replica) is picked up within ~1-2 s; while it is
// down a refused connection costs nothing. Chromium retries network errors at this delay.
export const RETRY_MS = 1_000;
/** What a stream hears when the dashboard shuts down: come back (to the next replica) soon. */
const SHUTDOWN_EVENT = `retry: ${RETRY_MS}\nevent: shutdown\ndata: server restarting\n\n`;
/** '*' addresses every client, whatever its topics (the live badge). */
const EVERYONE = '*';

export class Broker {
  readonly bootId = newBootId();
  private readonly clients = new Set<LiveClient>();
  private readonly byTopic = new Map<string, Set<LiveClient>>();
  private dirty = new Map<string, Map<string, Fragment>>();
  private readonly history: ReplayLog<SentEvent>;
  /**
   * Last sequence number of an event not kept for a topic (no one was listening), oldest
   * first. Entries older than the history are useless and pruned; past the cap the oldest
   * (or older than the replay age) are forgotten and `skippedFloor` rises instead: no
   * replay from before it.
   */
  private readonly skipped = new Map<string, { seq: number; at: number }>();
  private skippedFloor = 0;
  private skippedBytes = 0;
  /** Sequence numbers snapshot renders started from: their skipped entries must stay. */
  private readonly rendersFrom = new Map<number, number>();
  /** The event being rendered by send(): not in history yet, but going to every subscriber. */
  private inFlight: number | undefined;
  /** Bumped when a topic loses its last subscriber: changes to it may not be tracked from then. */
  private readonly epochs = new Map<string, number>();
  private readonly snapshots = new Map<string, SharedSnapshot>();
  private readonly snapshotRenders = new Map<string, Promise<SharedSnapshot>>();
  private snapshotCacheBytes = 0;
  private readonly staleSeen = new Map<string, boolean>();
  private seq = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private flushing: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private readonly counters = { dropped: 0, eventsSent: 0, deliveries: 0, fragmentsRendered: 0, snapshotsShared: 0 };
  private closed = false;

  constructor(private readonly options: BrokerOptions) {
    this.history = new ReplayLog({ ...DEFAULT_REPLAY_BOUNDS, maxEvents: 500, ...options.replay });
  }

  start(): void {
    this.unsubscribe = this.options.store.subscribe((change) => this.mark(this.options.catalog.affected(change)));
    this.timers.push(
      setInterval(() => {
        this.heartbeat();
        this.prune();
      }, this.options.heartbeatMs ?? 15_000),
      setInterval(() => this.mark(this.options.catalog.staleFlips(this.staleSeen)), this.options.staleCheckMs ?? 10_000),
    );
    for (const t of this.timers) t.unref();
    this.options.catalog.staleFlips(this.staleSeen);
  }

  /** Registers a subscriber whose response headers are already sent, and brings it up to date. */
  async connect(res: ServerResponse, topics: readonly string[], lastEventId: string | undefined): Promise<LiveClient> {
    const client = new LiveClient(res, topics, this.options.limits ?? DEFAULT_LIMITS, (c, reason) => this.forget(c, reason), Date.now, formatUpdate);
    client.sendControl(`retry: ${RETRY_MS}\n\n`);
    const replay = this.replayFor(topics, lastEventId);
    let snapshot: SharedSnapshot | undefined;
    if (!replay) {
      for (let attempt = 1; ; attempt++) {
        snapshot = await this.sharedSnapshot(topics);
        if (client.isEnded || this.closed) return this.turnAway(client);
        // Every change since it must still be at hand (in history) to be folded in below.
        if (attempt >= 3 || this.replayableSince(snapshot.topics, snapshot.seq)) break;
      }
      // Events sent to other subscribers while the snapshot rendered (or since it was cached)
      // never reached this client, and the snapshot's data may be older than theirs: fold
      // them in, in order. (Any of them older than the snapshot is followed by a newer
      // event, also in this list.)
      snapshot = this.rebase(snapshot!);
    }
    if (client.isEnded || this.closed) return this.turnAway(client);
    this.clients.add(client);
    const activated: string[] = [];
    for (const topic of client.topics) {
      let set = this.byTopic.get(topic);
      if (!set) this.byTopic.set(topic, (set = new Set()));
      set.add(client);
      if (set.size === 1) activated.push(topic);
    }
    const id = this.eventId(this.settledSeq());
    // Both must arrive whole, whatever the socket's buffer says (Node keeps the rest).
    if (snapshot) {
      client.sendBacklog(snapshot.body);
      client.sendBacklog(`id: ${id}\n\n`);
    } else if (replay!.size > 0) {
      client.sendBacklog(formatUpdate(id, replay!));
    }
    for (const topic of activated) this.topicActive(topic, true);
    return client;
  }

  /**
   * Sends fragments rendered elsewhere to a topic's subscribers at once, in call order, with
   * no coalescing (runner log chunks: each one counts). They are not kept for replay: a
   * subscriber that reconnects gets a fresh snapshot of the topic instead.
   */
  publish(topic: string, fragments: ReadonlyMap<string, string>): void {
    if (this.closed || fragments.size === 0) return;
    const seq = ++this.seq;
    this.skip(topic, seq);
    const subscribers = this.byTopic.get(topic);
    if (!subscribers || subscribers.size === 0) return;
    const id = this.eventId(seq);
    const bytes = Buffer.from(formatUpdate(id, fragments));
    this.counters.deliveries += subscribers.size; // counted first: sending may drop a slow client from the set
    for (const client of [...subscribers]) client.send(id, bytes, fragments);
    this.counters.eventsSent++;
  }

  /** A topic whose earlier events cannot be replayed any more: a reconnecting subscriber gets a snapshot. */
  invalidate(topic: string): void {
    this.skip(topic, ++this.seq);
  }

  stats(): BrokerStats {
    let maxHeldBytes = 0;
    for (const c of this.clients) maxHeldBytes = Math.max(maxHeldBytes, c.heldBytes);
    return {
      clients: this.clients.size,
      maxHeldBytes,
      ...this.counters,
      historyEvents: this.history.size,
      historyBytes: this.history.bytes,
      skippedTopics: this.skipped.size,
      skippedBytes: this.skippedBytes,
      snapshotsCached: this.snapshots.size,
      snapshotBytes: this.snapshotCacheBytes,
    };
  }

  /** Waits until changes marked so far have been sent (tests and shutdown). */
  async settle(): Promise<void> {
    while (this.flushTimer || this.flushing) {
      if (this.flushTimer) {
        clearTimeout(this.flushTimer);
        this.flushTimer = undefined;
        await this.flush();
      }
      await this.flushing;
    }
  }

  /**
   * A client that connected while the broker closed (a browser reconnects at once when its
   * stream ends, before the listener stops): ended like the others, or its open response
   * would hold app.close() forever.
   */
  private turnAway(client: LiveClient): LiveClient {
    if (!client.isEnded) client.end('shutdown', SHUTDOWN_EVENT);
    return client;
  }

  /** Ends every stream with a retry hint, so browsers come back to the next replica. */
  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.flushTimer);
    for (const client of [...this.clients]) client.end('shutdown', SHUTDOWN_EVENT);
  }

  private mark(items: TopicFragment[]): void {
    if (this.closed || items.length === 0) return;
    for (const { topic, fragment } of items) {
      let map = this.dirty.get(topic);
      if (!map) this.dirty.set(topic, (map = new Map()));
      map.set(fragment.id, fragment);
    }
    if (!this.flushTimer) {
      // At most one flush per window. A change after a quiet spell goes out at once (changes
      // made in the same tick, one watch event's devices, still travel together); during a
      // burst the rest wait for the window's end and go out as one event.
      const wait = Math.max(0, this.lastFlushAt + (this.options.coalesceMs ?? 50) - Date.now());
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.lastFlushAt = Date.now();
        this.options.store.errors.watch('live_flush', this.flush(), 'a live flush failed; its changes were not sent');
      }, wait);
    }
  }

  private async flush(): Promise<void> {
    // One flush at a time keeps events in order; changes during it wait for the next one.
    while (this.flushing) await this.flushing;
    const dirty = this.dirty;
    this.dirty = new Map();
    if (dirty.size === 0) return;
    this.flushing = this.send(dirty).finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  private async send(dirty: Map<string, Map<string, Fragment>>): Promise<void> {
    const rendered = new Map<string, string>(); // a fragment shared by topics renders once
    for (const [topic, fragments] of dirty) {
      const seq = ++this.seq;
      const subscribers = topic === EVERYONE ? this.clients : this.byTopic.get(topic);
      if (!subscribers || subscribers.size === 0) {
        this.skip(topic, seq);
        continue;
      }
      const html = new Map<string, string>();
      this.inFlight = seq;
      try {
        for (const fragment of fragments.values()) {
          const renderKey = fragment.renderKey ?? fragment.id;
          let out = rendered.get(renderKey);
          if (out === undefined) {
            out = await this.renderOne(fragment);
            if (out === undefined) continue;
            rendered.set(renderKey, out);
          }
          html.set(fragment.id, out);
        }
      } finally {
        this.inFlight = undefined;
      }
      if (html.size === 0) continue;
      const id = this.eventId(seq);
      const bytes = Buffer.from(formatUpdate(id, html));
      this.remember({ seq, topic, fragments: html, bytes: bytes.length, at: Date.now() });
      // Whoever subscribes now: the set may have been replaced while this rendered (its last
      // subscriber left and a new one came, whose snapshot did not have this event yet).
      const audience = topic === EVERYONE ? this.clients : (this.byTopic.get(topic) ?? subscribers);
      this.counters.deliveries += audience.size; // counted first: sending may drop a slow client from the set
      for (const client of [...audience]) client.send(id, bytes, html);
      this.counters.eventsSent++;
    }
  }

  /** The events a reconnecting client missed, merged, or undefined when a snapshot is needed. */
  private replayFor(topics: readonly string[], lastEventId: string | undefined): Map<string, string> | undefined {
    const last = seqOfEventId(lastEventId, this.bootId);
    if (last === undefined || last > this.seq || !this.replayableSince(topics, last)) return undefined;
    return this.sentSince(topics, last);
  }

  /** Whether every event after `seq` for these topics is in the history (or still on its way to subscribers). */
  private replayableSince(topics: readonly string[], seq: number): boolean {
    // Events after the last one the history dropped are all in it, or skipped (checked below).
    if (seq < this.history.droppedThrough || seq < this.skippedFloor) return false;
    for (const topic of [...topics, EVERYONE]) if ((this.skipped.get(topic)?.seq ?? 0) > seq) return false;
    return true;
  }

  private remember(event: SentEvent): void {
    this.history.push(event);
  }

  /** The last event id whose event, and every one before it, is either in history or skipped. */
  private settledSeq(): number {
    return this.inFlight !== undefined ? this.inFlight - 1 : this.seq;
  }

  private skip(topic: string, seq: number): void {
    const old = this.skipped.get(topic);
    if (old === undefined) this.skippedBytes += skippedEntryBytes(topic);
    // Delete first, so the map stays in sequence order (oldest first) for pruning.
    this.skipped.delete(topic);
    this.skipped.set(topic, { seq, at: Date.now() });
    if (this.skipped.size > (this.options.maxSkippedTopics ?? 10_000)) this.prune();
  }

  /** Drops replay history past its bounds and skipped entries that can no longer matter. */
  private prune(): void {
    this.history.prune();
    // A skipped entry matters while a replay or a snapshot render could start from before it.
    let below = this.history.droppedThrough + 1;
    for (const from of this.rendersFrom.keys()) below = Math.min(below, from + 1);
    below = Math.min(below, this.settledSeq() + 1);
    const max = this.options.maxSkippedTopics ?? 10_000;
    const oldestAllowed = Date.now() - (this.options.replay?.maxAgeMs ?? DEFAULT_REPLAY_BOUNDS.maxAgeMs);
    for (const [topic, { seq, at }] of this.skipped) {
      if (seq >= below && this.skipped.size <= max && at >= oldestAllowed) break;
      // Forgetting one that still matters: no replay (or reuse of a snapshot) from before it.
      if (seq >= below) this.skippedFloor = Math.max(this.skippedFloor, seq);
      this.skipped.delete(topic);
      this.skippedBytes -= skippedEntryBytes(topic);
    }
  }

  /**
   * The regions of these topics, rendered once per topic set and revision: clients that
   * connect while it renders wait for the same rendering, and later ones reuse it for as
   * long as every change since is in the history (see rebase).
   */
  private sharedSnapshot(topics: readonly string[]): Promise<SharedSnapshot> {
    const key = [...topics].sort().join('\n');
    const cached = this.snapshots.get(key);
    if (cached && this.reusable(cached)) {
      this.counters.snapshotsShared++;
      // Most recently used last: the oldest entry is the first to go.
      this.snapshots.delete(key);
      this.snapshots.set(key, cached);
      return Promise.resolve(cached);
    }
    const rendering = this.snapshotRenders.get(key);
    if (rendering) {
      this.counters.snapshotsShared++;
      return rendering;
    }
    const render = this.snapshot(topics, key).finally(() => this.snapshotRenders.delete(key));
    this.snapshotRenders.set(key, render);
    return render;
  }

  private reusable(snapshot: SharedSnapshot): boolean {
    const maxAge = this.options.snapshotCache?.maxAgeMs ?? 10_000;
    if (Date.now() - snapshot.renderedAt > maxAge) return false;
    // A topic nobody watched when it rendered, or that lost its watchers since, may have
    // changed without an event (session lists are tracked only while watched).
    if (snapshot.topics.some((t, i) => snapshot.epochs[i] === -1 || snapshot.epochs[i] !== this.epochOf(t))) return false;
    return this.replayableSince(snapshot.topics, snapshot.seq);
  }

  /** The snapshot with every event sent after it folded in, formatted once for all who need it. */
  private rebase(snapshot: SharedSnapshot): SharedSnapshot {
    const delta = this.sentSince(snapshot.topics, snapshot.seq);
    const seq = this.settledSeq();
    if (delta.size === 0) return snapshot;
    const fragments = new Map(snapshot.fragments);
    for (const [id, html] of delta) fragments.set(id, html);
    const next: SharedSnapshot = { ...snapshot, seq, fragments, body: snapshotBody(fragments) };
    if (this.snapshots.get(snapshot.key) === snapshot) this.cache(next);
    return next;
  }

  private cache(snapshot: SharedSnapshot): void {
    const old = this.snapshots.get(snapshot.key);
    if (old) this.snapshotCacheBytes -= old.body.length;
    this.snapshots.delete(snapshot.key);
    if (snapshot.epochs.includes(-1)) return; // see reusable
    this.snapshots.set(snapshot.key, snapshot);
    this.snapshotCacheBytes += snapshot.body.length;
    const max = this.options.snapshotCache?.maxBytes ?? 32 << 20;
    for (const [key, s] of this.snapshots) {
      if (this.snapshotCacheBytes <= max) break;
      this.snapshots.delete(key);
      this.snapshotCacheBytes -= s.body.length;
    }
  }

  private epochOf(topic: string): number {
    return (this.byTopic.get(topic)?.size ?? 0) > 0 ? (this.epochs.get(topic) ?? 0) : -1;
  }

  /** The regions of these topics as they are now, and the last event id older than them. */
  private async snapshot(topics: readonly string[], key: string): Promise<SharedSnapshot> {
    for (let attempt = 1; ; attempt++) {
      const seq = this.settledSeq();
      const epochs = topics.map((t) => this.epochOf(t));
      const renderedAt = Date.now();
      this.rendersFrom.set(seq, (this.rendersFrom.get(seq) ?? 0) + 1);
      let fragments: Map<string, string>;
      try {
        fragments = await this.renderAll(topics.flatMap((t) => this.options.catalog.snapshot(t)));
      } finally {
        const n = this.rendersFrom.get(seq)! - 1;
        if (n === 0) this.rendersFrom.delete(seq);
        else this.rendersFrom.set(seq, n);
      }
      // Something sent to one of these topics while nobody subscribed (or published straight
      // to it, a log chunk) is in neither the snapshot nor the history: render again.
      if (attempt >= 3 || (seq >= this.skippedFloor && !topics.some((t) => (this.skipped.get(t)?.seq ?? 0) > seq))) {
        const snapshot: SharedSnapshot = { key, topics: [...topics], seq, renderedAt, epochs, fragments, body: snapshotBody(fragments) };
        this.cache(snapshot);
        return snapshot;
      }
    }
  }

  /** What was sent to these topics (and to everyone) after `seq`, merged in order. */
  private sentSince(topics: readonly string[], seq: number): Map<string, string> {
    const wanted = new Set([...topics, EVERYONE]);
    const merged = new Map<string, string>();
    for (const event of this.history.since(seq)) {
      if (wanted.has(event.topic)) for (const [id, html] of event.fragments) merged.set(id, html);
    }
    return merged;
  }

  private async renderAll(fragments: Fragment[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const f of fragments) {
      const html = await this.renderOne(f);
      if (html !== undefined) out.set(f.id, html);
    }
    return out;
  }

  private async renderOne(fragment: Fragment): Promise<string | undefined> {
    try {
      this.counters.fragmentsRendered++;
      return outOfBand(await this.options.render(fragment.template, fragment.data), fragment.swap);
    } catch (err) {
      this.options.store.errors.record('live_render', err, 'could not render a live fragment', { fragment: fragment.id });
      return undefined;
    }
  }

  private heartbeat(): void {
    for (const client of [...this.clients]) {
      client.checkStalled();
      client.sendControl(': keep-alive\n\n');
    }
  }

  private forget(client: LiveClient, reason: DropReason): void {
    this.clients.delete(client);
    for (const topic of client.topics) {
      const set = this.byTopic.get(topic);
      set?.delete(client);
      if (set?.size === 0) {
        this.byTopic.delete(topic);
        this.epochs.set(topic, (this.epochs.get(topic) ?? 0) + 1);
        this.topicActive(topic, false);
      }
    }
    if (reason === 'slow') {
      this.counters.dropped++;
      this.options.log.warn({ topics: [...client.topics] }, 'dropped a live client that could not keep up');
    }
  }

  private topicActive(topic: string, active: boolean): void {
    try {
      this.options.onTopicActive?.(topic, active);
    } catch (err) {
      this.options.store.errors.record('topic_listener', err, 'a topic listener failed', { topic });
    }
  }

  private eventId(seq: number): string {
    return eventId(this.bootId, seq);
  }
}

/** An `update` event: htmx's SSE extension swaps each fragment out of band by its id. */
function formatUpdate(id: string, fragments: ReadonlyMap<string, string>): string {
  return formatEvent(id, 'update', [...fragments.values()].join('\n'));
}

/** A snapshot's `update` event without its id and closing blank line (SSE fields may come in any order). */
function snapshotBody(fragments: ReadonlyMap<string, string>): Buffer {
  return Buffer.from(formatUpdate('', fragments).slice(0, -1));
}

/** What one skipped entry takes, roughly: the key's UTF-16 characters and the map's entry. */
function skippedEntryBytes(topic: string): number {
  return topic.length * 2 + 64;
}
