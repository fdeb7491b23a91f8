// Log lines for a person in a terminal. The logger (pino, through Fastify) writes one JSON
// object a line, which log collectors expect (--log-format json); --log-format pretty, the
// default on a TTY, turns each into "12:04:05 WARN message key=value" instead. Small on
// purpose: pino-pretty would add a dependency tree and a worker thread for this.

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
// Fields every record has, or that the line already shows.
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'err']);
const COLORS: Record<string, string> = { WARN: '\x1b[33m', ERROR: '\x1b[31m', FATAL: '\x1b[31m', DEBUG: '\x1b[2m', TRACE: '\x1b[2m' };
const RESET = '\x1b[0m';

export interface PrettyOptions {
  color: boolean;
}

/** One pino JSON record as a line for a person (no trailing newline). Not JSON: passed through. */
export function prettyLine(record: string, { color }: PrettyOptions): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(record) as Record<string, unknown>;
  } catch {
    return record.trimEnd();
  }
  const time = typeof r.time === 'number' ? new Date(r.time).toTimeString().slice(0, 8) : '';
  const level = LEVELS[r.level as number] ?? String(r.level ?? '');
  // INFO is the normal case: only other levels are named, so the lines a person reads first
  // (the URL to open) stay plain.
  const tag = level === 'INFO' ? '' : color && COLORS[level] ? `${COLORS[level]}${level}${RESET} ` : `${level} `;
  const fields = Object.entries(r)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  let line = [`${time} ${tag}${typeof r.msg === 'string' ? r.msg : ''}`.trimEnd(), ...fields].join('  ');
  const err = r.err as { message?: unknown; stack?: unknown } | undefined;
  if (err && typeof err === 'object') {
    line += typeof err.stack === 'string' ? `\n    ${err.stack.split('\n').join('\n    ')}` : `  err=${formatValue(err.message)}`;
  }
  return line;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** A pino destination that writes pretty lines to `out` (a terminal). */
export function prettyDestination(out: NodeJS.WritableStream & { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): { write(chunk: string): void } {
  // https://no-color.org: any non-empty NO_COLOR turns colours off.
  const color = out.isTTY === true && !env.NO_COLOR;
  return {
    write(chunk: string) {
      // pino writes whole records, one a line.
      for (const record of chunk.split('\n')) {
        if (record) out.write(`${prettyLine(record, { color })}\n`);
      }
    },
  };
}
