// Snapshots shared between clients: the regions of a topic set are rendered once per topic
// set and revision, and the same bytes go to every client that connects to it. Clients
// that connect while it renders wait for the same rendering; later ones reuse it for as
// long as every change since is in the history, folded in (rebase). A fleet reconnecting
// after a deploy costs one render, not one per client.
import { formatUpdate } from './sse-frame.js';
import type { SentEvents } from './sent-events.js';

/**
 * One rendering of a topic set's regions, shared by every client that connects to it. It
 * shows the store as of event `seq`: a client gets it plus every event after `seq` (folded
 * in once per revision, see rebase), so it is never older than what the client gets next.
 */
export interface SharedSnapshot {
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

export interface SnapshotCacheOptions {
  /** Total bytes kept, and how long one may be reused. */
  maxBytes?: number;
  maxAgeMs?: number;
}

export class SnapshotCache {
  private readonly snapshots = new Map<string, SharedSnapshot>();
  private readonly renders = new Map<string, Promise<SharedSnapshot>>();
  private bytes = 0;
  /** Connects that reused a snapshot (cached or rendering). */
  shared = 0;

  constructor(
    private readonly events: SentEvents,
    private readonly epochOf: (topic: string) => number,
    /** The regions of these topics as they are now. */
    private readonly renderTopics: (topics: readonly string[]) => Promise<Map<string, string>>,
    private readonly options: SnapshotCacheOptions = {},
  ) {}

  /** The regions of these topics, rendered once per topic set and revision. */
  get(topics: readonly string[]): Promise<SharedSnapshot> {
    const key = [...topics].sort().join('\n');
    const cached = this.snapshots.get(key);
    if (cached && this.reusable(cached)) {
      this.shared++;
      // Most recently used last: the oldest entry is the first to go.
      this.snapshots.delete(key);
      this.snapshots.set(key, cached);
      return Promise.resolve(cached);
    }
    const rendering = this.renders.get(key);
    if (rendering) {
      this.shared++;
      return rendering;
    }
    const render = this.render(topics, key).finally(() => this.renders.delete(key));
    this.renders.set(key, render);
    return render;
  }

  /** The snapshot with every event sent after it folded in, formatted once for all who need it. */
  rebase(snapshot: SharedSnapshot): SharedSnapshot {
    const delta = this.events.sentSince(snapshot.topics, snapshot.seq);
    const seq = this.events.settled();
    if (delta.size === 0) return snapshot;
    const fragments = new Map(snapshot.fragments);
    for (const [id, html] of delta) fragments.set(id, html);
    const next: SharedSnapshot = { ...snapshot, seq, fragments, body: snapshotBody(fragments) };
    if (this.snapshots.get(snapshot.key) === snapshot) this.cache(next);
    return next;
  }

  stats(): { snapshotsCached: number; snapshotBytes: number; snapshotsShared: number } {
    return { snapshotsCached: this.snapshots.size, snapshotBytes: this.bytes, snapshotsShared: this.shared };
  }

  private reusable(snapshot: SharedSnapshot): boolean {
    if (Date.now() - snapshot.renderedAt > (this.options.maxAgeMs ?? 10_000)) return false;
    // A topic nobody watched when it rendered, or that lost its watchers since, may have
    // changed without an event (session lists are tracked only while watched).
    if (snapshot.topics.some((t, i) => snapshot.epochs[i] === -1 || snapshot.epochs[i] !== this.epochOf(t))) return false;
    return this.events.replayableSince(snapshot.topics, snapshot.seq);
  }

  private cache(snapshot: SharedSnapshot): void {
    const old = this.snapshots.get(snapshot.key);
    if (old) this.bytes -= old.body.length;
    this.snapshots.delete(snapshot.key);
    if (snapshot.epochs.includes(-1)) return; // see reusable
    this.snapshots.set(snapshot.key, snapshot);
    this.bytes += snapshot.body.length;
    const max = this.options.maxBytes ?? 32 << 20;
    for (const [key, s] of this.snapshots) {
      if (this.bytes <= max) break;
      this.snapshots.delete(key);
      this.bytes -= s.body.length;
    }
  }

  /** The regions of these topics as they are now, and the last event id older than them. */
  private async render(topics: readonly string[], key: string): Promise<SharedSnapshot> {
    for (let attempt = 1; ; attempt++) {
      const seq = this.events.settled();
      const epochs = topics.map((t) => this.epochOf(t));
      const renderedAt = Date.now();
      const fragments = await this.events.renderingFrom(seq, () => this.renderTopics(topics));
      // Something sent to one of these topics while nobody subscribed (or published straight
      // to it, a log chunk) is in neither the snapshot nor the history: render again.
      if (attempt >= 3 || !this.events.missedSince(topics, seq)) {
        const snapshot: SharedSnapshot = { key, topics: [...topics], seq, renderedAt, epochs, fragments, body: snapshotBody(fragments) };
        this.cache(snapshot);
        return snapshot;
      }
    }
  }
}

/** A snapshot's `update` event without its id and closing blank line (SSE fields may come in any order). */
function snapshotBody(fragments: ReadonlyMap<string, string>): Buffer {
  return Buffer.from(formatUpdate('', fragments).slice(0, -1));
}
