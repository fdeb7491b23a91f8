import { describe, expect, it } from 'vitest';
import { countDevices, diffDevices, isHeartbeatStale, staleHeartbeatCount, summariseDevices } from '../../src/farm/devices.js';
import type { DeviceView } from '../../src/farm/types.js';
import { deviceView } from '../helpers/views.js';

const device = (name: string, patch: Partial<DeviceView> = {}): DeviceView => deviceView(name, { lastHeartbeatAt: 1000, ...patch });

describe('diffDevices', () => {
  it('reports exactly the one device whose state changed', () => {
    const before = [device('a'), device('b'), device('c')];
    const after = [device('a'), device('b', { state: 'Busy', session: 's1' }), device('c')];
    const diffs = diffDevices(before, after);
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toMatchObject({ type: 'modified', device: { name: 'b', state: 'Busy' }, old: { state: 'Idle' } });
  });

  it('reports added and removed devices', () => {
    const diffs = diffDevices([device('a'), device('b')], [device('b'), device('c')]);
    expect(diffs.map((d) => `${d.type}:${d.device.name}`).sort()).toEqual(['added:c', 'removed:a']);
  });

  it('reports nothing for an identical list, nor for a heartbeat alone', () => {
    expect(diffDevices([device('a')], [device('a')])).toEqual([]);
    expect(diffDevices([device('a')], [device('a', { lastHeartbeatAt: 99_000 })])).toEqual([]);
  });
});

describe('countDevices', () => {
  it('counts every state', () => {
    const counts = countDevices([device('a'), device('b', { state: 'Busy' }), device('c', { state: 'Busy' }), device('d', { state: 'Unhealthy' })]);
    expect(counts).toEqual({ Booting: 0, Idle: 1, Busy: 2, Unhealthy: 1 });
  });
});

describe('isHeartbeatStale', () => {
  it('flags a device silent for longer than the threshold, but never a booting one', () => {
    expect(isHeartbeatStale(device('a', { lastHeartbeatAt: 0 }), 91_000)).toBe(true);
    expect(isHeartbeatStale(device('a', { lastHeartbeatAt: 0 }), 89_000)).toBe(false);
    expect(isHeartbeatStale(device('a', { lastHeartbeatAt: 0, state: 'Booting' }), 500_000)).toBe(false);
    expect(isHeartbeatStale(device('a', { lastHeartbeatAt: undefined }), 500_000)).toBe(false);
  });
});

describe('summariseDevices and staleHeartbeatCount', () => {
  const pool = [
    device('a', { lastHeartbeatAt: 5_000 }),
    device('b', { state: 'Unhealthy', message: 'adb offline', lastHeartbeatAt: 1_000 }),
    device('c', { state: 'Booting', lastHeartbeatAt: 0 }),
    device('d', { state: 'Busy', lastHeartbeatAt: undefined }),
    device('e', { state: 'Unhealthy', lastHeartbeatAt: 3_000 }),
  ];

  it('counts as countDevices does and keeps the Unhealthy devices in order', () => {
    const s = summariseDevices(pool);
    expect(s.counts).toEqual(countDevices(pool));
    expect(s.unhealthy.map((d) => d.name)).toEqual(['b', 'e']);
    expect(summariseDevices(pool)).toBe(s); // once per device list
  });

  it('counts stale heartbeats exactly as isHeartbeatStale does, at every moment around the thresholds', () => {
    const s = summariseDevices(pool);
    for (let now = 80_000; now <= 100_000; now += 500) {
      expect(staleHeartbeatCount(s, now), `at ${now}`).toBe(pool.filter((d) => isHeartbeatStale(d, now)).length);
    }
    for (const now of [91_000, 91_001, 93_000, 93_001, 95_000, 95_001]) {
      expect(staleHeartbeatCount(s, now), `at ${now}`).toBe(pool.filter((d) => isHeartbeatStale(d, now)).length);
    }
  });
});
