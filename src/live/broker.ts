// The live broker: turns store changes into page fragments and fans them out over SSE.
// Bursts are coalesced for a short window; each out-of-date fragment is rendered once and
// the same bytes go to every subscriber of its topic. On every (re)connect a client first
// gets a snapshot of its topics (or, when its Last-Event-ID is recent enough, exactly the
// events it missed), so a reconnect can never leave a stale tile behind.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FarmStore } from '../farm/store.js';
import { DEFAULT_LIMITS, LiveClient, type ClientLimits, type DropReason } from './client.js';
import { outOfBand } from './oob.js';
import { formatEvent } from './sse-frame.js';
import type { Fragment, FragmentCatalog, TopicFragment } from './fragments.js';

export type Render = (template: string, data: Record<string, unknown>) => Promise<string>;

export interface BrokerOptions {
  store: FarmStore;
  catalog: FragmentCatalog;
  render: Render;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  coalesceMs?: number;
  heartbeatMs?: number;
  staleCheckMs?: number;
  historySize?: number;
  limits?: ClientLimits;
  /** Told when a topic gets its first subscriber (true) and loses its last (false): log topics follow a pod only while watched. */
  onTopicActive?: (topic: string, active: boolean) => void;
}

interface SentEvent {
  seq: number;
  topic: string;
  fragments: Map<string, string>;
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
}

/** Every client is told to wait this long before reconnecting, and on shutdown. */
// 1 s: a restarted dashboard (or the next replica) is picked up within ~1-2 s; while it is
// down a refused connection costs nothing. Chromium retries network errors at this delay.
export const RETRY_MS = 1_000;
/** '*' addresses every client, whatever its topics (the live badge). */
const EVERYONE = '*';

export class Broker {
  readonly bootId = randomBytes(4).toString('hex');
  private readonly clients = new Set<LiveClient>();
  private readonly byTopic = new Map<string, Set<LiveClient>>();
  private dirty = new Map<string, Map<string, Fragment>>();
  private readonly history: SentEvent[] = [];
  /** Last sequence number of an event not kept for a topic (no one was listening). */
  private readonly skipped = new Map<string, number>();
  private readonly staleSeen = new Map<string, boolean>();
  private seq = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private flushing: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private readonly counters = { dropped: 0, eventsSent: 0, deliveries: 0, fragmentsRendered: 0 };
  private closed = false;

  constructor(private readonly options: BrokerOptions) {}

  start(): void {
    this.unsubscribe = this.options.store.subscribe((change) => this.mark(this.options.catalog.affected(change)));
    this.timers.push(
      setInterval(() => this.heartbeat(), this.options.heartbeatMs ?? 15_000),
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
    const snapshot = replay ? undefined : await this.snapshot(topics);
    const fragments = replay ?? snapshot!.fragments;
    if (client.isEnded || this.closed) return client;
    // Events sent to other subscribers while the snapshot rendered never reached this client,
    // and the snapshot's data may be older than theirs: apply them on top, in order. (Any
    // of them older than the snapshot is followed by a newer event, also in this list.)
    if (snapshot) for (const [id, html] of this.sentSince(topics, snapshot.seq)) fragments.set(id, html);
    this.clients.add(client);
    const activated: string[] = [];
    for (const topic of client.topics) {
      let set = this.byTopic.get(topic);
      if (!set) this.byTopic.set(topic, (set = new Set()));
      set.add(client);
      if (set.size === 1) activated.push(topic);
    }
    if (fragments.size > 0) {
      const id = this.eventId(this.seq);
      client.send(id, formatUpdate(id, fragments), fragments);
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
    this.skipped.set(topic, seq);
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
    this.skipped.set(topic, ++this.seq);
  }

  stats(): BrokerStats {
    let maxHeldBytes = 0;
    for (const c of this.clients) maxHeldBytes = Math.max(maxHeldBytes, c.heldBytes);
    return { clients: this.clients.size, maxHeldBytes, ...this.counters };
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

  /** Ends every stream with a retry hint, so browsers come back to the next replica. */
  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.flushTimer);
    for (const client of [...this.clients]) client.end('shutdown', `retry: ${RETRY_MS}\nevent: shutdown\ndata: server restarting\n\n`);
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
        void this.flush();
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
        this.skipped.set(topic, seq);
        continue;
      }
      const html = new Map<string, string>();
      for (const fragment of fragments.values()) {
        let out = rendered.get(fragment.id);
        if (out === undefined) {
          out = await this.renderOne(fragment);
          if (out === undefined) continue;
          rendered.set(fragment.id, out);
        }
        html.set(fragment.id, out);
      }
      if (html.size === 0) continue;
      const id = this.eventId(seq);
      const bytes = Buffer.from(formatUpdate(id, html));
      this.remember({ seq, topic, fragments: html });
      this.counters.deliveries += subscribers.size; // counted first: sending may drop a slow client from the set
      for (const client of [...subscribers]) client.send(id, bytes, html);
      this.counters.eventsSent++;
    }
  }

  /** The events a reconnecting client missed, merged, or undefined when a snapshot is needed. */
  private replayFor(topics: readonly string[], lastEventId: string | undefined): Map<string, string> | undefined {
    const match = lastEventId?.match(/^([0-9a-f]+)-(\d+)$/);
    if (!match || match[1] !== this.bootId) return undefined;
    const last = Number(match[2]);
    const oldest = this.history[0]?.seq ?? this.seq + 1;
    if (last > this.seq || last < oldest - 1) return undefined;
    for (const topic of [...topics, EVERYONE]) if ((this.skipped.get(topic) ?? 0) > last) return undefined;
    return this.sentSince(topics, last);
  }

  private remember(event: SentEvent): void {
    this.history.push(event);
    const max = this.options.historySize ?? 500;
    if (this.history.length > max) this.history.splice(0, this.history.length - max);
  }

  /** The regions of these topics as they are now, and the last event id older than them. */
  private async snapshot(topics: readonly string[]): Promise<{ fragments: Map<string, string>; seq: number }> {
    for (let attempt = 1; ; attempt++) {
      const seq = this.seq;
      const fragments = await this.renderAll(topics.flatMap((t) => this.options.catalog.snapshot(t)));
      // Something sent to one of these topics while nobody subscribed (or published straight
      // to it, a log chunk) is in neither the snapshot nor the history: render again.
      if (attempt >= 3 || !topics.some((t) => (this.skipped.get(t) ?? 0) > seq)) return { fragments, seq };
    }
  }

  /** What was sent to these topics (and to everyone) after `seq`, merged in order. */
  private sentSince(topics: readonly string[], seq: number): Map<string, string> {
    const wanted = new Set([...topics, EVERYONE]);
    const merged = new Map<string, string>();
    for (const event of this.history) {
      if (event.seq > seq && wanted.has(event.topic)) for (const [id, html] of event.fragments) merged.set(id, html);
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
      this.options.log.error({ err, fragment: fragment.id }, 'could not render a live fragment');
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
      this.options.log.error({ err, topic }, 'a topic listener failed');
    }
  }

  private eventId(seq: number): string {
    return `${this.bootId}-${seq}`;
  }
}

/** An `update` event: htmx's SSE extension swaps each fragment out of band by its id. */
function formatUpdate(id: string, fragments: ReadonlyMap<string, string>): string {
  return formatEvent(id, 'update', [...fragments.values()].join('\n'));
}
