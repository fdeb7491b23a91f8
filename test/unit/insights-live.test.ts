// Insights through the fragment catalog: the live topic of a filter set is marked once per
// change that moves a figure (not per progress tick), only while someone watches it, and
// the bottleneck verdict reaches the pool page and the farm's attention strip.
import { describe, expect, it } from 'vitest';
import { FarmStore } from '../../src/farm/store.js';
import { toPoolView, toSessionView } from '../../src/kube/slim.js';
import { FragmentCatalog } from '../../src/live/fragments.js';
import { isTopic, topics } from '../../src/live/topics.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');
let rv = 0;
const session = (name: string, created: string, status: Record<string, unknown> = {}) =>
  toSessionView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'TestSession',
    metadata: { name, namespace: 'ns', uid: name, resourceVersion: String(++rv), creationTimestamp: `2026-12-02T${created}Z` },
    spec: { poolRef: { name: 'alpha' } },
    status,
  });
const pool = (states: string[]) =>
  toPoolView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'DevicePool',
    metadata: { name: 'alpha', namespace: 'ns', uid: 'alpha', resourceVersion: String(++rv), generation: 1 },
    spec: { templateRef: { name: 't' }, replicas: states.length },
    status: { observedGeneration: 1, devices: states.map((state, i) => ({ name: `alpha-${i}`, state })) },
  });

function setup() {
  const store = new FarmStore();
  const catalog = new FragmentCatalog(store, { origins: [], allowHttp: false }, () => NOW);
  const changes: Parameters<FragmentCatalog['affected']>[0][] = [];
  store.subscribe((c) => changes.push(c));
  return { store, catalog, changes };
}

describe('insights, live', () => {
  it('accepts valid insights topics only', () => {
    expect(isTopic(topics.insights({ window: '24h', namespace: 'ns' }))).toBe(true);
    expect(isTopic('insights?window=2h')).toBe(false);
    expect(isTopic('insights?namespace=ns&window=24h')).toBe(false); // not in its canonical order
  });

  it('marks a watched insights topic when a figure moves, not on a progress tick, and never an unwatched one', () => {
    const { store, catalog, changes } = setup();
    const topic = topics.insights({ window: '1h' });
    const marked = () => changes.splice(0).flatMap((c) => catalog.affected(c)).filter((a) => a.topic.startsWith('insights?'));
    store.applySession('added', session('s1', '11:00:00'));
    expect(marked()).toEqual([]); // nobody watches
    catalog.onTopic(topic, true);
    const running = { phase: 'Running', device: { name: 'alpha-0' }, assignedAt: '2026-12-02T11:01:00Z', startTime: '2026-12-02T11:01:00Z' };
    store.applySession('modified', session('s1', '11:00:00', running));
    expect(marked().map((m) => m.topic)).toEqual([topic]);
    store.applySession('modified', session('s1', '11:00:00', { ...running, progress: { completed: 3, total: 10 } }));
    expect(marked()).toEqual([]);
    catalog.onTopic(topic, false);
    store.applySession('modified', session('s1', '11:00:00', { ...running, phase: 'Succeeded', completionTime: '2026-12-02T11:30:00Z' }));
    expect(marked()).toEqual([]);
  });

  it('says bottleneck on the pool page and in the attention strip when sessions wait past the SLO with no idle device', () => {
    const { store, catalog } = setup();
    store.applyPool('added', pool(['Busy', 'Busy']));
    store.applySession('added', session('old', '11:50:00'));
    store.applySession('added', session('new', '11:59:00'));
    const verdict = catalog.poolVerdict('ns', 'alpha').data as { verdict: { status: string; summary: string } };
    expect(verdict.verdict.status).toBe('bottleneck');
    expect(verdict.verdict.summary).toContain('2 sessions waiting, 0 idle, oldest waiting 10 min');
    const attention = catalog.farmAttention().data as { attention: { calm: boolean; bottlenecks: Array<{ pool: string; href: string }> } };
    expect(attention.attention.calm).toBe(false);
    expect(attention.attention.bottlenecks).toEqual([expect.objectContaining({ pool: 'alpha', href: '/pools/ns/alpha' })]);
    // A device comes free: healthy again.
    store.applyPool('modified', pool(['Idle', 'Busy']));
    expect((catalog.poolVerdict('ns', 'alpha').data as { verdict: { status: string } }).verdict.status).toBe('healthy');
  });

  it('works a verdict out once per second and change, and again as time passes', () => {
    const store = new FarmStore();
    let now = NOW;
    const catalog = new FragmentCatalog(store, { origins: [], allowHttp: false }, () => now);
    store.applyPool('added', pool(['Busy', 'Busy']));
    store.applySession('added', session('old', '11:50:00'));
    const first = catalog.insights.verdictOf('ns', 'alpha', now);
    expect(catalog.insights.verdictOf('ns', 'alpha', now + 500)).toBe(first);
    now += 60_000;
    const later = (catalog.poolVerdict('ns', 'alpha').data as { verdict: { summary: string } }).verdict.summary;
    expect(later).toContain('oldest waiting 11 min');
  });
});
