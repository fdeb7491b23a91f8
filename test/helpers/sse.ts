// A minimal SSE client for tests: reads a real HTTP stream, parses events, and lets a test
// wait for one that matches. Uses fetch, like a script would.
import { waitFor } from '../cluster/control-plane.js';

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
}

export async function openStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  let ended = false;
  if (res.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const e: SseEvent = { id: '', event: 'message', data: '', receivedAt: Date.now() };
            const data: string[] = [];
            let any = false;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const [field, ...rest] = line.split(':');
              const value = rest.join(':').replace(/^ /, '');
              if (field === 'id') e.id = value;
              else if (field === 'event') e.event = value;
              else if (field === 'data') data.push(value);
              else continue;
              any = true;
            }
            if (any && data.length) {
              e.data = data.join('\n');
              events.push(e);
            }
          }
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
    events,
    status: res.status,
    headers: res.headers,
    next: (match, options = {}) =>
      waitFor('an SSE event that matches', () => events.slice(options.from ?? 0).find(match), { timeoutMs: options.timeoutMs ?? 5_000, intervalMs: 10 }),
    ended: () => ended,
    close: () => abort.abort(),
  };
}
