// The relist diff, exhaustively: every combination of what the cache holds and what the
// list says for three objects (each absent, cached at v1, listed at v1 / v2 / unreadable).
import { describe, expect, it } from 'vitest';
import { diffRelist, type RelistChange } from '../../src/kube/relist-diff.js';

interface View {
  key: string;
  v: string;
}

type CacheState = 'absent' | 'v1';
type ListState = 'absent' | 'v1' | 'v2' | 'unreadable';

const KEYS = ['ns/a', 'ns/b', 'ns/c'];
const CACHE_STATES: CacheState[] = ['absent', 'v1'];
const LIST_STATES: ListState[] = ['absent', 'v1', 'v2', 'unreadable'];

/** What one object's pair of states must give, on its own. */
function expected(key: string, cached: CacheState, listed: ListState): RelistChange<View> | undefined {
  const old = cached === 'v1' ? { key, v: 'v1' } : undefined;
  if (listed === 'absent') return old ? { type: 'deleted', key, view: old, old } : undefined;
  if (listed === 'unreadable') return undefined; // it exists: keep what is cached
  const view = { key, v: listed };
  if (!old) return { type: 'added', key, view };
  return listed === 'v1' ? undefined : { type: 'modified', key, view, old };
}

function* combinations<T>(states: readonly T[], n: number): Generator<T[]> {
  if (n === 0) {
    yield [];
    return;
  }
  for (const s of states) for (const rest of combinations(states, n - 1)) yield [s, ...rest];
}

describe('diffRelist', () => {
  it('gives exactly the implied change for every object, in list order then cache order, for all 512 combinations', () => {
    let cases = 0;
    for (const cacheStates of combinations(CACHE_STATES, KEYS.length)) {
      for (const listStates of combinations(LIST_STATES, KEYS.length)) {
        // The list comes in reverse key order, the cache in key order: order is followed, not sorted.
        const cached = new Map<string, View>();
        KEYS.forEach((key, i) => cacheStates[i] === 'v1' && cached.set(key, { key, v: 'v1' }));
        const listed = new Map<string, View | undefined>();
        [...KEYS.keys()].reverse().forEach((i) => {
          const state = listStates[i]!;
          if (state === 'absent') return;
          listed.set(KEYS[i]!, state === 'unreadable' ? undefined : { key: KEYS[i]!, v: state });
        });
        const before = structuredClone([...cached]);

        const changes = diffRelist(cached, listed, (view) => view.v);

        const upserts = [...KEYS.keys()]
          .reverse()
          .map((i) => expected(KEYS[i]!, cacheStates[i]!, listStates[i]!))
          .filter((c) => c && c.type !== 'deleted');
        const deletes = KEYS.map((key, i) => expected(key, cacheStates[i]!, listStates[i]!)).filter((c) => c?.type === 'deleted');
        expect(changes, `cache ${cacheStates.join()} list ${listStates.join()}`).toEqual([...upserts, ...deletes]);
        // Applying the changes gives the list's picture (unreadable objects keep their cached view).
        const applied = new Map(cached);
        for (const c of changes) {
          if (c.type === 'deleted') applied.delete(c.key);
          else applied.set(c.key, c.view);
        }
        for (const [i, key] of KEYS.entries()) {
          const state = listStates[i]!;
          if (state === 'absent') expect(applied.has(key)).toBe(false);
          else if (state === 'unreadable') expect(applied.get(key)).toEqual(cached.get(key));
          else expect(applied.get(key)).toEqual({ key, v: state });
        }
        expect(changes.every((c) => c.view !== undefined)).toBe(true);
        // Pure: the inputs are untouched.
        expect([...cached]).toEqual(before);
        cases++;
      }
    }
    expect(cases).toBe(2 ** 3 * 4 ** 3);
  });

  it('is empty for an empty cache and an empty list', () => {
    expect(diffRelist(new Map(), new Map(), () => '')).toEqual([]);
  });
});
