// The farm overview's attention strip: figures kept from store changes, as an operator reads them.
import { describe, expect, it } from 'vitest';
import { FarmAttention } from '../../src/farm/attention.js';
import { FarmStore } from '../../src/farm/store.js';
import { toPoolView, toSessionView } from '../../src/kube/slim.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');

const session = (name: string, pool: string, status: Record<string, unknown> = {}) =>
  toSessionView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'TestSession',
    metadata: { name, namespace: 'ns', uid: name, resourceVersion: String(Math.random()), creationTimestamp: '2026-12-02T10:00:00Z' },
    spec: { poolRef: { name: pool } },
    status,
  });

const pool = (name: string, devices: Array<Record<string, unknown>>) =>
  toPoolView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'DevicePool',
    metadata: { name, namespace: 'ns', uid: name, resourceVersion: '1', generation: 1 },
    spec: { templateRef: { name: 't' }, replicas: devices.length },
    status: { observedGeneration: 1, devices },
  });

describe('the attention strip', () => {
  it('is calm for a healthy farm with nothing waiting', () => {
    const store = new FarmStore();
    store.applyPool('added', pool('alpha', [{ name: 'alpha-0', state: 'Idle' }]));
    expect(new FarmAttention(store).view(NOW).calm).toBe(true);
  });

  it('counts waiting sessions per pool as they come, start and go', () => {
    const store = new FarmStore();
    store.applyPool('added', pool('alpha', [{ name: 'alpha-0', state: 'Busy' }]));
    store.applySession('added', session('s1', 'alpha'));
    const attention = new FarmAttention(store); // seeded from what the store already holds
    store.applySession('added', session('s2', 'alpha'));
    store.applySession('added', session('s3', 'alpha'));
    expect(attention.view(NOW).waiting).toEqual([{ namespace: 'ns', pool: 'alpha', sessions: 3, idle: 0 }]);
    store.applySession('modified', session('s1', 'alpha', { phase: 'Running' }));
    store.applySession('deleted', session('s2', 'alpha'));
    expect(attention.view(NOW).waiting).toEqual([{ namespace: 'ns', pool: 'alpha', sessions: 1, idle: 0 }]);
  });

  it('counts failures of the last hour only, and forgets deleted ones', () => {
    const store = new FarmStore();
    const attention = new FarmAttention(store);
    store.applySession('added', session('old', 'alpha', { phase: 'Failed', completionTime: '2026-12-02T10:30:00Z' }));
    store.applySession('added', session('recent', 'alpha', { phase: 'Failed', completionTime: '2026-12-02T11:30:00Z' }));
    store.applySession('added', session('timeout', 'alpha', { phase: 'TimedOut', completionTime: '2026-12-02T11:50:00Z' }));
    store.applySession('added', session('fine', 'alpha', { phase: 'Succeeded', completionTime: '2026-12-02T11:50:00Z' }));
    expect(attention.view(NOW).failedLastHour).toBe(2);
    store.applySession('deleted', session('recent', 'alpha', { phase: 'Failed', completionTime: '2026-12-02T11:30:00Z' }));
    expect(attention.view(NOW).failedLastHour).toBe(1);
  });

  it('lists unhealthy devices with their reasons, a few of them, and counts all', () => {
    const store = new FarmStore();
    store.applyPool('added', pool('alpha', Array.from({ length: 7 }, (_, i) => ({ name: `alpha-${i}`, state: 'Unhealthy', message: `adb: device offline ${i}` }))));
    const view = new FarmAttention(store).view(NOW);
    expect(view.unhealthyTotal).toBe(7);
    expect(view.unhealthy).toHaveLength(5);
    expect(view.unhealthy[0]).toEqual({ namespace: 'ns', pool: 'alpha', device: 'alpha-0', reason: 'adb: device offline 0' });
    expect(view.calm).toBe(false);
  });
});
