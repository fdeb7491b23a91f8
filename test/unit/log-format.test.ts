// The terminal's log lines: pino's JSON records turned into lines a person reads.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { prettyDestination, prettyLine } from '../../src/log-format.js';

const time = new Date(2026, 11, 2, 17, 4, 5).getTime();
const record = (fields: Record<string, unknown>) => JSON.stringify({ level: 30, time, pid: 7, hostname: 'vm', ...fields });

describe('prettyLine', () => {
  it('shows an info record as the local time and the message only', () => {
    expect(prettyLine(record({ msg: 'DroidFarm dashboard — embedded demo — open http://localhost:8080' }), { color: false })).toBe(
      '17:04:05 DroidFarm dashboard — embedded demo — open http://localhost:8080',
    );
  });

  it('names other levels, in colour only when asked', () => {
    expect(prettyLine(record({ level: 40, msg: 'watch went silent' }), { color: false })).toBe('17:04:05 WARN watch went silent');
    expect(prettyLine(record({ level: 50, msg: 'boom' }), { color: true })).toBe('17:04:05 \x1b[31mERROR\x1b[0m boom');
  });

  it('adds the other fields as key=value, quoting what has spaces', () => {
    expect(prettyLine(record({ msg: 'shutting down', signal: 'SIGTERM', reason: 'two words', namespaces: ['a', 'b'], n: 3 }), { color: false })).toBe(
      '17:04:05 shutting down  signal=SIGTERM  reason="two words"  namespaces=["a","b"]  n=3',
    );
  });

  it('prints an error with its stack, indented', () => {
    const line = prettyLine(record({ level: 50, msg: 'error during shutdown', err: { type: 'Error', message: 'nope', stack: 'Error: nope\n    at x (y.js:1:2)' } }), {
      color: false,
    });
    expect(line).toBe('17:04:05 ERROR error during shutdown\n    Error: nope\n        at x (y.js:1:2)');
  });

  it('passes a line that is not JSON through', () => {
    expect(prettyLine('not json\n', { color: false })).toBe('not json');
  });
});

describe('prettyDestination', () => {
  const sink = (isTTY: boolean) => {
    let text = '';
    const out = Object.assign(
      new Writable({
        write(chunk: Buffer, _enc, done) {
          text += chunk.toString();
          done();
        },
      }),
      { isTTY },
    );
    return { out, text: () => text };
  };

  it('writes one pretty line per record, coloured on a terminal unless NO_COLOR is set', async () => {
    const tty = sink(true);
    prettyDestination(tty.out, {}).write(`${record({ level: 40, msg: 'a' })}\n${record({ msg: 'b' })}\n`);
    const plain = sink(true);
    prettyDestination(plain.out, { NO_COLOR: '1' }).write(`${record({ level: 40, msg: 'a' })}\n`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(tty.text()).toBe('17:04:05 \x1b[33mWARN\x1b[0m a\n17:04:05 b\n');
    expect(plain.text()).toBe('17:04:05 WARN a\n');
  });
});
