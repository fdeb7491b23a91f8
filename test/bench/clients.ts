// The bench's client process: many real HTTP/1.1 connections to /live, each an SSE
// subscriber of the bench pool, as browsers' EventSources would be. Each sends a plain GET,
// checks the status line and headers, then scans the raw response bytes for the marker of
// each bench change and records when it arrived, on the clock every process shares. It does
// not decode the chunked body or parse events: that keeps the client side cheap, because on
// a small machine the client process competes with the server for the same cores. It runs
// apart from the server so that reading 10,000 sockets costs the server's event loop nothing.
import net from 'node:net';
import { MARKER, TOPIC } from './farm.js';
import { clockMs, openFileLimit, sendNotice, serve } from './proc.js';

export interface ConnectResult {
  connected: number;
  failed: number;
  errors: string[];
  ms: number;
  /** Bytes each client received on connect (headers and snapshot), mean. */
  snapshotBytes: number;
}

export interface RoundResult {
  /** Latency of each client that got the change: arrival minus `at`, ms. */
  latencies: number[];
  missing: number;
  /** CPU time (user + system) of this process since the last round ended, ms. */
  cpuMs: number;
}

export interface ClientsStatus {
  open: number;
  closed: number;
  errors: string[];
  bytes: number;
}

const MARK = Buffer.from(MARKER, 'latin1');
const HEADERS_END = Buffer.from('\r\n\r\n', 'latin1');
const EVENT_START = Buffer.from('event: update', 'latin1');
const EVENT_END = Buffer.from('\n\n', 'latin1');
/** Enough of the previous read to find a marker (and its round) split across two reads. */
const TAIL = MARK.length + 12;
const EMPTY = Buffer.alloc(0);
const READ_BUFFER = Buffer.alloc(256 * 1024);

class Subscriber {
  /** Arrival time of each round's change, by round. */
  readonly arrivals = new Map<number, number>();
  bytes = 0;
  open = false;
  closed = false;
  error: string | undefined;
  private head: Buffer | undefined = Buffer.alloc(0);
  private tail = Buffer.alloc(0);
  private inSnapshot = false;
  private sawSnapshot = false;
  private socket: net.Socket | undefined;

  /** Resolves once the snapshot event has fully arrived: the broker has registered us. */
  connect(port: number, path: string, timeoutMs: number, extraHeaders = ''): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no snapshot within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        this.error ??= err.message;
        this.socket?.destroy();
        reject(err);
      };
      // Reads land in one buffer shared by every socket (the callback handles each read at
      // once), not in a fresh Buffer pushed through a readable stream per read: that halves
      // the client process's CPU per change, CPU the server on the same cores would miss.
      const socket = (this.socket = net.connect({ port, host: '127.0.0.1', noDelay: true, onread: { buffer: READ_BUFFER, callback: (n) => {
        this.read(READ_BUFFER.subarray(0, n), resolve, fail, timer);
        return true;
      } } }));
      socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n${extraHeaders}\r\n`));
      socket.on('close', () => {
        this.open = false;
        this.closed = true;
        if (!this.sawSnapshot) fail(new Error('closed before the snapshot'));
      });
      socket.on('error', (err) => fail(err));
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  /** One read of the response, in the shared buffer (only valid until this returns). */
  private read(chunk: Buffer, resolve: () => void, fail: (err: Error) => void, timer: NodeJS.Timeout): void {
    const now = clockMs();
    this.bytes += chunk.length;
    let body = chunk;
    if (this.head) {
      // The response head: a 200 with an event stream, or the connection is a failure.
      const head = Buffer.concat([this.head, chunk]);
      const end = head.indexOf(HEADERS_END);
      if (end < 0) {
        this.head = head;
        return;
      }
      const text = head.subarray(0, end).toString('latin1');
      if (!text.startsWith('HTTP/1.1 200') || !/\r\ncontent-type: text\/event-stream/i.test(text)) {
        fail(new Error(`unexpected response: ${text.split('\r\n')[0]}`));
        return;
      }
      this.head = undefined;
      this.open = true;
      body = head.subarray(end + HEADERS_END.length);
    }
    this.scan(body, now);
    if (!this.sawSnapshot) {
      // The broker registers a client before it sends the snapshot; waiting for the
      // snapshot's end paces the connects like real page loads.
      let from = 0;
      if (!this.inSnapshot) {
        from = body.indexOf(EVENT_START);
        this.inSnapshot = from >= 0;
      }
      if (this.inSnapshot && body.indexOf(EVENT_END, from) >= 0) {
        this.sawSnapshot = true;
        clearTimeout(timer);
        resolve();
      }
    }
  }

  /** Records the arrival of every change marker in these bytes (and the last read's tail). */
  private scan(body: Buffer, now: number): void {
    const bytes = this.tail.length > 0 ? Buffer.concat([this.tail, body]) : body;
    let at = bytes.indexOf(MARK);
    let after = 0;
    while (at >= 0) {
      let i = at + MARK.length;
      let round = 0;
      while (i < bytes.length && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) round = round * 10 + bytes[i++]! - 0x30;
      if (i >= bytes.length) break; // the round may go on in the next read: keep it in the tail
      if (i > at + MARK.length && !this.arrivals.has(round)) {
        this.arrivals.set(round, now);
        arrived.set(round, (arrived.get(round) ?? 0) + 1);
      }
      after = i;
      at = bytes.indexOf(MARK, i);
    }
    // Never keep a marker already counted; keep enough for one split across two reads (a
    // copy: the read buffer is shared). Most reads end with the event's blank line, and no
    // marker can start in those last bytes unless its first byte is there.
    const from = Math.max(after, bytes.length - TAIL);
    this.tail = bytes.indexOf(MARK[0]!, from) >= 0 ? Buffer.from(bytes.subarray(from)) : EMPTY;
  }
}

const subscribers: Subscriber[] = [];
/** How many subscribers have each round: waiting for a round polls this, not 10,000 maps. */
const arrived = new Map<number, number>();
let cpu = process.cpuUsage();

serve({
  /** `users`: client i signs in (behind a trusted proxy) as users[i mod their number]. */
  connect: async ({ port, count, concurrency, timeoutMs, topic = TOPIC, users }: { port: number; count: number; concurrency: number; timeoutMs: number; topic?: string; users?: string[] }): Promise<ConnectResult> => {
    if (openFileLimit() < count + 64) {
      throw new Error(`the open-file limit of the client process is ${openFileLimit()}, too low for ${count} sockets: raise the hard limit (ulimit -Hn)`);
    }
    const path = `/live?topic=${encodeURIComponent(topic)}`;
    const start = clockMs();
    const errors: string[] = [];
    let next = 0;
    let failed = 0;
    // A bounded number of connections in flight, like browsers coming back after a deploy.
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const s = new Subscriber();
        subscribers.push(s);
        try {
          await s.connect(port, path, timeoutMs, users?.length ? `X-Forwarded-User: ${users[i % users.length]}\r\n` : '');
        } catch (err) {
          failed++;
          if (errors.length < 5) errors.push((err as Error).message);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    cpu = process.cpuUsage();
    const connected = subscribers.filter((s) => s.open).length;
    const snapshotBytes = subscribers.reduce((sum, s) => sum + s.bytes, 0) / Math.max(1, subscribers.length);
    return { connected, failed, errors, ms: clockMs() - start, snapshotBytes };
  },

  /** Waits until every open client has round `round`, or the timeout; then the latencies. */
  round: async ({ round, at, timeoutMs }: { round: number; at: number; timeoutMs: number }): Promise<RoundResult> => {
    const deadline = clockMs() + timeoutMs;
    // (A client that lost its stream will never get it: only open ones are waited for.)
    const open = () => subscribers.reduce((n, s) => n + (s.open ? 1 : 0), 0);
    while ((arrived.get(round) ?? 0) < open() && clockMs() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    arrived.delete(round);
    const latencies: number[] = [];
    let missing = 0;
    for (const s of subscribers) {
      const arrival = s.arrivals.get(round);
      if (arrival === undefined) missing++;
      else latencies.push(arrival - at);
      s.arrivals.delete(round);
    }
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    return { latencies, missing, cpuMs: (used.user + used.system) / 1000 };
  },

  status: (): ClientsStatus => ({
    open: subscribers.filter((s) => s.open).length,
    closed: subscribers.filter((s) => s.closed).length,
    errors: [...new Set(subscribers.map((s) => s.error).filter((e): e is string => e !== undefined))].slice(0, 5),
    bytes: subscribers.reduce((sum, s) => sum + s.bytes, 0),
  }),

  close: () => {
    for (const s of subscribers) s.close();
    return subscribers.length;
  },
});

sendNotice({ notice: 'ready', pid: process.pid, node: process.version, openFiles: openFileLimit() });
