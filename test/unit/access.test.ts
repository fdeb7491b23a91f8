// Issue 12 points 3 and 4: the SubjectAccessReview cache (one review per key per TTL, one
// in flight, bounded, forgotten on a 403) and the scoped farm-wide topics (one per distinct
// view, sums over what that view may see, other people's pools never in it).
import { describe, expect, it } from 'vitest';
import { AccessReviews, deniedActions } from '../../src/http/access.js';
import type { Identity } from '../../src/http/identity.js';
import { FarmStore } from '../../src/farm/store.js';
import { FragmentCatalog } from '../../src/live/fragments.js';
import { splitScoped } from '../../src/live/topics.js';
import { MemoryCluster } from '../../src/kube/memory-cluster.js';
import { toPoolView } from '../../src/kube/slim.js';
import type { AccessDecision, AccessQuestion, Subject } from '../../src/kube/types.js';

class Counting extends MemoryCluster {
  asked: string[] = [];
  override async reviewAccess(s: Subject, q: AccessQuestion): Promise<AccessDecision> {
    this.asked.push(`${s.user} ${q.verb} ${q.namespace}`);
    return { allowed: q.namespace === 'team-a', reason: '' };
  }
}

const alice: Identity = { user: 'alice', groups: ['qa'], via: 'proxy' };

describe('AccessReviews', () => {
  it('asks once per (user, groups, verb, resource, namespace) per TTL, shares a review in flight, and stays bounded', async () => {
    const cluster = new Counting();
    let now = 0;
    const access = new AccessReviews(cluster, { ttlMs: 30_000, maxEntries: 4, now: () => now });
    const q = { group: 'droidfarm.io', resource: 'testsessions', verb: 'delete', namespace: 'team-a' };
    await Promise.all([access.can(alice, q), access.can(alice, q), access.can({ ...alice, groups: ['qa'] }, q)]);
    expect(cluster.asked).toEqual(['alice delete team-a']);
    // Other groups are another question: RBAC may bind them.
    await access.can({ ...alice, groups: ['qa', 'leads'] }, q);
    expect(cluster.asked).toHaveLength(2);
    now = 29_999;
    await access.can(alice, q);
    expect(cluster.asked).toHaveLength(2);
    now = 30_001;
    await access.can(alice, q);
    expect(cluster.asked).toHaveLength(3);
    for (const ns of ['n1', 'n2', 'n3', 'n4', 'n5']) await access.can(alice, { ...q, namespace: ns });
    expect(access.size).toBe(4);
  });

  it("forgets a person's answers after a 403, and says why each button is disabled", async () => {
    const cluster = new Counting();
    const access = new AccessReviews(cluster);
    expect(await deniedActions(access, alice, 'team-a')).toEqual({});
    expect(await deniedActions(access, alice, 'team-b')).toEqual({
      stop: 'you (alice) cannot patch testsessions in team-b',
      retry: 'you (alice) cannot create testsessions in team-b',
      delete: 'you (alice) cannot delete testsessions in team-b',
    });
    const asked = cluster.asked.length;
    await deniedActions(access, alice, 'team-b');
    expect(cluster.asked.length).toBe(asked);
    access.forget(alice);
    await deniedActions(access, alice, 'team-b');
    expect(cluster.asked.length).toBe(asked + 3);
    expect(await deniedActions(access, undefined, 'team-b')).toEqual({});
  });
});

describe('scoped farm-wide topics', () => {
  const pool = (namespace: string, name: string, state = 'Idle') =>
    toPoolView({
      metadata: { name, namespace, uid: `${namespace}-${name}` },
      spec: { templateRef: { name: 't' }, replicas: 1 },
      status: { devices: [{ name: `${name}-0`, state }], counts: { idle: state === 'Idle' ? 1 : 0, unhealthy: state === 'Unhealthy' ? 1 : 0, busy: 0, booting: 0 } },
    });

  it('one topic per distinct view, with sums and rows of that view only', () => {
    const store = new FarmStore();
    const catalog = new FragmentCatalog(store, { origins: [], linkOrigins: [], allowHttp: false });
    for (const [ns, name] of [['team-a', 'alpha'], ['team-b', 'beta']] as const) store.applyPool('added', pool(ns, name));
    const a = catalog.scopedTopic('farm', { pools: new Set(['team-a']), sessions: new Set(['team-a']) });
    const same = catalog.scopedTopic('farm', { pools: new Set(['team-a']), sessions: new Set(['team-a']) });
    const b = catalog.scopedTopic('farm', { pools: new Set(['team-b']), sessions: undefined });
    expect(a).toBe(same);
    expect(a).not.toBe(b);
    expect(splitScoped(a)).toMatchObject({ base: 'farm' });
    expect(splitScoped('pool:team-a/alpha')).toBeUndefined();
    const names = (topic: string, id: string) => ((catalog.snapshot(topic).find((f) => f.id === id)!.data as { pools: Array<{ name: string }> }).pools ?? []).map((p) => p.name);
    expect(names(a, 'farm-pools')).toEqual(['alpha']);
    expect(names(b, 'farm-pools')).toEqual(['beta']);
    expect(names('farm', 'farm-pools')).toEqual(['alpha', 'beta']);
    // A change in team-b reaches b's topic (its sums and its card), never a's.
    catalog.onTopic(a, true);
    catalog.onTopic(b, true);
    expect(catalog.scopedTopicCount).toBe(2);
    const changed = pool('team-b', 'beta', 'Unhealthy');
    const affected = catalog.affected({ kind: 'pool', type: 'modified', key: 'team-b/beta', view: changed });
    // Nothing for a's topic: its sums do not include team-b.
    expect(affected.filter((t) => t.topic === a)).toEqual([]);
    const card = affected.find((t) => t.topic === 'farm' && !['farm-totals', 'farm-attention'].includes(t.fragment.id))!.fragment.id;
    expect(affected.filter((t) => t.topic === b).map((t) => t.fragment.id).sort()).toEqual(['farm-attention', 'farm-totals', card].sort());
    // Sums per scope render apart: the broker keys its per-flush render cache by renderKey.
    const keys = affected.filter((t) => t.fragment.id === 'farm-totals').map((t) => t.fragment.renderKey ?? t.fragment.id);
    expect(new Set(keys).size).toBe(2); // the plain topic's and b's
    catalog.onTopic(a, false);
    catalog.onTopic(b, false);
    expect(catalog.scopedTopicCount).toBe(0);
    // An unknown scope shows nothing rather than everything.
    const unknown = catalog.snapshot('farm~nope').find((f) => f.id === 'farm-pools')!;
    expect((unknown.data as { pools: unknown[] }).pools).toEqual([]);
  });
});
