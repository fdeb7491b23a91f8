// Unhealthy episodes as the dashboard sees them through the store, from hand-built pool
// transitions on a hand-moved clock: an ongoing episode, flapping, a device removed (and a
// pool deleted), the count bound, the window, and what the device page and JSON say of them.
import { describe, expect, it } from 'vitest';
import { FarmInsights } from '../../src/farm/insights/insights.js';
import { deviceHistoryJSON } from '../../src/farm/insights/json.js';
import { UnhealthyEpisodes } from '../../src/farm/insights/unhealthy-episodes.js';
import { FarmStore } from '../../src/farm/store.js';
import { toPoolView } from '../../src/kube/slim.js';
import { deviceHistoryView } from '../../src/view/device-history.js';

const T0 = Date.parse('2026-12-02T12:00:00Z');
const MIN = 60_000;

let rv = 0;
/** Pool alpha with these devices' states (and messages). */
function pool(states: Record<string, string | [string, string]>, name = 'alpha') {
  return toPoolView({
    apiVersion: 'droidfarm.io/v1alpha1',
    kind: 'DevicePool',
    metadata: { name, namespace: 'ns', uid: name, resourceVersion: String(++rv), generation: 1 },
    spec: { templateRef: { name: 'pixel' }, replicas: Object.keys(states).length },
    status: {
      observedGeneration: 1,
      devices: Object.entries(states).map(([device, s]) => (Array.isArray(s) ? { name: device, state: s[0], message: s[1] } : { name: device, state: s })),
    },
  });
}

function world(options: { maxPerDevice?: number; windowMs?: number } = {}) {
  let now = T0;
  const store = new FarmStore();
  const episodes = new UnhealthyEpisodes(store, { ...options, now: () => now });
  return {
    store,
    episodes,
    at: (minutes: number) => (now = T0 + minutes * MIN),
    synced: () => store.setSync({ synced: true, stale: false, detail: [] }),
    of: (device: string, p = 'alpha') => episodes.episodesOf('ns', p, device),
  };
}

describe('Unhealthy episodes seen through the store', () => {
  it('opens an episode when a device turns Unhealthy, keeps it ongoing, and closes it when it leaves', () => {
    const w = world();
    w.store.applyPool('added', pool({ 'alpha-0': 'Idle', 'alpha-1': 'Idle' }));
    w.synced();
    w.at(5);
    w.store.applyPool('modified', pool({ 'alpha-0': ['Unhealthy', 'adb offline\nstack: …'], 'alpha-1': 'Idle' }));
    w.at(7);
    // Still Unhealthy, a new message: the reason stays the first one.
    w.store.applyPool('modified', pool({ 'alpha-0': ['Unhealthy', 'rebooting'], 'alpha-1': 'Busy' }));
    expect(w.of('alpha-0')).toEqual({ episodes: [{ start: T0 + 5 * MIN, startSeen: true, end: undefined, endedAs: undefined, reason: 'adb offline' }], dropped: 0 });
    expect(w.of('alpha-1').episodes).toEqual([]);
    w.at(12);
    w.store.applyPool('modified', pool({ 'alpha-0': 'Booting', 'alpha-1': 'Busy' }));
    w.at(13);
    w.store.applyPool('modified', pool({ 'alpha-0': 'Idle', 'alpha-1': 'Busy' }));
    expect(w.of('alpha-0').episodes).toEqual([{ start: T0 + 5 * MIN, startSeen: true, end: T0 + 12 * MIN, endedAs: 'Booting', reason: 'adb offline' }]);
  });

  it('says when a device was already Unhealthy at first sight (before the first list completed)', () => {
    const w = world();
    w.store.applyPool('added', pool({ 'alpha-0': ['Unhealthy', 'disk full'] }));
    expect(w.of('alpha-0').episodes[0]).toMatchObject({ start: T0, startSeen: false, end: undefined, reason: 'disk full' });
    // Already in the store when the record starts: likewise.
    const store = new FarmStore();
    store.applyPool('added', pool({ 'alpha-0': ['Unhealthy', 'disk full'] }));
    store.setSync({ synced: true, stale: false, detail: [] });
    expect(new UnhealthyEpisodes(store, { now: () => T0 }).episodesOf('ns', 'alpha', 'alpha-0').episodes[0]!.startSeen).toBe(false);
  });

  it('records each flap as its own episode, newest first', () => {
    const w = world();
    w.store.applyPool('added', pool({ 'alpha-0': 'Idle' }));
    w.synced();
    for (let i = 0; i < 3; i++) {
      w.at(10 * i + 1);
      w.store.applyPool('modified', pool({ 'alpha-0': ['Unhealthy', `flap ${i}`] }));
      w.at(10 * i + 2);
      w.store.applyPool('modified', pool({ 'alpha-0': 'Idle' }));
    }
    w.at(30);
    w.store.applyPool('modified', pool({ 'alpha-0': ['Unhealthy', 'flap 3'] }));
    const { episodes } = w.of('alpha-0');
    expect(episodes.map((e) => [e.reason, e.end === undefined ? 'ongoing' : (e.end - e.start) / MIN])).toEqual([
      ['flap 3', 'ongoing'],
      ['flap 2', 1],
      ['flap 1', 1],
      ['flap 0', 1],
    ]);
  });

  it('ends the episode of a device removed from its pool, or of a deleted pool, and keeps it for the window', () => {
    const w = world();
    w.store.applyPool('added', pool({ 'alpha-0': 'Idle', 'alpha-1': 'Idle' }));
    w.store.applyPool('added', pool({ 'beta-0': 'Idle' }, 'beta'));
    w.synced();
    w.at(1);
    w.store.applyPool('modified', pool({ 'alpha-0': 'Idle', 'alpha-1': ['Unhealthy', 'no heartbeat'] }));
    w.store.applyPool('modified', pool({ 'beta-0': ['Unhealthy', 'oom'] }, 'beta'));
    w.at(4);
    w.store.applyPool('modified', pool({ 'alpha-0': 'Idle' }));
    w.store.applyPool('deleted', pool({ 'beta-0': ['Unhealthy', 'oom'] }, 'beta'));
    expect(w.of('alpha-1').episodes).toEqual([{ start: T0 + MIN, startSeen: true, end: T0 + 4 * MIN, endedAs: 'removed', reason: 'no heartbeat' }]);
    expect(w.of('beta-0', 'beta').episodes[0]).toMatchObject({ end: T0 + 4 * MIN, endedAs: 'removed' });
    // Back under the same name (a pod recreated): a new device, a new episode if it is Unhealthy.
    w.at(6);
    w.store.applyPool('modified', pool({ 'alpha-0': 'Idle', 'alpha-1': ['Unhealthy', 'still broken'] }));
    expect(w.of('alpha-1').episodes.map((e) => e.reason)).toEqual(['still broken', 'no heartbeat']);
  });

  it('keeps the newest per device and says how many it dropped; forgets what ended before the window', () => {
    const w = world({ maxPerDevice: 3, windowMs: 60 * MIN });
    w.store.applyPool('added', pool({ 'alpha-0': 'Idle', 'alpha-1': 'Idle' }));
    w.synced();
    for (let i = 0; i < 5; i++) {
      w.at(i * 2 + 1);
      w.store.applyPool('modified', pool({ 'alpha-0': ['Unhealthy', `e${i}`], 'alpha-1': 'Idle' }));
      w.at(i * 2 + 2);
      w.store.applyPool('modified', pool({ 'alpha-0': 'Idle', 'alpha-1': 'Idle' }));
    }
    expect(w.of('alpha-0').episodes.map((e) => e.reason)).toEqual(['e4', 'e3', 'e2']);
    expect(w.of('alpha-0').dropped).toBe(2);
    // An ongoing episode stays however old it is; ended ones go once past the window.
    w.store.applyPool('modified', pool({ 'alpha-0': 'Idle', 'alpha-1': ['Unhealthy', 'long'] }));
    w.at(9 + 61);
    expect(w.of('alpha-0').episodes.map((e) => e.reason)).toEqual(['e4']);
    w.at(200);
    w.store.applyPool('modified', pool({ 'alpha-0': 'Busy', 'alpha-1': ['Unhealthy', 'long'] }));
    expect(w.of('alpha-0').episodes).toEqual([]);
    expect(w.episodes.size).toBe(1);
    expect(w.of('alpha-1').episodes[0]).toMatchObject({ reason: 'long', end: undefined });
  });

  it('bounds the reason to the first line of the message and 200 characters', () => {
    const w = world();
    w.store.applyPool('added', pool({ 'alpha-0': 'Idle' }));
    w.synced();
    w.store.applyPool('modified', pool({ 'alpha-0': ['Unhealthy', `\n  ${'x'.repeat(500)}\nsecond`] }));
    expect(w.of('alpha-0').episodes[0]!.reason).toHaveLength(200);
  });
});

describe('the device page and JSON', () => {
  it('list the episodes with their durations and say they are this dashboard’s memory since its start', () => {
    let now = T0;
    const store = new FarmStore();
    const insights = new FarmInsights(store, { episodes: { now: () => now } });
    store.applyPool('added', pool({ 'alpha-0': 'Idle' }));
    store.setSync({ synced: true, stale: false, detail: [] });
    now = T0 + 10 * MIN;
    store.applyPool('modified', pool({ 'alpha-0': ['Unhealthy', 'adb offline'] }));
    now = T0 + 13 * MIN;
    store.applyPool('modified', pool({ 'alpha-0': 'Idle' }));
    now = T0 + 20 * MIN;
    store.applyPool('modified', pool({ 'alpha-0': ['Unhealthy', 'boot loop'] }));
    now = T0 + 22 * MIN;
    const h = insights.deviceHistory('ns', 'alpha', 'alpha-0', now);
    const view = deviceHistoryView(h, now).unhealthy;
    expect(view.summary).toBe('2 Unhealthy episodes (one goes on now)');
    expect(view.since?.iso).toBe('2026-12-02T12:00:00Z');
    expect(view.episodes.map((e) => [e.ongoing, e.duration, e.reason, e.endedAs])).toEqual([
      [true, '2m 00s', 'boot loop', ''],
      [false, '3m 00s', 'adb offline', 'then Idle'],
    ]);
    const json = deviceHistoryJSON(h, now).unhealthyEpisodes;
    expect(json.seenSince).toBe('2026-12-02T12:00:00.000Z');
    expect(json.items).toEqual([
      { start: '2026-12-02T12:20:00.000Z', startSeen: true, end: null, ongoing: true, seconds: 120, endedAs: null, reason: 'boot loop' },
      { start: '2026-12-02T12:10:00.000Z', startSeen: true, end: '2026-12-02T12:13:00.000Z', ongoing: false, seconds: 180, endedAs: 'Idle', reason: 'adb offline' },
    ]);
  });
});
