import { describe, expect, it } from 'vitest';
import { cleanLine, joinLines, LineSplitter, newestWithin, shownLine, splitTimed, startsWithLines } from '../../src/live/log-text.js';

describe('cleanLine', () => {
  it('removes colours, cursor moves, titles, other control characters and bidi overrides; keeps tabs', () => {
    const cases: Array<[string, string]> = [
      ['\x1b[32mPASS\x1b[0m LoginTest', 'PASS LoginTest'],
      ['\x1b[1;31;40mFAIL\x1b[m', 'FAIL'],
      ['\x1b]0;window title\x07after', 'after'],
      ['\x1b]8;;https://x.example\x1b\\link\x1b]8;;\x1b\\', 'link'],
      ['a\x00b\x07c\x7fd\x9be', 'abcde'],
      ['col1\tcol2', 'col1\tcol2'],
      ['user \u202eexe.txt', 'user exe.txt'],
      ['\u2066isolated\u2069', 'isolated'],
      ['héllo — 日本', 'héllo — 日本'],
    ];
    for (const [raw, shown] of cases) expect(cleanLine(raw, 100), JSON.stringify(raw)).toBe(shown);
  });

  it('shows what a terminal shows of a line rewritten with carriage returns', () => {
    expect(cleanLine('10%\r50%\r100%', 100)).toBe('100%');
    expect(cleanLine('adb output\r\r', 100)).toBe('adb output');
    expect(cleanLine('\r', 100)).toBe('');
  });

  it('cuts a long line and says so', () => {
    expect(cleanLine('x'.repeat(12), 10)).toBe(`${'x'.repeat(10)} … [line cut at 10 characters]`);
    expect(cleanLine('x'.repeat(10), 10)).toBe('x'.repeat(10));
  });
});

describe('lines read with timestamps and colours (the log viewer page follows them)', () => {
  const T = '2026-12-03T05:04:03.250123456Z';
  it('keeps the apiserver time and the colour codes, cleans the rest of the text after the time', () => {
    const o = { timed: true, colours: true };
    expect(cleanLine(`${T} \x1b[31mFAIL\x1b[0m\x1b]0;title\x07 \u202e x\x00`, 100, o)).toBe(`${T} \x1b[31mFAIL\x1b[0m  x`);
    // A progress bar rewrites its text, never the time.
    expect(cleanLine(`${T} 10%\r50%\r100%`, 100, o)).toBe(`${T} 100%`);
    expect(cleanLine(`${T} ${'x'.repeat(12)}`, 10, o)).toBe(`${T} ${'x'.repeat(10)} … [line cut at 10 characters]`);
    // A line without a time (not from the apiserver) is cleaned whole.
    expect(cleanLine('no time \x1b[1mbold', 100, o)).toBe('no time \x1b[1mbold');
    expect(cleanLine('\x1b[31mred', 100, { timed: true })).toBe('red');
  });

  it('splits the time off, and shows the panel the text alone, without colour codes or half of one', () => {
    expect(splitTimed(`${T} text`)).toEqual({ time: T, text: 'text' });
    expect(splitTimed('2026-12-03 not a time')).toEqual({ time: '', text: '2026-12-03 not a time' });
    expect(splitTimed('2026-12-03T05:04:03+05:30 offset')).toEqual({ time: '2026-12-03T05:04:03+05:30', text: 'offset' });
    expect(shownLine(`${T} \x1b[31mFAIL\x1b[0m done`)).toBe('FAIL done');
    expect(shownLine(`${T} cut \x1b[3`)).toBe('cut [3');
    expect(shownLine('[dashboard] … 3 lines not shown')).toBe('[dashboard] … 3 lines not shown');
  });

  it('LineSplitter passes the options on', () => {
    const s = new LineSplitter(100, { timed: true, colours: true });
    expect(s.push(`${T} \x1b[32mok\x1b[0m\n${T} part`)).toEqual([`${T} \x1b[32mok\x1b[0m`]);
    expect(s.end()).toEqual([`${T} part`]);
  });
});

describe('LineSplitter', () => {
  it('holds a line until its newline, across chunks and split UTF-8 characters', () => {
    const s = new LineSplitter(100);
    const bytes = Buffer.from('first\nsec€ond\nthi', 'utf8');
    const euro = bytes.indexOf(0xe2);
    expect(s.push(bytes.subarray(0, euro + 1))).toEqual(['first']);
    expect(s.push(bytes.subarray(euro + 1))).toEqual(['sec€ond']);
    expect(s.push('rd\r\n')).toEqual(['third']);
    expect(s.end()).toEqual([]);
  });

  it('gives the last line without a newline at the end', () => {
    const s = new LineSplitter(100);
    expect(s.push('a\nb')).toEqual(['a']);
    expect(s.end()).toEqual(['b']);
  });

  it('sends a line longer than the limit once, cut, and drops the rest of it', () => {
    const s = new LineSplitter(5);
    expect(s.push('abcdefgh')).toEqual(['abcde … [line cut at 5 characters]']);
    expect(s.push('ijklmnop')).toEqual([]);
    expect(s.push('qr\nnext\n')).toEqual(['next']);
    expect(s.push('0123456789')).toHaveLength(1);
    expect(s.end()).toEqual([]);
  });
});

describe('newestWithin', () => {
  it('keeps the newest lines that fit both the line count and the bytes (a newline each)', () => {
    const lines = ['aaaa', 'bb', 'c', 'dd'];
    expect(newestWithin(lines, 10, 100)).toEqual({ kept: lines, skipped: 0, bytes: 5 + 3 + 2 + 3 });
    expect(newestWithin(lines, 2, 100)).toEqual({ kept: ['c', 'dd'], skipped: 2, bytes: 5 });
    expect(newestWithin(lines, 10, 8)).toEqual({ kept: ['bb', 'c', 'dd'], skipped: 1, bytes: 8 });
    expect(newestWithin(lines, 10, 2)).toEqual({ kept: [], skipped: 4, bytes: 0 });
    expect(newestWithin(['€'], 10, 4)).toEqual({ kept: ['€'], skipped: 0, bytes: 4 });
  });
});

describe('joinLines and startsWithLines', () => {
  it('join with a newline after each line, and compare prefixes line by line', () => {
    expect(joinLines([])).toBe('');
    expect(joinLines(['a', 'b'])).toBe('a\nb\n');
    expect(startsWithLines(['a', 'b', 'c'], ['a', 'b'])).toBe(true);
    expect(startsWithLines(['a', 'b'], ['a', 'b', 'c'])).toBe(false);
    expect(startsWithLines(['a', 'x'], ['a', 'b'])).toBe(false);
    expect(startsWithLines(['a'], [])).toBe(true);
  });
});
