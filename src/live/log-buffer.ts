// One follow's lines between the pod and the page: what was read but not sent yet
// (pending, bounded to a snapshot's worth), and what viewers have been sent (the tail, the
// snapshot a new viewer gets). A chunk takes the newest pending lines within its size, with
// a notice for what it skips; the tail changes only when a chunk goes out, so it always
// equals what the chunks sent so far add up to.
import { skipNotice } from './log-panel.js';
import { LineSplitter, newestWithin, startsWithLines, type CleanOptions } from './log-text.js';

/**
 * Lines are read with the apiserver's timestamps and keep their colour codes: the log viewer
 * page (which follows the same topic) shows both; the panel shows shownLine() of each.
 */
const LINE_OPTIONS: CleanOptions = { timed: true, colours: true };

export interface LogBufferLimits {
  /** Lines kept for the snapshot. */
  tailLines: number;
  /** Bytes kept for the snapshot. */
  tailBytes: number;
  /** Most bytes of one appended chunk. */
  chunkBytes: number;
  /** Longer lines are cut. */
  lineChars: number;
}

/** A chunk to send: appended to the panel's lines, or replacing them. */
export interface LogChunk {
  append: boolean;
  lines: string[];
}

export class LogBuffer {
  private tailLines: string[] = [];
  private tailBytes = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private pendingSkipped = 0;
  private lines: LineSplitter;
  /** The next chunk replaces the panel's lines (a restarted follow re-reads the tail). */
  replaceNext = false;

  constructor(
    private readonly limits: LogBufferLimits,
    private readonly namespace: string,
    private readonly name: string,
  ) {
    this.lines = new LineSplitter(limits.lineChars, LINE_OPTIONS);
  }

  /** What viewers have been sent. */
  get tail(): readonly string[] {
    return this.tailLines;
  }

  /** Bytes from the pod; returns whether whole lines came out of them. */
  push(chunk: Buffer): boolean {
    return this.receive(this.lines.push(chunk));
  }

  /** The stream ended: its last line, if it had no line break, counts too. */
  end(): boolean {
    return this.receive(this.lines.end());
  }

  /** Forgets what was read and not sent (the upstream stopped). */
  dropPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingSkipped = 0;
    this.lines = new LineSplitter(this.limits.lineChars, LINE_OPTIONS);
  }

  /**
   * The next chunk from what is pending, which it empties; undefined when nothing is pending.
   * An appended chunk without lines (a restart re-read only what viewers have) sends nothing.
   * Send it, then commit() it, in the same tick.
   */
  takeChunk(): LogChunk | undefined {
    if (this.pending.length === 0 && this.pendingSkipped === 0) return undefined;
    const replace = this.replaceNext;
    const { kept, skipped } = newestWithin(this.pending, this.limits.tailLines, replace ? this.limits.tailBytes : this.limits.chunkBytes);
    const dropped = skipped + this.pendingSkipped;
    const lines = dropped > 0 ? [skipNotice(dropped, this.namespace, this.name), ...kept] : kept;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingSkipped = 0;
    this.replaceNext = false;
    // A restarted follow re-reads the tail: when it only continues what viewers have, append.
    // A fresh one replaces whatever a page kept from an earlier follow.
    const append = !replace || (this.tailLines.length > 0 && startsWithLines(lines, this.tailLines));
    return { append, lines: append && replace ? lines.slice(this.tailLines.length) : lines };
  }

  /** A chunk went out: the tail follows, so a snapshot is never ahead or behind. */
  commit(chunk: LogChunk): void {
    if (!chunk.append) this.clear();
    for (const line of chunk.lines) {
      this.tailLines.push(line);
      this.tailBytes += Buffer.byteLength(line) + 1;
    }
    if (this.tailLines.length > this.limits.tailLines || this.tailBytes > this.limits.tailBytes) {
      const { kept, bytes } = newestWithin(this.tailLines, this.limits.tailLines, this.limits.tailBytes);
      this.tailLines = kept;
      this.tailBytes = bytes;
    }
  }

  /** The panel was cleared. */
  clear(): void {
    this.tailLines = [];
    this.tailBytes = 0;
  }

  private receive(lines: string[]): boolean {
    if (lines.length === 0) return false;
    for (const line of lines) {
      this.pending.push(line);
      this.pendingBytes += Buffer.byteLength(line) + 1;
    }
    // Never hold more than a snapshot's worth: what a chunk would skip anyway goes now.
    if (this.pendingBytes > 2 * this.limits.tailBytes || this.pending.length > 2 * this.limits.tailLines) {
      const { kept, skipped, bytes } = newestWithin(this.pending, this.limits.tailLines, this.limits.tailBytes);
      this.pending = kept;
      this.pendingBytes = bytes;
      this.pendingSkipped += skipped;
    }
    return true;
  }
}
