// The live broker: turns store changes into page fragments and fans them out over SSE.
// Bursts are coalesced for a short window; each out-of-date fragment is rendered once and
// the same bytes go to every subscriber of its topic. On every (re)connect a client first
// gets a snapshot of its topics (or, when its Last-Event-ID is recent enough, exactly the
// events it missed), so a reconnect can never leave a stale tile behind. Its parts: who
// listens (subscribers.ts), the event sequence and replay (sent-events.ts), snapshots
// shared between clients (snapshot-cache.ts), one client's stream (client.ts).
// A little over 300 lines: connecting, coalescing and sending share one event order.
import type { ServerResponse } from 'node:http';
import type { FarmStore } from '../farm/store.js';
import { DEFAULT_LIMITS, LiveClient, sharedEvent, type ClientLimits, type DropReason } from './client.js';
import { outOfBand } from './oob.js';
import { eventId, newBootId, seqOfEventId } from './event-id.js';
import { closingEvent, formatUpdate, RETRY_HINT } from './sse-frame.js';
import type { Fragment, FragmentCatalog, TopicFragment } from './fragments.js';
import type { ReplayBounds } from './replay-log.js';
import { SentEvents } from './sent-events.js';
import { SnapshotCache, type SharedSnapshot } from './snapshot-cache.js';
import { Subscribers } from './subscribers.js';

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

/** What a stream hears when the dashboard shuts down: come back (to the next replica) soon. */
const SHUTDOWN_EVENT = closingEvent('shutdown', 'server restarting');

export class Broker {
  readonly bootId = newBootId();
  private readonly subscribers = new Subscribers();
  private readonly events: SentEvents;
  private readonly snapshots: SnapshotCache;
  private dirty = new Map<string, Map<string, Fragment>>();
  private readonly staleSeen = new Map<string, boolean>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushQueued = false;
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private flushing: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private readonly counters = { dropped: 0, eventsSent: 0, deliveries: 0, fragmentsRendered: 0 };
  private closed = false;

  constructor(private readonly options: BrokerOptions) {
    this.events = new SentEvents(options.replay, options.maxSkippedTopics);
    this.snapshots = new SnapshotCache(
      this.events,
      (topic) => this.subscribers.epochOf(topic),
      (topics) => this.renderAll(topics.flatMap((t) => options.catalog.snapshot(t))),
      options.snapshotCache,
    );
  }

  start(): void {
    this.unsubscribe = this.options.store.subscribe((change) => this.mark(this.options.catalog.affected(change)));
    this.timers.push(
      setInterval(() => {
        this.heartbeat();
        this.events.prune();
      }, this.options.heartbeatMs ?? 15_000),
      setInterval(() => this.mark(this.options.catalog.staleFlips(this.staleSeen)), this.options.staleCheckMs ?? 10_000),
    );
    for (const t of this.timers) t.unref();
    this.options.catalog.staleFlips(this.staleSeen);
  }

  /** Registers a subscriber whose response headers are already sent, and brings it up to date. */
  async connect(res: ServerResponse, topics: readonly string[], lastEventId: string | undefined): Promise<LiveClient> {
    const client = new LiveClient(res, topics, this.options.limits ?? DEFAULT_LIMITS, (c, reason) => this.forget(c, reason), Date.now, formatUpdate);
    client.sendControl(RETRY_HINT);
    const replay = this.events.replayFor(topics, seqOfEventId(lastEventId, this.bootId));
    let snapshot: SharedSnapshot | undefined;
    if (!replay) {
      for (let attempt = 1; ; attempt++) {
        snapshot = await this.snapshots.get(topics);
        if (client.isEnded || this.closed) return this.turnAway(client);
        // Every change since it must still be at hand (in history) to be folded in below.
        if (attempt >= 3 || this.events.replayableSince(snapshot.topics, snapshot.seq)) break;
      }
      // Events sent to other subscribers while the snapshot rendered (or since it was cached)
      // never reached this client, and the snapshot's data may be older than theirs: fold
      // them in, in order. (Any of them older than the snapshot is followed by a newer
      // event, also in this list.)
      snapshot = this.snapshots.rebase(snapshot!);
    }
    if (client.isEnded || this.closed) return this.turnAway(client);
    const activated = this.subscribers.add(client);
    const id = this.eventId(this.events.settled());
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
    const seq = this.events.next();
    this.events.skip(topic, seq);
    const subscribers = this.subscribers.of(topic);
    if (!subscribers || subscribers.size === 0) return;
    const id = this.eventId(seq);
    const bytes = sharedEvent(formatUpdate(id, fragments));
    this.counters.deliveries += subscribers.size; // counted first: sending may drop a slow client from the set
    for (const client of [...subscribers]) client.send(id, bytes, fragments);
    this.counters.eventsSent++;
  }

  /** A topic whose earlier events cannot be replayed any more: a reconnecting subscriber gets a snapshot. */
  invalidate(topic: string): void {
    this.events.skip(topic, this.events.next());
  }

  stats(): BrokerStats {
    let maxHeldBytes = 0;
    for (const c of this.subscribers.all) maxHeldBytes = Math.max(maxHeldBytes, c.heldBytes);
    return { clients: this.subscribers.all.size, maxHeldBytes, ...this.counters, ...this.events.stats(), ...this.snapshots.stats() };
  }

  /** Waits until changes marked so far have been sent (tests and shutdown). */
  async settle(): Promise<void> {
    while (this.flushTimer || this.flushQueued || this.flushing) {
      if (this.flushTimer) {
        clearTimeout(this.flushTimer);
        this.flushTimer = undefined;
        await this.flush();
      } else if (this.flushQueued) {
        // Started here, not left to its tick: awaited in a chain of microtasks, a tick never comes.
        this.startQueuedFlush();
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
    this.flushTimer = undefined;
    this.flushQueued = false;
    for (const client of [...this.subscribers.all]) client.end('shutdown', SHUTDOWN_EVENT);
  }

  private mark(items: TopicFragment[]): void {
    if (this.closed || items.length === 0) return;
    for (const { topic, fragment } of items) {
      let map = this.dirty.get(topic);
      if (!map) this.dirty.set(topic, (map = new Map()));
      map.set(fragment.id, fragment);
    }
    if (!this.flushTimer && !this.flushQueued) {
      // At most one flush per window. During a burst the rest wait for the window's end and
      // go out as one event. A change after a quiet spell goes out once the code that made it
      // and its microtasks are done: the watch events of one network read (read line by line,
      // a microtask each) still travel together. Not on a timer, because a timer waits for the
      // event loop's whole poll phase, and during a connect storm that phase runs hundreds of
      // connects first.
      const wait = Math.max(0, this.lastFlushAt + (this.options.coalesceMs ?? 50) - Date.now());
      if (wait === 0) {
        this.flushQueued = true;
        process.nextTick(() => this.startQueuedFlush());
      } else {
        this.flushTimer = setTimeout(() => {
          this.flushTimer = undefined;
          this.startFlush();
        }, wait);
      }
    }
  }

  private startQueuedFlush(): void {
    if (!this.flushQueued) return; // settle() or close() came first
    this.flushQueued = false;
    this.startFlush();
  }

  private startFlush(): void {
    if (this.closed) return;
    this.lastFlushAt = Date.now();
    this.options.store.errors.watch('live_flush', this.flush(), 'a live flush failed; its changes were not sent');
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
    // Every topic's event is rendered first and written after, in one burst: interleaving
    // renders with writes let the readers fall idle between topics, and waking an idle reader
    // made each write dearer (100 scoped views of the farm: +3 ms per change for 1,000 writes).
    const outgoing: Array<{ audience: LiveClient[]; id: string; bytes: Buffer; html: Map<string, string> }> = [];
    for (const [topic, fragments] of dirty) {
      const seq = this.events.next();
      const subscribers = this.subscribers.of(topic);
      if (!subscribers || subscribers.size === 0) {
        this.events.skip(topic, seq);
        continue;
      }
      const html = new Map<string, string>();
      this.events.inFlight = seq;
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
        this.events.inFlight = undefined;
      }
      if (html.size === 0) continue;
      const id = this.eventId(seq);
      const bytes = sharedEvent(formatUpdate(id, html));
      this.events.remember({ seq, topic, fragments: html, bytes: bytes.length, at: Date.now() });
      // Whoever subscribes now: the set may have been replaced while this rendered (its last
      // subscriber left and a new one came, whose snapshot did not have this event yet). Who
      // connects from here on finds the event in history and folds it into their snapshot.
      outgoing.push({ audience: [...(this.subscribers.of(topic) ?? subscribers)], id, bytes, html });
    }
    for (const { audience, id, bytes, html } of outgoing) {
      this.counters.deliveries += audience.length;
      for (const client of audience) client.send(id, bytes, html);
      this.counters.eventsSent++;
    }
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
    for (const client of [...this.subscribers.all]) {
      client.checkStalled();
      client.sendControl(': keep-alive\n\n');
    }
  }

  private forget(client: LiveClient, reason: DropReason): void {
    this.subscribers.remove(client, (topic) => this.topicActive(topic, false));
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
