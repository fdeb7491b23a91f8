// The JSON event stream for scripts (GET /api/v1/events): every pool, device and session
// change as a typed SSE event with an id. A reconnecting client that sends Last-Event-ID
// gets exactly what it missed while that is still in memory, else a `reset` event telling
// it to re-read the lists. Slow clients are held to the same bounds as the page streams.
import type { ServerResponse } from 'node:http';
import { deviceJSON, poolJSON, sessionSummaryJSON } from '../farm/json.js';
import type { FarmChange, FarmStore } from '../farm/store.js';
import { DEFAULT_LIMITS, LiveClient, type ClientLimits, type DropReason } from './client.js';
import { eventId, newBootId, seqOfEventId } from './event-id.js';
import { formatEvent, RETRY_HINT } from './sse-frame.js';
import { DEFAULT_REPLAY_BOUNDS, ReplayLog, type ReplayBounds } from './replay-log.js';

export interface FeedFilter {
  namespace?: string | undefined;
  pool?: string | undefined;
  /**
   * What the subscriber's person may see, per kind (undefined: everything). Checked per
   * event at the subscriber: each event is still serialised once for every client.
   */
  visible?: FeedVisible | undefined;
  /**
   * A signed-in person's: hears their `visible` each time it is asked again (as the answers
   * it rests on expire, or at once after a 403; undefined when that failed, and then the
   * feed sends nothing of theirs until the next answer). Never per event. Returns a stop.
   */
  follow?: ((onVisible: (visible: FeedVisible | undefined) => void) => () => void) | undefined;
}

export type FeedVisible = { pools: ReadonlySet<string> | undefined; sessions: ReadonlySet<string> | undefined };

const NOTHING: FeedVisible = { pools: new Set(), sessions: new Set() };

interface FeedEvent {
  seq: number;
  bytes: number;
  at: number;
  namespace: string;
  pool: string | undefined;
  /** Which kind of object: what the subscriber must be allowed to list to get it. */
  kind: 'pools' | 'sessions';
  objectKey: string;
  text: string;
}

export class JsonFeed {
  readonly bootId = newBootId();
  private closed = false;
  private readonly clients = new Map<LiveClient, FeedFilter>();
  /** Per client that follows a person's scope: how to stop following. */
  private readonly unfollow = new Map<LiveClient, () => void>();
  private readonly history: ReplayLog<FeedEvent>;
  private seq = 0;
  /** Running totals for /metrics, as the broker keeps them for the pages. */
  private readonly counters = { eventsSent: 0, deliveries: 0, dropped: 0 };
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: FarmStore,
    private readonly options: { replay?: Partial<ReplayBounds>; limits?: ClientLimits; heartbeatMs?: number } = {},
  ) {
    this.history = new ReplayLog({ ...DEFAULT_REPLAY_BOUNDS, ...options.replay });
  }

  start(): void {
    this.unsubscribe = this.store.subscribe((change) => this.publish(change));
    this.timer = setInterval(() => {
      this.history.prune();
      for (const client of this.clients.keys()) {
        client.checkStalled();
        client.sendControl(': keep-alive\n\n');
      }
    }, this.options.heartbeatMs ?? 15_000);
    this.timer.unref();
  }

  connect(res: ServerResponse, filter: FeedFilter, lastEventId: string | undefined): LiveClient {
    // A slow client's events wait in order, one entry each (no coalescing): a script is told
    // every change or, once dropped, gets them replayed or a reset when it reconnects.
    const client = new LiveClient(res, [], this.options.limits ?? DEFAULT_LIMITS, (c, reason) => this.forget(c, reason), Date.now, (_id, pending) => [...pending.values()].join(''));
    client.sendControl(RETRY_HINT);
    const last = seqOfEventId(lastEventId, this.bootId);
    const oldest = this.history.oldestSeq ?? this.seq + 1;
    if (last !== undefined && last <= this.seq && last >= oldest - 1) {
      // All of it in one write: Node buffers what the socket cannot take yet.
      let missed = '';
      for (const e of this.history.since(last)) if (matches(filter, e)) missed += e.text;
      client.sendBacklog(missed);
    } else {
      const id = eventId(this.bootId, this.seq);
      client.sendBacklog(formatEvent(id, 'reset', JSON.stringify({ reason: lastEventId ? 'missed events are no longer available' : 'new connection', pools: this.store.listPools().filter((p) => !filter.visible?.pools || filter.visible.pools.has(p.namespace)).length })));
    }
    // Closed meanwhile (a script reconnecting as the dashboard shuts down): end it too, or its
    // open response would hold app.close() forever.
    if (this.closed) client.end('shutdown', RETRY_HINT);
    else if (!client.isEnded) {
      this.clients.set(client, filter);
      // Unsure what the person may see (a refresh failed): nothing of theirs until it is known.
      if (filter.follow) this.unfollow.set(client, filter.follow((visible) => (filter.visible = visible ?? NOTHING)));
    }
    return client;
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    for (const client of [...this.clients.keys()]) client.end('shutdown', RETRY_HINT);
    for (const stop of this.unfollow.values()) stop();
    this.unfollow.clear();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  stats(): { clients: number; eventsSent: number; deliveries: number; dropped: number; historyEvents: number; historyBytes: number } {
    return { clients: this.clients.size, ...this.counters, historyEvents: this.history.size, historyBytes: this.history.bytes };
  }

  private forget(client: LiveClient, reason: DropReason): void {
    this.clients.delete(client);
    this.unfollow.get(client)?.();
    this.unfollow.delete(client);
    if (reason === 'slow') this.counters.dropped++;
  }

  private publish(change: FarmChange): void {
    const typed = toTyped(change);
    if (!typed) return;
    const seq = ++this.seq;
    const id = eventId(this.bootId, seq);
    const text = formatEvent(id, typed.event, JSON.stringify({ id, ...typed.data }));
    const event: FeedEvent = { seq, bytes: text.length, at: Date.now(), namespace: typed.namespace, pool: typed.pool, kind: typed.event === 'session' ? 'sessions' : 'pools', objectKey: typed.objectKey, text };
    this.history.push(event);
    // Keyed by event, not by object: a blocked client keeps every event, in order, up to its byte bound.
    const pending = new Map([[id, event.text]]);
    let sent = 0;
    for (const [client, filter] of this.clients) {
      if (!matches(filter, event)) continue;
      client.send(id, event.text, pending);
      sent++;
    }
    if (sent > 0) {
      this.counters.eventsSent++;
      this.counters.deliveries += sent;
    }
  }
}

function matches(filter: FeedFilter, e: { namespace: string; pool: string | undefined; kind: 'pools' | 'sessions' }): boolean {
  const visible = filter.visible?.[e.kind];
  return (!filter.namespace || filter.namespace === e.namespace) && (!filter.pool || filter.pool === e.pool) && (!visible || visible.has(e.namespace));
}

function toTyped(change: FarmChange): { event: string; namespace: string; pool: string | undefined; objectKey: string; data: Record<string, unknown> } | undefined {
  const now = Date.now();
  switch (change.kind) {
    case 'pool':
      return { event: 'pool', namespace: change.view.namespace, pool: change.view.name, objectKey: `pool/${change.key}`, data: { type: change.type, pool: poolJSON(change.view) } };
    case 'device':
      return {
        event: 'device',
        namespace: change.pool.namespace,
        pool: change.pool.name,
        objectKey: `device/${change.poolKey}/${change.device.name}`,
        data: { type: change.type, namespace: change.pool.namespace, pool: change.pool.name, device: deviceJSON(change.device, now), previousState: change.old?.state ?? null },
      };
    case 'session':
      return { event: 'session', namespace: change.view.namespace, pool: change.view.spec.poolName, objectKey: `session/${change.key}`, data: { type: change.type, session: sessionSummaryJSON(change.view) } };
    default:
      return undefined;
  }
}
