// A minimal SSE client for tests: reads a real HTTP stream, parses events, and lets a test
// wait for one that matches. Uses fetch, like a script would.
import { waitFor } from '../cluster/control-plane.js';
import { SseParser } from './sse-parse.js';

export interface SseEvent {
  id: string;
  event: string;
  data: string;
  receivedAt: number;
}

export interface SseStream {
  events: SseEvent[];
  status: number;
  headers: Headers;
  /** Resolves with the first event (after `from`) that matches, or throws after the timeout. */
  next(match: (e: SseEvent) => boolean, options?: { timeoutMs?: number; from?: number }): Promise<SseEvent>;
  ended: () => boolean;
  close(): void;
  /** The reconnect delay the server asked for (a `retry:` field), as a browser reads it. */
  retry: number | undefined;
}

export async function openStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  let ended = false;
  let retry: number | undefined;
  if (res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      const parser = new SseParser();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          parser.push(decoder.decode(chunk, { stream: true }));
          for (const e of parser.events.splice(0)) events.push({ ...e, receivedAt: Date.now() });
          retry = parser.retry;
        }
      } catch {
        // aborted by close(), or the server dropped us: either way the stream has ended
      }
      ended = true;
    })();
  } else {
    ended = true;
  }
  return {
    get retry() {
      return retry;
    },
    events,
    status: res.status,
    headers: res.headers,
    next: (match, options = {}) =>
      waitFor('an SSE event that matches', () => events.slice(options.from ?? 0).find(match), { timeoutMs: options.timeoutMs ?? 5_000, intervalMs: 10 }),
    ended: () => ended,
    close: () => abort.abort(),
  };
}
