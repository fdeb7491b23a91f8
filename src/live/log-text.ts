// Runner log text made safe and bounded: lines split from a byte stream, control and escape
// sequences removed (log text is untrusted; the templates escape the rest), and the newest
// lines that fit a size. Pure functions, unit-tested on their own.
import { StringDecoder } from 'node:string_decoder';

// CSI and OSC sequences (colours, cursor moves, titles) and other escapes: a terminal acts
// on them, a page would show them as noise.
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;
// Other control characters (tab stays) and the bidi overrides that can make text lie.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/** One log line as a page may show it: what a terminal would show, without control codes, cut when too long. */
export function cleanLine(raw: string, maxChars: number): string {
  let line = raw;
  // Progress bars rewrite their line with carriage returns: a terminal shows the last text.
  if (line.includes('\r')) {
    line = line.replace(/\r+$/, '');
    line = line.slice(line.lastIndexOf('\r') + 1);
  }
  line = line.replace(ANSI, '').replace(CONTROL, '');
  return line.length > maxChars ? `${line.slice(0, maxChars)} … [line cut at ${maxChars} characters]` : line;
}

/** Splits a byte stream into clean lines; a line waits for its newline, and one too long is cut. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  /** The start of the current line was too long and went out cut; drop the rest of it. */
  private cutting = false;

  constructor(private readonly maxChars: number) {}

  push(chunk: Buffer | string): string[] {
    const parts = (this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk))).split('\n');
    this.partial = parts.pop() ?? '';
    const out: string[] = [];
    for (const part of parts) {
      if (this.cutting) this.cutting = false;
      else out.push(cleanLine(part, this.maxChars));
    }
    if (this.partial.length > this.maxChars) {
      if (!this.cutting) out.push(cleanLine(this.partial, this.maxChars));
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
    return rest && !cut ? [cleanLine(rest, this.maxChars)] : [];
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
