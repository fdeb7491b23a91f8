import { describe, expect, it } from 'vitest';
import { isLabelKey, isLabelValue, parseSelector, SelectorError } from '../../src/farm/labels.js';
import { mulberry32 } from '../../src/sim/random.js';


describe('parseSelector', () => {
  const labels = { app: 'checkout', tier: 'front', 'droidfarm.io/pool': 'regression', empty: '' };
  const table: Array<[string, boolean]> = [
    ['', true],
    ['app=checkout', true],
    ['app==checkout', true],
    ['app = checkout', true],
    ['app!=checkout', false],
    ['app=other', false],
    ['missing!=x', true],
    ['app in (checkout, login)', true],
    ['app in (login)', false],
    ['app notin (login,search)', true],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['tier', true],
    ['missing', false],
    ['!missing', true],
    ['!tier', false],
    ['empty=', true],
    ['droidfarm.io/pool=regression,app in (checkout),!missing', true],
    ['droidfarm.io/pool=regression,app=other', false],
  ];
  it.each(table)('%j matches %j', (selector, matches) => {
    expect(parseSelector(selector)(labels)).toBe(matches);
  });

  it.each(['a,', ',a', 'a,,b', '=x', 'a in (b', 'Upper.Prefix/x=1', `k=${'v'.repeat(64)}`, 'a=b c', 'a in (b,c d)', 'x'.repeat(1025)])('refuses %j with a SelectorError', (selector) => {
    expect(() => parseSelector(selector)).toThrow(SelectorError);
  });

  it('agrees with a term-by-term reading of random selectors over random labels', () => {
    const next = mulberry32(11);
    const keys = ['app', 'tier', 'droidfarm.io/pool', 'k8s.io/x_y'];
    const values = ['a', 'b', 'c', ''];
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
    for (let i = 0; i < 2000; i++) {
      const l: Record<string, string> = {};
      for (const k of keys) if (next() < 0.6) l[k] = pick(values);
      const terms: Array<[string, (x: Record<string, string>) => boolean]> = [];
      for (let t = 0, n = 1 + Math.floor(next() * 3); t < n; t++) {
        const k = pick(keys);
        const v = pick(values);
        const set = [pick(values.filter(Boolean)), pick(values.filter(Boolean))];
        switch (Math.floor(next() * 6)) {
          case 0: terms.push([`${k}=${v}`, (x) => x[k] === v]); break;
          case 1: terms.push([`${k}!=${v}`, (x) => x[k] !== v]); break;
          case 2: terms.push([`${k} in (${set.join(',')})`, (x) => x[k] !== undefined && set.includes(x[k])]); break;
          case 3: terms.push([`${k} notin (${set.join(', ')})`, (x) => x[k] === undefined || !set.includes(x[k])]); break;
          case 4: terms.push([k, (x) => x[k] !== undefined]); break;
          default: terms.push([`!${k}`, (x) => x[k] === undefined]);
        }
      }
      const selector = terms.map(([text]) => text).join(',');
      expect(parseSelector(selector)(l), `${selector} on ${JSON.stringify(l)}`).toBe(terms.every(([, check]) => check(l)));
    }
  });
});

describe('label keys and values', () => {
  it('follow the apiserver: [prefix/]name, name ≤ 63, prefix a DNS subdomain; values ≤ 63', () => {
    for (const ok of ['app', 'droidfarm.io/pool', 'a.b-c_d', 'x'.repeat(63), `${'p'.repeat(63)}.io/n`]) expect(isLabelKey(ok), ok).toBe(true);
    for (const bad of ['', '/x', 'x/', 'Upper.io/x', '-a', 'a-', 'x'.repeat(64), 'a/b/c']) expect(isLabelKey(bad), bad).toBe(false);
    for (const ok of ['', 'v', 'V_1.2-b', 'x'.repeat(63)]) expect(isLabelValue(ok), ok).toBe(true);
    for (const bad of ['-v', 'v-', 'a b', 'x'.repeat(64), 'a\r']) expect(isLabelValue(bad), bad).toBe(false);
  });
});
