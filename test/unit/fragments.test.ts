// The fragment catalog's cost model: what a change makes out of date is named at once, but
// a session page's data is gathered only when that page is rendered, so changes to a
// farm's 50,000 sessions do not each walk the session's pool queue for nobody.
import { describe, expect, it } from 'vitest';
import { FarmStore } from '../../src/farm/store.js';
import type { SessionView } from '../../src/farm/types.js';
import { toSessionView } from '../../src/kube/slim.js';
import { FragmentCatalog } from '../../src/live/fragments.js';
import { topics } from '../../src/live/topics.js';

class CountingStore extends FarmStore {
  queueWalks = 0;
  override sessionsOfPool(namespace: string, pool: string): SessionView[] {
    this.queueWalks++;
    return super.sessionsOfPool(namespace, pool);
  }
}

const session = (name: string) =>
  toSessionView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'TestSession',
    metadata: { name, namespace: 'ns', uid: name, resourceVersion: '1', creationTimestamp: '2026-11-23T10:00:00Z' },
    spec: { poolRef: { name: 'p' } },
  });

describe('session fragments', () => {
  it('name the session page as out of date without gathering its data until it is read', () => {
    const store = new CountingStore();
    const catalog = new FragmentCatalog(store, { origins: [], allowHttp: false });
    const changes: Parameters<FragmentCatalog['affected']>[0][] = [];
    store.subscribe((c) => changes.push(c));
    for (let i = 0; i < 100; i++) store.applySession('added', session(`s-${i}`));

    const affected = changes.flatMap((c) => catalog.affected(c));
    expect(affected.filter((a) => a.topic === topics.session('ns', 's-0'))).toHaveLength(1);
    expect(store.queueWalks).toBe(0);

    // Read (rendered for a subscriber): now it is gathered, with the Pending explanation.
    const detail = affected.find((a) => a.topic === topics.session('ns', 's-0'))!.fragment.data as { pending?: { position: number; queued: number } };
    expect(detail.pending).toMatchObject({ position: 1, queued: 100 });
    expect(store.queueWalks).toBe(1);
  });
});
