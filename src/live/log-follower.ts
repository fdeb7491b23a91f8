// The runner log of a TestSession, live on its page. A page subscribes to the topic
// log:<namespace>/<session>; its first subscriber starts ONE upstream follow of the runner
// pod's log, shared by every viewer, and the last one to leave stops it. The follow starts
// again when the session gets a (new) runner pod, or after a backoff when the stream ends
// or fails while the session still runs. Lines reach viewers as append-only chunks, at most
// one per interval and of bounded size, so a chatty pod cannot flood a browser; a bounded
// tail is kept for the snapshot a viewer gets on (re)connect, and it always equals what
// the chunks sent so far add up to. Log text is untrusted: control and escape sequences are
// removed (log-text.ts), and the templates escape the rest. Pod logs are read through
// kube/pod-logs.ts; the panel's words and ids are in log-panel.ts.
import { LimitError } from '../http/limits.js';
import { Writable } from 'node:stream';
import { key, type FarmChange, type FarmStore } from '../farm/store.js';
import { FINISHED_PHASES, type SessionPhase } from '../farm/types.js';
import { Backoff } from '../kube/backoff.js';
import { ClusterError } from '../kube/errors.js';
import type { PodLogReader } from '../kube/pod-logs.js';
import { domId } from '../view/dom-id.js';
import { logHref, logViewerHref, panelIds, parseLogTopic, skipNotice, statusMessage, type LogPanelData, type LogState } from './log-panel.js';
import { joinLines, LineSplitter, newestWithin, shownLine, startsWithLines, type CleanOptions } from './log-text.js';
import { outOfBand } from './oob.js';

export interface LogLimits {
  /** Lines kept for the snapshot (and asked of the API when a follow starts). */
  tailLines: number;
  /** Bytes kept for the snapshot. */
  tailBytes: number;
  /** Most bytes of one appended chunk; older lines of a burst are skipped, with a notice. */
  chunkBytes: number;
  /** At most one chunk per session this often. */
  intervalMs: number;
  /** Longer lines are cut. */
  lineChars: number;
  /** How long a follow stays open after its session finished (kwok never ends a follow). */
  endGraceMs: number;
  retry: { initialMs: number; maxMs: number };
}

/**
 * Lines are read with the apiserver's timestamps and keep their colour codes: the log viewer
 * page (which follows the same topic) shows both; the panel shows shownLine() of each.
 */
const LINE_OPTIONS: CleanOptions = { timed: true, colours: true };

export const DEFAULT_LOG_LIMITS: LogLimits = {
  tailLines: 500,
  tailBytes: 256 * 1024,
  chunkBytes: 16 * 1024,
  intervalMs: 250,
  lineChars: 4096,
  endGraceMs: 5_000,
  retry: { initialMs: 1_000, maxMs: 30_000 },
};

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

interface Follow {
  namespace: string;
  name: string;
  topic: string;
  state: LogState;
  pod: string;
  phase: SessionPhase | '';
  detail: string;
  /** What viewers have been sent: the snapshot a new viewer gets. */
  tail: string[];
  tailBytes: number;
  /** Lines read but not yet sent. */
  pending: string[];
  pendingBytes: number;
  pendingSkipped: number;
  lines: LineSplitter;
  /** Bumped by every (re)start and stop: callbacks of an older follow do nothing. */
  generation: number;
  abort: AbortController | undefined;
  /** The next chunk replaces the panel's lines (a restarted follow re-reads the tail). */
  replaceNext: boolean;
  lastChunkAt: number;
  chunkTimer: NodeJS.Timeout | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  graceTimer: NodeJS.Timeout | undefined;
  backoff: Backoff;
  /** Renders run in order, so what viewers get is in order too. */
  chain: Promise<void>;
  lastStatus: string;
  stopped: boolean;
}

export interface LogFollowerStats {
  /** Sessions whose log some page is watching. */
  follows: number;
  /** Open pods/log requests (page follows and API streams). */
  upstreams: number;
}

export class LogFollowers {
  private readonly follows = new Map<string, Follow>();
  private readonly limits: LogLimits;
  private chunkSeq = 0;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly options: LogFollowersOptions) {
    this.limits = { ...DEFAULT_LOG_LIMITS, ...options.limits };
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
    const shown = this.panel(parsed.namespace, parsed.name);
    const f: Follow = {
      ...parsed,
      topic,
      state: shown.state,
      pod: '',
      phase: '',
      detail: '',
      tail: [],
      tailBytes: 0,
      pending: [],
      pendingBytes: 0,
      pendingSkipped: 0,
      lines: new LineSplitter(this.limits.lineChars, LINE_OPTIONS),
      generation: 0,
      abort: undefined,
      replaceNext: false,
      lastChunkAt: 0,
      chunkTimer: undefined,
      retryTimer: undefined,
      graceTimer: undefined,
      backoff: new Backoff(this.limits.retry),
      chain: Promise.resolve(),
      lastStatus: shown.message,
      stopped: false,
    };
    this.follows.set(k, f);
    this.reconcile(f);
  }

  /** The log panel as it stands: for the page and for a new subscriber's snapshot. */
  panel(namespace: string, name: string): LogPanelData {
    const f = this.follows.get(key(namespace, name));
    if (f) return this.panelData(f.namespace, f.name, f.state, f.pod, f.phase, f.detail, f.tail);
    const s = this.options.store.getSession(namespace, name);
    if (!s) return this.panelData(namespace, name, this.options.store.syncStatus().synced ? 'missing' : 'unknown', '', '', '', []);
    if (!s.podName) return this.panelData(namespace, name, FINISHED_PHASES.has(s.phase) ? 'none' : 'waiting', '', s.phase, '', []);
    return this.panelData(namespace, name, 'connecting', s.podName, s.phase, '', []);
  }

  // ---- lifecycle of one follow ----

  private onChange(change: FarmChange): void {
    if (change.kind !== 'session' && change.kind !== 'sync') return;
    if (change.kind === 'sync') {
      for (const f of this.follows.values()) if (f.state === 'unknown') this.reconcile(f);
      return;
    }
    const f = this.follows.get(key(change.view.namespace, change.view.name));
    if (f) this.reconcile(f);
  }

  /** Brings a follow in line with its session: no pod, a new pod, or a finished session. */
  private reconcile(f: Follow): void {
    if (f.stopped) return;
    const s = this.options.store.getSession(f.namespace, f.name);
    if (!s) return this.halt(f, this.options.store.syncStatus().synced ? 'missing' : 'unknown', '');
    f.phase = s.phase;
    if (!s.podName) return this.halt(f, FINISHED_PHASES.has(s.phase) ? 'none' : 'waiting', s.phase);
    if (s.podName !== f.pod) return this.restart(f, s.podName, true);
    if (FINISHED_PHASES.has(s.phase) && f.state === 'following' && f.abort && !f.graceTimer) {
      // The runner has exited; a kubelet ends the stream by itself, kwok never does.
      // Aborting ends run()'s follow like an end of stream: what was read still goes out.
      const abort = f.abort;
      f.graceTimer = setTimeout(() => {
        f.graceTimer = undefined;
        abort.abort();
      }, this.limits.endGraceMs);
      f.graceTimer.unref();
    }
  }

  /** No pod to follow (yet, or any more): close the upstream and clear the lines. */
  private halt(f: Follow, state: LogState, phase: SessionPhase | ''): void {
    this.stopUpstream(f);
    f.pod = '';
    f.phase = phase;
    f.backoff.reset();
    if (f.tail.length > 0) this.enqueueClear(f);
    this.setState(f, state, '');
  }

  private restart(f: Follow, pod: string, newPod: boolean): void {
    this.stopUpstream(f);
    if (newPod) {
      f.backoff.reset();
      if (f.tail.length > 0) this.enqueueClear(f);
    }
    f.pod = pod;
    f.replaceNext = true;
    // A retry keeps saying what went wrong until it succeeds or fails anew.
    if (newPod) this.setState(f, 'connecting', '');
    void this.run(f, f.generation);
  }

  private unwatch(f: Follow): void {
    f.stopped = true;
    this.stopUpstream(f);
    this.follows.delete(key(f.namespace, f.name));
    // Lines written while no one watches are never sent: a page that comes back after the
    // gap must not be replayed what it missed (nothing), but get a fresh snapshot.
    this.options.sink.invalidate(f.topic);
  }

  private stopUpstream(f: Follow): void {
    f.generation++;
    f.abort?.abort();
    f.abort = undefined;
    for (const t of [f.chunkTimer, f.retryTimer, f.graceTimer]) clearTimeout(t);
    f.chunkTimer = f.retryTimer = f.graceTimer = undefined;
    f.pending = [];
    f.pendingBytes = 0;
    f.pendingSkipped = 0;
    f.lines = new LineSplitter(this.limits.lineChars, LINE_OPTIONS);
  }

  /** One upstream request: check that the log can be read, then follow it until it ends. */
  private async run(f: Follow, generation: number): Promise<void> {
    const abort = new AbortController();
    f.abort = abort;
    const current = () => f.generation === generation && !f.stopped;
    const startedAt = Date.now();
    // A finished session's log is complete: read it once rather than follow it.
    const finished = FINISHED_PHASES.has(this.options.store.getSession(f.namespace, f.name)?.phase ?? 'Pending');
    try {
      await this.options.reader.checkReadable(f.namespace, f.pod, { signal: abort.signal });
      if (!current()) return;
      this.setState(f, 'following', '');
      const sink = new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          if (current()) this.receive(f, f.lines.push(chunk));
          done();
        },
      });
      await this.options.reader.read(f.namespace, f.pod, sink, { follow: !finished, tailLines: this.limits.tailLines, timestamps: true, signal: abort.signal });
      if (!current()) return;
      this.flushPartial(f);
      f.abort = undefined;
      if (finished || abort.signal.aborted || FINISHED_PHASES.has(this.options.store.getSession(f.namespace, f.name)?.phase ?? 'Pending')) {
        this.setState(f, 'ended', '');
        return;
      }
      // The stream ended while the session runs (a restarted API server, a rotated log).
      if (Date.now() - startedAt > 30_000) f.backoff.reset();
      this.retryLater(f, 'connecting', 'its log stream ended');
    } catch (err) {
      if (!current()) return;
      f.abort = undefined;
      if (abort.signal.aborted) {
        // The grace period of a finished session ran out before the follow began.
        this.setState(f, 'ended', '');
        return;
      }
      const detail =
        err instanceof ClusterError ? err.explain(`read the log of runner pod ${f.pod}`) : err instanceof LimitError ? err.message : `Could not read the log of runner pod ${f.pod}: ${String(err)}`;
      if (!(err instanceof ClusterError) && !(err instanceof LimitError)) this.options.log.warn({ err, session: `${f.namespace}/${f.name}` }, 'could not follow a runner log');
      this.retryLater(f, 'failed', detail);
    }
  }

  private retryLater(f: Follow, state: LogState, detail: string): void {
    this.setState(f, state, detail);
    const generation = f.generation;
    f.retryTimer = setTimeout(() => {
      f.retryTimer = undefined;
      if (f.generation !== generation || f.stopped) return;
      const pod = this.options.store.getSession(f.namespace, f.name)?.podName;
      if (pod && pod === f.pod) this.restart(f, pod, false);
      else this.reconcile(f);
    }, f.backoff.next());
    f.retryTimer.unref();
  }

  // ---- lines to chunks ----

  private receive(f: Follow, lines: string[]): void {
    if (lines.length === 0) return;
    for (const line of lines) {
      f.pending.push(line);
      f.pendingBytes += Buffer.byteLength(line) + 1;
    }
    // Never hold more than a snapshot's worth: what a chunk would skip anyway goes now.
    if (f.pendingBytes > 2 * this.limits.tailBytes || f.pending.length > 2 * this.limits.tailLines) {
      const { kept, skipped, bytes } = newestWithin(f.pending, this.limits.tailLines, this.limits.tailBytes);
      f.pending = kept;
      f.pendingBytes = bytes;
      f.pendingSkipped += skipped;
    }
    this.scheduleChunk(f);
  }

  private flushPartial(f: Follow): void {
    this.receive(f, f.lines.end());
  }

  private scheduleChunk(f: Follow): void {
    if (f.chunkTimer) return;
    // A short wait lets a burst (the tail sent on connect) arrive whole; then the rate cap.
    const delay = Math.max(20, f.lastChunkAt + this.limits.intervalMs - Date.now());
    const generation = f.generation;
    f.chunkTimer = setTimeout(() => {
      f.chunkTimer = undefined;
      if (f.generation === generation) this.enqueue(f, () => this.sendChunk(f, generation));
    }, delay);
    f.chunkTimer.unref();
  }

  private async sendChunk(f: Follow, generation: number): Promise<void> {
    if (f.generation !== generation || (f.pending.length === 0 && f.pendingSkipped === 0)) return;
    const replace = f.replaceNext;
    const { kept, skipped } = newestWithin(f.pending, this.limits.tailLines, replace ? this.limits.tailBytes : this.limits.chunkBytes);
    const dropped = skipped + f.pendingSkipped;
    const lines = dropped > 0 ? [skipNotice(dropped, f.namespace, f.name), ...kept] : kept;
    f.pending = [];
    f.pendingBytes = 0;
    f.pendingSkipped = 0;
    f.replaceNext = false;
    f.lastChunkAt = Date.now();
    // A restarted follow re-reads the tail: when it only continues what viewers have, append.
    // A fresh one replaces whatever a page kept from an earlier follow.
    const append = !replace || (f.tail.length > 0 && startsWithLines(lines, f.tail));
    const body = append && replace ? lines.slice(f.tail.length) : lines;
    if (append && body.length === 0) return;
    const chunk = await this.renderChunk(f, append ? 'beforeend' : 'innerHTML', body);
    if (f.generation !== generation || f.stopped || chunk === undefined) return;
    // The tail changes in the same tick as the chunk goes out: a snapshot is never ahead or behind.
    if (!append) this.clearTail(f);
    this.addToTail(f, body);
    this.publish(f, chunk);
  }

  private enqueueClear(f: Follow): void {
    this.enqueue(f, async () => {
      const chunk = await this.renderChunk(f, 'innerHTML', []);
      if (f.stopped || chunk === undefined) return;
      this.clearTail(f);
      this.publish(f, chunk);
    });
  }

  private async renderChunk(f: Follow, swap: 'beforeend' | 'innerHTML', lines: string[]): Promise<[string, string] | undefined> {
    const id = `${domId('session-log-chunk', f.namespace, f.name)}__${++this.chunkSeq}`;
    const chunk = await this.render('/partials/session-log-chunk', { id, ...panelLines(lines) });
    const html = chunk === undefined ? undefined : outOfBand(chunk, `${swap}:#${panelIds(f.namespace, f.name).linesId}`);
    return html === undefined ? undefined : [id, html];
  }

  private addToTail(f: Follow, lines: string[]): void {
    for (const line of lines) {
      f.tail.push(line);
      f.tailBytes += Buffer.byteLength(line) + 1;
    }
    if (f.tail.length > this.limits.tailLines || f.tailBytes > this.limits.tailBytes) {
      const { kept, bytes } = newestWithin(f.tail, this.limits.tailLines, this.limits.tailBytes);
      f.tail = kept;
      f.tailBytes = bytes;
    }
  }

  private clearTail(f: Follow): void {
    f.tail = [];
    f.tailBytes = 0;
  }

  // ---- status line ----

  private setState(f: Follow, state: LogState, detail: string): void {
    f.state = state;
    f.detail = detail;
    // Rendered when its turn comes, from the state of that moment: the newest status wins.
    this.enqueue(f, async () => {
      const data = this.panelData(f.namespace, f.name, f.state, f.pod, f.phase, f.detail, []);
      if (data.message === f.lastStatus) return;
      const status = await this.render('/partials/session-log-status', data);
      if (f.stopped || status === undefined) return;
      const html = outOfBand(status);
      f.lastStatus = data.message;
      this.publish(f, [data.statusId, html]);
    });
  }

  // ---- plumbing ----

  private panelData(namespace: string, name: string, state: LogState, pod: string, phase: string, detail: string, tail: readonly string[]): LogPanelData {
    return { ...panelIds(namespace, name), namespace, name, state, pod, message: statusMessage(state, pod, phase, detail), ...panelLines(tail), href: logHref(namespace, name), viewerHref: logViewerHref(namespace, name) };
  }

  private enqueue(f: Follow, job: () => Promise<void>): void {
    f.chain = f.chain.then(job).catch((err: unknown) => this.options.store.errors.record('log_update', err, 'could not send a runner log update', { session: `${f.namespace}/${f.name}` }));
  }

  private async render(template: string, data: Record<string, unknown>): Promise<string | undefined> {
    try {
      return (await this.options.render(template, data)).trim();
    } catch (err) {
      this.options.store.errors.record('log_update', err, 'could not render a runner log fragment', { template });
      return undefined;
    }
  }

  private publish(f: Follow, [id, html]: [string, string]): void {
    if (f.stopped || this.closed) return;
    this.options.sink.publish(f.topic, new Map([[id, html]]));
  }
}

/** Lines as the panel shows them (text), and as read (raw: JSON, with times and colours) for the log viewer page. */
function panelLines(lines: readonly string[]): { text: string; raw: string } {
  return { text: joinLines(lines.map(shownLine)), raw: lines.length ? JSON.stringify(lines) : '' };
}
