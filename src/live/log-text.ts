// Runner log text made safe and bounded: lines split from a byte stream, control and escape
// sequences removed (log text is untrusted; the templates escape the rest), and the newest
// lines that fit a size. Pure functions, unit-tested on their own.
import { StringDecoder } from 'node:string_decoder';

// CSI and OSC sequences (colours, cursor moves, titles) and other escapes: a terminal acts
// on them, a page would show them as noise.
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;
// Other control characters (tab stays) and the bidi overrides that can make text lie.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
// The same, leaving ESC of the colour codes that were kept.
const CONTROL_BUT_ESC = /[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/** A cleaned line's time (the apiserver's, '' when it has none) and its text. */
export function splitTimed(line: string): { time: string; text: string } {
  const time = TIME_PREFIX.exec(line);
  return time ? { time: time[1]!, text: line.slice(time[0].length) } : { time: '', text: line };
}

/** A line as the session page's panel shows it: no timestamp, no colour codes (nor a colour code cut in half). */
export function shownLine(line: string): string {
  return splitTimed(line).text.replace(ANSI, '').replace(CONTROL, '');
}

// The apiserver's timestamp at the start of a line read with timestamps=true.
const TIME_PREFIX = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;
// SGR: colours and bold, which the log viewer renders as classes.
const SGR = /^\x1b\[[0-9;]*m$/;

export interface CleanOptions {
  /** Keep SGR colour codes (the log viewer turns them into classes; shownLine drops them). */
  colours?: boolean;
  /** Lines start with the apiserver's timestamp (timestamps=true): it is kept, and the text after it cleaned. */
  timed?: boolean;
}

/** One log line as a page may show it: what a terminal would show, without control codes, cut when too long. */
export function cleanLine(raw: string, maxChars: number, options: CleanOptions = {}): string {
  if (options.timed) {
    const time = TIME_PREFIX.exec(raw);
    if (time) return `${time[1]} ${cleanLine(raw.slice(time[0].length), maxChars, { colours: options.colours })}`;
  }
  let line = raw;
  // Progress bars rewrite their line with carriage returns: a terminal shows the last text.
  if (line.includes('\r')) {
    line = line.replace(/\r+$/, '');
    line = line.slice(line.lastIndexOf('\r') + 1);
  }
  line = line.replace(ANSI, (seq) => (options.colours && SGR.test(seq) ? seq : '')).replace(options.colours ? CONTROL_BUT_ESC : CONTROL, '');
  return line.length > maxChars ? `${line.slice(0, maxChars)} … [line cut at ${maxChars} characters]` : line;
}

/** Splits a byte stream into clean lines; a line waits for its newline, and one too long is cut. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  /** The start of the current line was too long and went out cut; drop the rest of it. */
  private cutting = false;

  constructor(
    private readonly maxChars: number,
    private readonly options: CleanOptions = {},
  ) {}

  push(chunk: Buffer | string): string[] {
    const parts = (this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk))).split('\n');
    this.partial = parts.pop() ?? '';
    const out: string[] = [];
    for (const part of parts) {
      if (this.cutting) this.cutting = false;
      else out.push(cleanLine(part, this.maxChars, this.options));
    }
    if (this.partial.length > this.maxChars) {
      if (!this.cutting) out.push(cleanLine(this.partial, this.maxChars, this.options));
      this.partial = '';
      this.cutting = true;
    }
    return out;
  }

  /** The last line when the stream ended without a newline. */
  end(): string[] {
    const rest = this.partial + this.decoder.end();
    const cut = this.cutting;
    this.partial = '';
    this.cutting = false;
    return rest && !cut ? [cleanLine(rest, this.maxChars, this.options)] : [];
  }
}

/** The newest lines that fit in maxLines and maxBytes (each line counts its newline). */
export function newestWithin(lines: readonly string[], maxLines: number, maxBytes: number): { kept: string[]; skipped: number; bytes: number } {
  let bytes = 0;
  let i = lines.length;
  while (i > 0 && lines.length - i < maxLines) {
    const size = Buffer.byteLength(lines[i - 1]!) + 1;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i--;
  }
  return { kept: lines.slice(i), skipped: i, bytes };
}

export function startsWithLines(lines: readonly string[], prefix: readonly string[]): boolean {
  if (prefix.length > lines.length) return false;
  for (let i = 0; i < prefix.length; i++) if (lines[i] !== prefix[i]) return false;
  return true;
}

export function joinLines(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
