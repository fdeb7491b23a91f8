// The EventSource parsing rules of the HTML standard, for tests: lines end at CRLF, a lone CR
// or LF; an empty line dispatches the event; `retry:` sets the reconnect delay. A server
// that lets a CR through gets caught here exactly as a browser would catch it.

export interface ParsedEvent {
  id: string;
  event: string;
  data: string;
}

export class SseParser {
  readonly events: ParsedEvent[] = [];
  /** The reconnect delay the stream asked for, as a browser would apply it. */
  retry: number | undefined;
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private lastId = '';

  push(text: string): void {
    this.buffer += text;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) return;
      // A CR at the very end may be the first half of a CRLF split across chunks: wait.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) return;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) this.events.push({ id: this.lastId, event: this.event || 'message', data: this.data.join('\n') });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}
