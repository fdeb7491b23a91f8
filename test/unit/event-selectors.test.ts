// The Events watches, on the in-memory cluster (which evaluates field selectors as the
// apiserver does): only Events about sessions, pools and runner pods reach the store, a
// runner pod's earlier Events arrive once its session names it, and the selector syntax
// the watches use matches as Kubernetes' does. The real apiserver: events-selector.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { FarmStore } from '../../src/farm/store.js';
import { fieldMatcher } from '../../src/kube/api-semantics.js';
import { MemoryCluster } from '../../src/kube/memory-cluster.js';
import { FarmSync } from '../../src/kube/sync.js';
import type { KubeObject } from '../../src/kube/types.js';
import { waitFor } from '../helpers/cluster.js';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
let sync: FarmSync | undefined;
afterEach(() => sync?.stop());

const event = (name: string, kind: string, about: string) => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name, namespace: 'farm' },
  involvedObject: { kind, name: about, namespace: 'farm' },
  reason: 'Test',
  message: `${kind}/${about}`,
});

describe('Events watches', () => {
  it('keep only Events about sessions, pools and runner pods, and a runner pod’s earlier ones once named', async () => {
    const cluster = new MemoryCluster();
    await cluster.create('sessions', 'farm', { metadata: { name: 'runs' }, spec: { poolRef: { name: 'alpha' } } });
    await cluster.patch('sessions', 'farm', 'runs', { status: { phase: 'Running', podName: 'runs-runner' } }, { subresource: 'status' });
    for (const [name, kind, about] of [
      ['e1', 'TestSession', 'runs'],
      ['e2', 'DevicePool', 'alpha'],
      ['e3', 'Pod', 'runs-runner'],
      ['x1', 'Pod', 'web-1'],
      ['x2', 'Deployment', 'web'],
      ['x3', 'Node', 'node-1'],
      ['x4', 'DeviceTemplate', 'pixel-6'],
      ['late1', 'Pod', 'late-runner'],
    ] as const) {
      await cluster.create('events', 'farm', event(name, kind, about));
    }
    const store = new FarmStore();
    sync = new FarmSync({ cluster, store, namespaces: ['farm'], log: silent });
    sync.start();
    await sync.whenSynced();
    await waitFor('the farm’s Events', () => store.eventCount() === 3);
    expect(store.eventsFor('Pod', 'farm', 'web-1')).toEqual([]);

    await cluster.create('events', 'farm', event('x5', 'Pod', 'web-2'));
    await cluster.create('sessions', 'farm', { metadata: { name: 'late' }, spec: { poolRef: { name: 'alpha' } } });
    await cluster.patch('sessions', 'farm', 'late', { status: { phase: 'Running', podName: 'late-runner' } }, { subresource: 'status' });
    await waitFor('the late runner pod’s earlier Event', () => store.eventsFor('Pod', 'farm', 'late-runner').length === 1);
    await cluster.create('events', 'farm', event('late2', 'Pod', 'late-runner'));
    await waitFor('its next Event', () => store.eventsFor('Pod', 'farm', 'late-runner').length === 2);
    expect(store.eventCount()).toBe(5);
    // Three Events watches, one per kind, each with its selector.
    expect(sync.statuses().filter((s) => s.resource === 'events').map((s) => s.fieldSelector)).toEqual([
      'involvedObject.kind=TestSession',
      'involvedObject.kind=DevicePool',
      'involvedObject.kind=Pod',
    ]);
  });

  it('match field selectors as the apiserver does: all terms, =, ==, !=, a missing field is ""', () => {
    const o = event('e', 'Pod', 'web-1') as unknown as KubeObject;
    expect(fieldMatcher('involvedObject.kind=Pod')(o)).toBe(true);
    expect(fieldMatcher('involvedObject.kind==Pod,involvedObject.name=web-1')(o)).toBe(true);
    expect(fieldMatcher('involvedObject.kind=Pod,involvedObject.name=web-2')(o)).toBe(false);
    expect(fieldMatcher('involvedObject.kind!=Pod')(o)).toBe(false);
    expect(fieldMatcher('involvedObject.uid=')(o)).toBe(true);
    expect(fieldMatcher(undefined)(o)).toBe(true);
    expect(() => fieldMatcher('involvedObject.kind')).toThrow(/invalid field selector/);
  });
});
