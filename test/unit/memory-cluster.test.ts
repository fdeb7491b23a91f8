// The in-memory cluster (demo and simulator) behaves like the API server where the demo
// depends on it: a generated name whose random suffix is taken is drawn again.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryCluster } from '../../src/kube/memory-cluster.js';

describe('memory cluster generateName', () => {
  afterEach(() => vi.restoreAllMocks());

  it('draws another suffix when the first one is taken, as the API server does since 1.32', async () => {
    const cluster = new MemoryCluster({ bookmarkIntervalMs: 0 });
    await cluster.create('sessions', 'farm', { metadata: { name: 'nightly-bbbbb' }, spec: { poolRef: { name: 'p' } } });
    // The first five draws spell the taken suffix "bbbbb"; later ones something else.
    let draws = 0;
    vi.spyOn(Math, 'random').mockImplementation(() => (draws++ < 5 ? 0 : 0.5));
    const created = await cluster.create('sessions', 'farm', { metadata: { generateName: 'nightly-' }, spec: { poolRef: { name: 'p' } } });
    expect(created.metadata.name).toMatch(/^nightly-[a-z0-9]{5}$/);
    expect(created.metadata.name).not.toBe('nightly-bbbbb');
    expect((await cluster.list('sessions', 'farm')).items.map((s) => s.metadata.name).sort()).toEqual([created.metadata.name, 'nightly-bbbbb'].sort());
  });

  it('answers 409 AlreadyExists when every attempt is taken', async () => {
    const cluster = new MemoryCluster({ bookmarkIntervalMs: 0 });
    await cluster.create('sessions', 'farm', { metadata: { name: 'nightly-bbbbb' }, spec: { poolRef: { name: 'p' } } });
    vi.spyOn(Math, 'random').mockReturnValue(0);
    await expect(cluster.create('sessions', 'farm', { metadata: { generateName: 'nightly-' }, spec: { poolRef: { name: 'p' } } })).rejects.toMatchObject({ status: 409 });
  });
});
