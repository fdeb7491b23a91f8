// What scaling a pool takes away: the highest ordinals go first, busy devices among them
// name their sessions; replicas within the CRD's bounds only.
import { describe, expect, it } from 'vitest';
import { deviceOrdinal, nameSessions, parseReplicas, sessionsLostByScaling } from '../../src/farm/pool-scale.js';
import type { DeviceView } from '../../src/farm/types.js';

function device(name: string, state: DeviceView['state'], session = '', podName = name): DeviceView {
  return { name, state, session, podName, nodeName: '', streamURL: '', appiumURL: '', bootStartedAt: undefined, readyAt: undefined, lastHeartbeatAt: undefined, message: '' };
}

describe('scaling a pool', () => {
  it('reads the ordinal from the pod name, else the device name', () => {
    expect(deviceOrdinal(device('a-3', 'Idle'))).toBe(3);
    expect(deviceOrdinal(device('x', 'Idle', '', 'pool-a-12'))).toBe(12);
    expect(deviceOrdinal(device('emulator', 'Idle', '', ''))).toBeUndefined();
  });

  it('names the busy devices at or above the new size, none when scaling to or above them', () => {
    const devices = [device('p-0', 'Busy', 's0'), device('p-1', 'Idle'), device('p-2', 'Busy', 's2'), device('p-3', 'Unhealthy'), device('p-4', 'Busy', 's4')];
    expect(sessionsLostByScaling(devices, 3)).toEqual([{ device: 'p-4', session: 's4' }]);
    expect(sessionsLostByScaling(devices, 1)).toEqual([
      { device: 'p-2', session: 's2' },
      { device: 'p-4', session: 's4' },
    ]);
    expect(sessionsLostByScaling(devices, 0)).toHaveLength(3);
    expect(sessionsLostByScaling(devices, 5)).toEqual([]);
  });

  it('counts a busy device of unknown ordinal as lost only below the busy count', () => {
    const devices = [device('a', 'Busy', 'sa', ''), device('b', 'Busy', 'sb', '')];
    expect(sessionsLostByScaling(devices, 2)).toEqual([]);
    expect(sessionsLostByScaling(devices, 1)).toHaveLength(2);
  });

  it('takes whole numbers from 0 to 500, as JSON numbers or form strings', () => {
    expect(parseReplicas(0)).toEqual({ ok: true, replicas: 0 });
    expect(parseReplicas('500')).toEqual({ ok: true, replicas: 500 });
    for (const bad of [-1, 501, 1.5, '1.5', '', 'ten', null, undefined, [3], Number.NaN]) expect(parseReplicas(bad).ok, String(bad)).toBe(false);
  });

  it('names at most five sessions, then how many more', () => {
    const lost = Array.from({ length: 7 }, (_, i) => ({ device: `d-${i}`, session: `s${i}` }));
    expect(nameSessions(lost.slice(0, 2))).toBe('s0 (on d-0), s1 (on d-1)');
    expect(nameSessions(lost)).toMatch(/s4 \(on d-4\) and 2 more$/);
  });
});
