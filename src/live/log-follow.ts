// One runner log follow: the state machine that keeps ONE upstream request on the
// session's runner pod while some page watches it. It starts again when the session gets
// a (new) runner pod, or after a backoff when the stream ends or fails while the session
// still runs, and ends a grace period after the session finished. Lines go out as chunks
// at most one per interval (log-buffer.ts bounds them); every render runs in order, so
// viewers get chunks and status lines in order. The registry is log-follower.ts.
import { Writable } from 'node:stream';
import type { FarmStore } from '../farm/store.js';
import { FINISHED_PHASES, type SessionPhase } from '../farm/types.js';
import { LimitError } from '../http/limits.js';
import { Backoff } from '../kube/backoff.js';
import { ClusterError } from '../kube/errors.js';
import type { PodLogReader } from '../kube/pod-logs.js';
import { domId } from '../view/dom-id.js';
import { LogBuffer } from './log-buffer.js';
import { logHref, logViewerHref, panelIds, statusMessage, type LogPanelData, type LogState } from './log-panel.js';
import { joinLines, shownLine } from './log-text.js';
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

export const DEFAULT_LOG_LIMITS: LogLimits = {
  tailLines: 500,
  tailBytes: 256 * 1024,
  chunkBytes: 16 * 1024,
  intervalMs: 250,
  lineChars: 4096,
  endGraceMs: 5_000,
  retry: { initialMs: 1_000, maxMs: 30_000 },
};

/** What every follow shares: the registry's store, reader and limits, and its way out to the broker. */
export interface FollowContext {
  store: FarmStore;
  reader: PodLogReader;
  limits: LogLimits;
  log: { warn(obj: object, msg: string): void };
  /** A rendered fragment, trimmed; undefined when rendering failed (recorded). */
  render(template: string, data: Record<string, unknown>): Promise<string | undefined>;
  /** To the topic's subscribers at once; nothing once the registry closed. */
  publish(topic: string, fragments: ReadonlyMap<string, string>): void;
  /** A number for the next chunk's id, unique among all follows. */
  nextChunk(): number;
}

export class LogFollow {
  state: LogState;
  pod = '';
  phase: SessionPhase | '' = '';
  detail = '';
  /** Lines read and not sent yet, and the tail viewers have been sent (their snapshot). */
  readonly buffer: LogBuffer;
  /** Bumped by every (re)start and stop: callbacks of an older upstream do nothing. */
  private generation = 0;
  private abort: AbortController | undefined;
  private lastChunkAt = 0;
  private chunkTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  /** Renders run in order, so what viewers get is in order too. */
  private chain: Promise<void> = Promise.resolve();
  private lastStatus: string;
  private stopped = false;

  constructor(
    private readonly ctx: FollowContext,
    readonly namespace: string,
    readonly name: string,
    readonly topic: string,
    /** What the first subscriber's snapshot showed: the status line changes from there. */
    shown: { state: LogState; message: string },
  ) {
    this.state = shown.state;
    this.lastStatus = shown.message;
    this.buffer = new LogBuffer(ctx.limits, namespace, name);
    this.backoff = new Backoff(ctx.limits.retry);
  }

  /** The panel as this follow stands. */
  panel(): LogPanelData {
    return panelData(this.namespace, this.name, this.state, this.pod, this.phase, this.detail, this.buffer.tail);
  }

  /** Brings the follow in line with its session: no pod, a new pod, or a finished session. */
  reconcile(): void {
    if (this.stopped) return;
    const s = this.ctx.store.getSession(this.namespace, this.name);
    if (!s) return this.halt(this.ctx.store.syncStatus().synced ? 'missing' : 'unknown', '');
    this.phase = s.phase;
    if (!s.podName) return this.halt(FINISHED_PHASES.has(s.phase) ? 'none' : 'waiting', s.phase);
    if (s.podName !== this.pod) return this.restart(s.podName, true);
    if (FINISHED_PHASES.has(s.phase) && this.state === 'following' && this.abort && !this.graceTimer) {
      // The runner has exited; a kubelet ends the stream by itself, kwok never does.
      // Aborting ends run()'s follow like an end of stream: what was read still goes out.
      const abort = this.abort;
      this.graceTimer = setTimeout(() => {
        this.graceTimer = undefined;
        abort.abort();
      }, this.ctx.limits.endGraceMs);
      this.graceTimer.unref();
    }
  }

  /** No pod to follow (yet, or any more): close the upstream and clear the lines. */
  private halt(state: LogState, phase: SessionPhase | ''): void {
    this.stopUpstream();
    this.pod = '';
    this.phase = phase;
    this.backoff.reset();
    if (this.buffer.tail.length > 0) this.enqueueClear();
    this.setState(state, '');
  }

  private restart(pod: string, newPod: boolean): void {
    this.stopUpstream();
    if (newPod) {
      this.backoff.reset();
      if (this.buffer.tail.length > 0) this.enqueueClear();
    }
    this.pod = pod;
    this.buffer.replaceNext = true;
    // A retry keeps saying what went wrong until it succeeds or fails anew.
    if (newPod) this.setState('connecting', '');
    void this.run(this.generation);
  }

  /** The last viewer left, or the dashboard shuts down: callbacks of this follow do nothing from now. */
  stop(): void {
    this.stopped = true;
    this.stopUpstream();
  }

  private stopUpstream(): void {
    this.generation++;
    this.abort?.abort();
    this.abort = undefined;
    for (const t of [this.chunkTimer, this.retryTimer, this.graceTimer]) clearTimeout(t);
    this.chunkTimer = this.retryTimer = this.graceTimer = undefined;
    this.buffer.dropPending();
  }

  /** One upstream request: check that the log can be read, then follow it until it ends. */
  private async run(generation: number): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    const current = () => this.generation === generation && !this.stopped;
    const startedAt = Date.now();
    // A finished session's log is complete: read it once rather than follow it.
    const finished = FINISHED_PHASES.has(this.ctx.store.getSession(this.namespace, this.name)?.phase ?? 'Pending');
    try {
      await this.ctx.reader.checkReadable(this.namespace, this.pod, { signal: abort.signal });
      if (!current()) return;
      this.setState('following', '');
      const sink = new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          if (current() && this.buffer.push(chunk)) this.scheduleChunk();
          done();
        },
      });
      await this.ctx.reader.read(this.namespace, this.pod, sink, { follow: !finished, tailLines: this.ctx.limits.tailLines, timestamps: true, signal: abort.signal });
      if (!current()) return;
      if (this.buffer.end()) this.scheduleChunk();
      this.abort = undefined;
      if (finished || abort.signal.aborted || FINISHED_PHASES.has(this.ctx.store.getSession(this.namespace, this.name)?.phase ?? 'Pending')) {
        this.setState('ended', '');
        return;
      }
      // The stream ended while the session runs (a restarted API server, a rotated log).
      if (Date.now() - startedAt > 30_000) this.backoff.reset();
      this.retryLater('connecting', 'its log stream ended');
    } catch (err) {
      if (!current()) return;
      this.abort = undefined;
      if (abort.signal.aborted) {
        // The grace period of a finished session ran out before the follow began.
        this.setState('ended', '');
        return;
      }
      const detail =
        err instanceof ClusterError ? err.explain(`read the log of runner pod ${this.pod}`) : err instanceof LimitError ? err.message : `Could not read the log of runner pod ${this.pod}: ${String(err)}`;
      if (!(err instanceof ClusterError) && !(err instanceof LimitError)) this.ctx.log.warn({ err, session: `${this.namespace}/${this.name}` }, 'could not follow a runner log');
      this.retryLater('failed', detail);
    }
  }

  private retryLater(state: LogState, detail: string): void {
    this.setState(state, detail);
    const generation = this.generation;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.generation !== generation || this.stopped) return;
      const pod = this.ctx.store.getSession(this.namespace, this.name)?.podName;
      if (pod && pod === this.pod) this.restart(pod, false);
      else this.reconcile();
    }, this.backoff.next());
    this.retryTimer.unref();
  }

  private scheduleChunk(): void {
    if (this.chunkTimer) return;
    // A short wait lets a burst (the tail sent on connect) arrive whole; then the rate cap.
    const delay = Math.max(20, this.lastChunkAt + this.ctx.limits.intervalMs - Date.now());
    const generation = this.generation;
    this.chunkTimer = setTimeout(() => {
      this.chunkTimer = undefined;
      if (this.generation === generation) this.enqueue(() => this.sendChunk(generation));
    }, delay);
    this.chunkTimer.unref();
  }

  private async sendChunk(generation: number): Promise<void> {
    if (this.generation !== generation) return;
    const chunk = this.buffer.takeChunk();
    if (!chunk) return;
    this.lastChunkAt = Date.now();
    if (chunk.append && chunk.lines.length === 0) return;
    const html = await this.renderChunk(chunk.append ? 'beforeend' : 'innerHTML', chunk.lines);
    if (this.generation !== generation || this.stopped || html === undefined) return;
    // The tail changes in the same tick as the chunk goes out: a snapshot is never ahead or behind.
    this.buffer.commit(chunk);
    this.publish(html);
  }

  private enqueueClear(): void {
    this.enqueue(async () => {
      const chunk = await this.renderChunk('innerHTML', []);
      if (this.stopped || chunk === undefined) return;
      this.buffer.clear();
      this.publish(chunk);
    });
  }

  private async renderChunk(swap: 'beforeend' | 'innerHTML', lines: string[]): Promise<[string, string] | undefined> {
    const id = `${domId('session-log-chunk', this.namespace, this.name)}__${this.ctx.nextChunk()}`;
    const chunk = await this.ctx.render('/partials/session-log-chunk', { id, ...panelLines(lines) });
    const html = chunk === undefined ? undefined : outOfBand(chunk, `${swap}:#${panelIds(this.namespace, this.name).linesId}`);
    return html === undefined ? undefined : [id, html];
  }

  private setState(state: LogState, detail: string): void {
    this.state = state;
    this.detail = detail;
    // Rendered when its turn comes, from the state of that moment: the newest status wins.
    this.enqueue(async () => {
      const data = panelData(this.namespace, this.name, this.state, this.pod, this.phase, this.detail, []);
      if (data.message === this.lastStatus) return;
      const status = await this.ctx.render('/partials/session-log-status', data);
      if (this.stopped || status === undefined) return;
      const html = outOfBand(status);
      this.lastStatus = data.message;
      this.publish([data.statusId, html]);
    });
  }

  private enqueue(job: () => Promise<void>): void {
    this.chain = this.chain.then(job).catch((err: unknown) => this.ctx.store.errors.record('log_update', err, 'could not send a runner log update', { session: `${this.namespace}/${this.name}` }));
  }

  private publish([id, html]: [string, string]): void {
    if (this.stopped) return;
    this.ctx.publish(this.topic, new Map([[id, html]]));
  }
}

/** The log panel's data (views/partials/session-log.eta), for a follow or a session nobody follows. */
export function panelData(namespace: string, name: string, state: LogState, pod: string, phase: string, detail: string, tail: readonly string[]): LogPanelData {
  return { ...panelIds(namespace, name), namespace, name, state, pod, message: statusMessage(state, pod, phase, detail), ...panelLines(tail), href: logHref(namespace, name), viewerHref: logViewerHref(namespace, name) };
}

/** Lines as the panel shows them (text), and as read (raw: JSON, with times and colours) for the log viewer page. */
function panelLines(lines: readonly string[]): { text: string; raw: string } {
  return { text: joinLines(lines.map(shownLine)), raw: lines.length ? JSON.stringify(lines) : '' };
}
