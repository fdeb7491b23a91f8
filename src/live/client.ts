// One SSE subscriber. Writes go straight to the socket while it keeps up. When the socket's
// buffer is full, the client keeps only the latest version of each fragment (older ones
// are useless) up to a byte limit; a client that stays behind past that limit, or for too
// long, is dropped so it can never slow the others or grow the server's memory.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ClientLimits {
  /** Bytes of pending fragments kept for a blocked client before it is dropped. */
  maxPendingBytes: number;
  /** How long a client may stay blocked before it is dropped. */
  maxBlockedMs: number;
}

export const DEFAULT_LIMITS: ClientLimits = { maxPendingBytes: 1 << 20, maxBlockedMs: 30_000 };

export type DropReason = 'slow' | 'closed' | 'shutdown';

export class LiveClient {
  readonly topics: ReadonlySet<string>;
  private blockedSince: number | undefined;
  private readonly pending = new Map<string, string>();
  private pendingBytes = 0;
  private lastPendingId = '';
  private ended = false;
  /** Set when shared events may go to the socket as ready-made HTTP chunks (see write). */
  private readonly socket: Socket | undefined;

  constructor(
    private readonly res: ServerResponse,
    topics: Iterable<string>,
    private readonly limits: ClientLimits,
    private readonly onDrop: (client: LiveClient, reason: DropReason) => void,
    private readonly now: () => number,
    /** Makes one event of what piled up while the client was blocked. */
    private readonly formatPending: (id: string, pending: ReadonlyMap<string, string>) => string,
  ) {
    this.topics = new Set(topics);
    // Only a response whose chunked headers are out and that owns its socket: anything
    // else (HTTP/1.0, a socket not assigned yet, HTTP/2) keeps using res.write.
    if (res.headersSent && res.chunkedEncoding && res.socket) this.socket = res.socket;
    res.on('drain', () => this.flushPending());
    this.socket?.on('drain', () => this.flushPending());
    res.on('close', () => this.end('closed'));
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Bytes held for this client beyond what the socket took. */
  get heldBytes(): number {
    return this.pendingBytes;
  }

  /**
   * Sends one event. `bytes` is the ready-made event (shared by every subscriber); when the
   * client is blocked, `fragments` (id → html) are kept instead, latest version winning.
   */
  send(id: string, bytes: Buffer | string, fragments: ReadonlyMap<string, string>): void {
    if (this.ended) return;
    if (this.blockedSince === undefined) {
      if (!this.write(bytes)) this.blockedSince = this.now();
      return;
    }
    for (const [key, html] of fragments) {
      const old = this.pending.get(key);
      this.pendingBytes += html.length - (old?.length ?? 0);
      this.pending.set(key, html);
    }
    this.lastPendingId = id;
    if (this.pendingBytes > this.limits.maxPendingBytes || this.now() - this.blockedSince > this.limits.maxBlockedMs) {
      this.end('slow');
    }
  }

  /**
   * A backlog that has to arrive whole (a reconnecting client's missed events, a snapshot):
   * written even past the socket's high-water mark, because Node buffers what the socket
   * has not taken yet. Its size is bounded by the caller (replay history is bounded in
   * bytes). Live events that follow while it drains wait in the pending map as usual.
   */
  sendBacklog(text: Buffer | string): void {
    if (this.ended || text.length === 0) return;
    if (!this.res.write(text)) this.blockedSince ??= this.now();
  }

  /** Raw lines (comments, retry hints) that only matter while the client keeps up. */
  sendControl(text: string): void {
    if (this.ended || this.blockedSince !== undefined) return;
    if (!this.res.write(text)) this.blockedSince = this.now();
  }

  /** A blocked client that has not drained in time is dropped even without new events. */
  checkStalled(): void {
    if (!this.ended && this.blockedSince !== undefined && this.now() - this.blockedSince > this.limits.maxBlockedMs) this.end('slow');
  }

  end(reason: DropReason, finalText?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.pending.clear();
    this.pendingBytes = 0;
    if (reason === 'slow') this.res.destroy();
    else if (!this.res.writableEnded) this.res.end(finalText);
    this.onDrop(this, reason);
  }

  /**
   * A shared event (a Buffer) goes to the socket as one ready-made HTTP chunk: the bytes
   * res.write would send, built once per event instead of once per subscriber. With 10,000
   * subscribers the response's own per-write framing was about a quarter of the server's
   * CPU per event. Strings (snapshots, control lines) still take res.write; both end up in
   * the socket's queue in call order, and res.end() closes the chunked body as usual.
   */
  private write(bytes: Buffer | string): boolean {
    // (Never an empty chunk: on the wire that would end the response.)
    if (this.socket && typeof bytes !== 'string' && bytes.length > 0) return this.socket.write(chunkOf(bytes));
    return this.res.write(bytes);
  }

  private flushPending(): void {
    if (this.ended) return;
    this.blockedSince = undefined;
    if (this.pending.size === 0) return;
    const event = this.formatPending(this.lastPendingId, this.pending);
    this.pending.clear();
    this.pendingBytes = 0;
    if (!this.res.write(event)) this.blockedSince = this.now();
  }
}

const chunks = new WeakMap<Buffer, Buffer>();

/**
 * An event to share between subscribers: its bytes, encoded once into a buffer that already
 * holds the HTTP/1.1 chunk around them (one allocation and one copy per event, not three: a
 * flush of 100 scoped views makes 100 of them).
 */
export function sharedEvent(text: string): Buffer {
  const length = Buffer.byteLength(text);
  if (length === 0) return Buffer.alloc(0);
  const head = `${length.toString(16)}\r\n`;
  const chunk = Buffer.allocUnsafe(head.length + length + 2);
  chunk.write(head, 0, 'latin1');
  chunk.write(text, head.length, 'utf8');
  chunk.write('\r\n', head.length + length, 'latin1');
  const bytes = chunk.subarray(head.length, head.length + length);
  chunks.set(bytes, chunk);
  return bytes;
}

/** `bytes` framed as one HTTP/1.1 chunk, built once per event and shared by every subscriber. */
function chunkOf(bytes: Buffer): Buffer {
  let chunk = chunks.get(bytes);
  if (!chunk) chunks.set(bytes, (chunk = Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`, 'latin1'), bytes, Buffer.from('\r\n', 'latin1')])));
  return chunk;
}
