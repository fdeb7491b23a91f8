// The runner log of a TestSession, live on its page. A page subscribes to the topic
// log:<namespace>/<session>; its first subscriber starts ONE upstream follow of the runner
// pod's log, shared by every viewer, and the last one to leave stops it. The follow starts
// again when the session gets a (new) runner pod, or after a backoff when the stream ends
// or fails while the session still runs. Lines reach viewers as append-only chunks, at most
// one per interval and of bounded size, so a chatty pod cannot flood a browser; a bounded
// tail is kept for the snapshot a viewer gets on (re)connect, and it always equals what
// the chunks sent so far add up to. Log text is untrusted: control and escape sequences are
// removed (log-text.ts), and the templates escape the rest. Pod logs are read through
// kube/pod-logs.ts. This file is the registry of follows; one follow's state machine is in
// log-follow.ts, its lines between pod and page in log-buffer.ts, the panel's words and
// ids in log-panel.ts.
import { key, type FarmChange, type FarmStore } from '../farm/store.js';
import { FINISHED_PHASES } from '../farm/types.js';
import type { PodLogReader } from '../kube/pod-logs.js';
import { DEFAULT_LOG_LIMITS, LogFollow, panelData, type FollowContext, type LogLimits } from './log-follow.js';
import { parseLogTopic, type LogPanelData } from './log-panel.js';

/** Where log fragments go: the broker. */
export interface LogSink {
  /** Sends rendered fragments to the topic's subscribers at once, in call order. */
  publish(topic: string, fragments: ReadonlyMap<string, string>): void;
  /** The topic's earlier events cannot be replayed any more: a reconnecting page needs a snapshot. */
  invalidate(topic: string): void;
}
export type RenderLog = (template: string, data: Record<string, unknown>) => Promise<string>;

export interface LogFollowersOptions {
  store: FarmStore;
  reader: PodLogReader;
  render: RenderLog;
  sink: LogSink;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  limits?: Partial<LogLimits>;
}

export interface LogFollowerStats {
  /** Sessions whose log some page is watching. */
  follows: number;
  /** Open pods/log requests (page follows and API streams). */
  upstreams: number;
}

export class LogFollowers {
  private readonly follows = new Map<string, LogFollow>();
  private readonly limits: LogLimits;
  private readonly context: FollowContext;
  private chunkSeq = 0;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly options: LogFollowersOptions) {
    this.limits = { ...DEFAULT_LOG_LIMITS, ...options.limits };
    this.context = {
      store: options.store,
      reader: options.reader,
      limits: this.limits,
      log: options.log,
      render: (template, data) => this.render(template, data),
      publish: (topic, fragments) => {
        if (!this.closed) options.sink.publish(topic, fragments);
      },
      nextChunk: () => ++this.chunkSeq,
    };
  }

  start(): void {
    this.unsubscribe = this.options.store.subscribe((change) => this.onChange(change));
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    for (const f of [...this.follows.values()]) this.unwatch(f);
  }

  stats(): LogFollowerStats {
    return { follows: this.follows.size, upstreams: this.options.reader.upstreams };
  }

  /** The broker calls this when a topic gets its first subscriber (true) or loses its last. */
  onTopic(topic: string, active: boolean): void {
    const parsed = parseLogTopic(topic);
    if (!parsed) return;
    const k = key(parsed.namespace, parsed.name);
    const existing = this.follows.get(k);
    if (!active) {
      if (existing) this.unwatch(existing);
      return;
    }
    if (existing || this.closed) return;
    // What the first subscriber's snapshot showed: the status line changes from there.
    const f = new LogFollow(this.context, parsed.namespace, parsed.name, topic, this.panel(parsed.namespace, parsed.name));
    this.follows.set(k, f);
    f.reconcile();
  }

  /** The log panel as it stands: for the page and for a new subscriber's snapshot. */
  panel(namespace: string, name: string): LogPanelData {
    const f = this.follows.get(key(namespace, name));
    if (f) return f.panel();
    const s = this.options.store.getSession(namespace, name);
    if (!s) return panelData(namespace, name, this.options.store.syncStatus().synced ? 'missing' : 'unknown', '', '', '', []);
    if (!s.podName) return panelData(namespace, name, FINISHED_PHASES.has(s.phase) ? 'none' : 'waiting', '', s.phase, '', []);
    return panelData(namespace, name, 'connecting', s.podName, s.phase, '', []);
  }

  private onChange(change: FarmChange): void {
    if (change.kind !== 'session' && change.kind !== 'sync') return;
    if (change.kind === 'sync') {
      for (const f of this.follows.values()) if (f.state === 'unknown') f.reconcile();
      return;
    }
    this.follows.get(key(change.view.namespace, change.view.name))?.reconcile();
  }

  private unwatch(f: LogFollow): void {
    f.stop();
    this.follows.delete(key(f.namespace, f.name));
    // Lines written while no one watches are never sent: a page that comes back after the
    // gap must not be replayed what it missed (nothing), but get a fresh snapshot.
    this.options.sink.invalidate(f.topic);
  }

  private async render(template: string, data: Record<string, unknown>): Promise<string | undefined> {
    try {
      return (await this.options.render(template, data)).trim();
    } catch (err) {
      this.options.store.errors.record('log_update', err, 'could not render a runner log fragment', { template });
      return undefined;
    }
  }
}
