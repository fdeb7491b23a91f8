import { describe, expect, it } from 'vitest';
import { SessionOrder } from '../../src/farm/session-order.js';
import { decodeCursor, encodeCursor, parsePhases, QueryError, querySessions, sessionMatcher } from '../../src/farm/session-query.js';
import type { SessionView } from '../../src/farm/types.js';
import { sessionView } from '../helpers/views.js';
import { mulberry32 } from '../../src/sim/random.js';


const newestFirst = (a: SessionView, b: SessionView) => (b.createdAt ?? 0) - (a.createdAt ?? 0) || (`${b.namespace}/${b.name}` < `${a.namespace}/${a.name}` ? -1 : 1);
const names = (items: Iterable<SessionView>) => [...items].map((s) => `${s.namespace}/${s.name}`);

describe('SessionOrder', () => {
  it('keeps any sequence of inserts and removes in creation order, ties by namespace/name', () => {
    const next = mulberry32(7);
    for (let round = 0; round < 50; round++) {
      const order = new SessionOrder();
      const live = new Map<string, SessionView>();
      for (let step = 0; step < 200; step++) {
        const name = `s${Math.floor(next() * 60)}`;
        const namespace = next() < 0.5 ? 'a' : 'b';
        const key = `${namespace}/${name}`;
        const existing = live.get(key);
        if (existing && next() < 0.5) {
          order.remove(existing);
          live.delete(key);
        } else if (!existing) {
          // Few distinct times, so ties are common; some sessions have none (sorted as 0).
          const s = sessionView(namespace, name, next() < 0.1 ? undefined : Math.floor(next() * 10));
          order.insert(s);
          live.set(key, s);
        }
      }
      expect(names(order.newestFirst()), `round ${round}`).toEqual(names([...live.values()].sort(newestFirst)));
      expect(order.size).toBe(live.size);
    }
  });

  it('ignores the removal of a session it does not hold', () => {
    const order = new SessionOrder();
    order.insert(sessionView('a', 'x', 1));
    order.remove(sessionView('a', 'y', 1));
    order.remove(sessionView('a', 'x', 2));
    expect(names(order.newestFirst())).toEqual(['a/x']);
  });
});

describe('querySessions', () => {
  const farm = (count: number) => {
    const order = new SessionOrder();
    for (let i = 0; i < count; i++) order.insert(sessionView('ns', `s${String(i).padStart(3, '0')}`, 1000 + Math.floor(i / 3), { phase: i % 4 === 0 ? 'Failed' : 'Running', labels: { team: i % 2 ? 'odd' : 'even' } }));
    return order;
  };
  const all = (order: SessionOrder, q: Parameters<typeof querySessions>[1]) => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = querySessions(order, { ...q, cursor });
      expect(page.items.length).toBeLessThanOrEqual(q.limit);
      seen.push(...names(page.items));
      if (!page.next) return { seen, pages: pages + 1 };
      cursor = page.next;
    }
    throw new Error('no last page');
  };

  it('pages through every match exactly once, newest first, whatever the page size', () => {
    const order = farm(47);
    const expected = names([...order.newestFirst()]);
    for (const limit of [1, 2, 3, 10, 46, 47, 48, 500]) {
      const { seen, pages } = all(order, { limit });
      expect(seen, `limit ${limit}`).toEqual(expected);
      expect(pages).toBe(Math.max(1, Math.ceil(47 / limit)));
    }
  });

  it('keeps a cursor stable while newer sessions arrive and others go', () => {
    const order = farm(30);
    const first = querySessions(order, { limit: 10 });
    order.insert(sessionView('ns', 'newer', 5000));
    order.remove([...order.newestFirst()].find((s) => s.name === 's005')!);
    const second = querySessions(order, { limit: 10, cursor: first.next });
    const before = names(first.items);
    const after = names(second.items);
    expect(after).not.toContain('ns/newer');
    expect(after).not.toContain('ns/s005');
    expect(after.filter((n) => before.includes(n))).toEqual([]);
  });

  it('filters by phase, label selector, pool and name text, together', () => {
    const order = farm(40);
    const { seen } = all(order, { limit: 7, phases: ['Failed'], selector: 'team=even', text: 'S0' });
    const expected = [...order.newestFirst()].filter((s) => s.phase === 'Failed' && s.labels.team === 'even' && s.name.toLowerCase().includes('s0'));
    expect(seen).toEqual(names(expected));
    expect(seen.length).toBeGreaterThan(0);
    expect(all(order, { limit: 5, pool: 'elsewhere' }).seen).toEqual([]);
  });
});

describe('query parts', () => {
  it('reads phases case-insensitively, once each, and names a wrong one', () => {
    expect(parsePhases(undefined)).toEqual([]);
    expect(parsePhases('')).toEqual([]);
    expect(parsePhases('running, FAILED,Running')).toEqual(['Running', 'Failed']);
    expect(parsePhases(['Pending', 'timedout'])).toEqual(['Pending', 'TimedOut']);
    expect(() => parsePhases('Runing')).toThrow(QueryError);
    expect(() => parsePhases('Runing')).toThrow(/"Runing" is not one of Pending, Assigned/);
  });

  it('round-trips cursors and refuses every other token with a QueryError on `continue`', () => {
    for (const key of [{ createdAt: 0, key: 'a/b' }, { createdAt: 1796225849887, key: `ns/${'x'.repeat(253)}` }]) expect(decodeCursor(encodeCursor(key))).toEqual(key);
    for (const bad of ['', 'not base64!', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('["1","a/b"]').toString('base64url'), Buffer.from('[1]').toString('base64url')]) {
      try {
        decodeCursor(bad);
        expect.unreachable(bad);
      } catch (err) {
        expect(err, bad).toBeInstanceOf(QueryError);
        expect((err as QueryError).field).toBe('continue');
      }
    }
  });

  it('turns a bad selector into a QueryError on `selector`', () => {
    for (const selector of ['a in (b', '=x', 'a,,b', 'UPPER/key=1', `k=${'v'.repeat(64)}`]) {
      expect(() => sessionMatcher({ selector }), selector).toThrow(expect.objectContaining({ name: 'QueryError', field: 'selector' }));
    }
  });
});
