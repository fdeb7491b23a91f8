// The live session list's batches: one topic per query, rows sent only when they changed,
// the page's order only when its sessions did, and nothing for lists a change does not touch.
import { describe, expect, it } from 'vitest';
import { FarmStore, type FarmChange } from '../../src/farm/store.js';
import { toSessionView } from '../../src/kube/slim.js';
import { SessionLists, listFilters, type SessionListBatch } from '../../src/view/session-list.js';

let version = 0;
const session = (name: string, pool: string, phase = 'Pending', created = '2026-12-02T10:00:00Z') =>
  toSessionView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'TestSession',
    metadata: { name, namespace: 'ns', uid: name, resourceVersion: String(++version), creationTimestamp: created },
    spec: { poolRef: { name: pool } },
    status: { phase },
  });

function setup(topics: string[]) {
  const store = new FarmStore();
  const lists = new SessionLists(store, () => Date.parse('2026-12-02T12:00:00Z'));
  // Kept as the broker keeps them: a batch's data is gathered only when it is rendered.
  const batches: Array<{ topic: string; readonly batch: SessionListBatch }> = [];
  store.subscribe((change: FarmChange) => {
    for (const { topic, fragment } of lists.affected(change)) {
      batches.push({
        topic,
        get batch() {
          return fragment.data as unknown as SessionListBatch;
        },
      });
    }
  });
  for (const t of topics) lists.onTopic(t, true);
  return { store, lists, batches };
}

describe('the live session list', () => {
  it('reads its query from the topic, and refuses one that is not a valid query', () => {
    expect(listFilters('sessions?namespace=ns&pool=alpha&phase=Failed')).toMatchObject({ namespace: 'ns', pool: 'alpha', phases: ['Failed'] });
    expect(listFilters('sessions?labelSelector=team%20in%20(a')).toBeUndefined();
    expect(listFilters('sessions?limit=0')).toBeUndefined();
    expect(listFilters('pools')).toBeUndefined();
  });

  it('sends a changed row only to the lists whose query it is in', () => {
    const { store, batches } = setup(['sessions?pool=alpha', 'sessions?pool=beta']);
    store.applySession('added', session('a1', 'alpha'));
    expect(batches.map((b) => b.topic)).toEqual(['sessions?pool=alpha']);
  });

  it('sends every row once after it starts, then only rows that changed, with the order only when the page changed', () => {
    const { store, batches } = setup(['sessions?pool=alpha']);
    store.applySession('added', session('a1', 'alpha', 'Pending', '2026-12-02T10:00:00Z'));
    store.applySession('added', session('a2', 'alpha', 'Pending', '2026-12-02T10:01:00Z'));
    // Batches are rendered later; read each one as the broker would, in turn.
    const first = batches.splice(0).at(-1)!.batch;
    expect(first.rows.map((r) => r.name)).toEqual(['a2', 'a1']);
    expect(first.order).toEqual(['session-row__ns__a2', 'session-row__ns__a1']);

    store.applySession('modified', session('a1', 'alpha', 'Running'));
    const update = batches.splice(0).at(-1)!.batch;
    expect(update.rows.map((r) => [r.name, r.phase])).toEqual([['a1', 'Running']]);
    expect(update.order).toBeUndefined();

    store.applySession('deleted', session('a2', 'alpha'));
    const gone = batches.splice(0).at(-1)!.batch;
    expect(gone.rows).toEqual([]);
    expect(gone.order).toEqual(['session-row__ns__a1']);
  });

  it('lets a session leave a filtered list when its phase no longer matches', () => {
    const { store, batches } = setup(['sessions?phase=Running']);
    store.applySession('added', session('r1', 'alpha', 'Running'));
    batches.splice(0).at(-1)!.batch; // read: r1 is on the page
    store.applySession('modified', session('r1', 'alpha', 'Succeeded'));
    const left = batches.splice(0).at(-1)!.batch;
    expect(left.order).toEqual([]);
  });

  it('forgets a list nobody watches', () => {
    const { store, lists, batches } = setup(['sessions?pool=alpha']);
    lists.onTopic('sessions?pool=alpha', false);
    store.applySession('added', session('a1', 'alpha'));
    expect(batches).toEqual([]);
  });
});
