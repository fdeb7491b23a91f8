// One time format on every page: relative text from the server, kept fresh in the browser
// by public/app.js with the same rules.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { relativeTime, timeView } from '../../src/view/format.js';

const NOW = Date.parse('2026-12-02T17:30:00Z');
const S = 1000;

describe('timeView', () => {
  it('gives the datetime, a relative text and a UTC hover text', () => {
    expect(timeView(NOW - 4 * 60 * S - 20 * S, NOW)).toEqual({ iso: '2026-12-02T17:25:40Z', relative: '4 min ago', utc: '2026-12-02 17:25:40 UTC' });
  });

  it('is undefined for an unknown time, so the page shows a dash instead of 1970', () => {
    expect(timeView(undefined, NOW)).toBeUndefined();
    expect(timeView(Number.NaN, NOW)).toBeUndefined();
  });
});

describe('relativeTime', () => {
  it.each([
    [0, 'just now'],
    [9 * S, 'just now'],
    [10 * S, '10 s ago'],
    [59 * S, '59 s ago'],
    [60 * S, '1 min ago'],
    [59 * 60 * S + 59 * S, '59 min ago'],
    [3600 * S, '1 h ago'],
    [23 * 3600 * S, '23 h ago'],
    [24 * 3600 * S, '1 d ago'],
    [40 * 24 * 3600 * S, '40 d ago'],
    [-5 * S, 'just now'],
    [-90 * S, 'in 1 min'],
  ])('%i ms before now reads %j', (ago, text) => {
    expect(relativeTime(NOW - ago, NOW)).toBe(text);
  });

  it('matches the browser copy in public/app.js, which keeps the texts fresh', () => {
    const source = readFileSync(join(import.meta.dirname, '..', '..', 'public', 'app.js'), 'utf8');
    const body = /function relativeTime\(at, now\) \{([\s\S]*?)\n {2}\}/.exec(source)?.[1];
    expect(body, 'relativeTime in public/app.js').toBeDefined();
    const browser = new Function('at', 'now', body!) as (at: number, now: number) => string;
    for (let ago = -200_000_000; ago < 5_000_000_000; ago += 7_777_777) expect(browser(NOW - ago, NOW), String(ago)).toBe(relativeTime(NOW - ago, NOW));
    for (let ago = -70_000; ago < 4_000_000; ago += 999) expect(browser(NOW - ago, NOW), String(ago)).toBe(relativeTime(NOW - ago, NOW));
  });
});
