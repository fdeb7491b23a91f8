// Slim views built by hand for unit tests of pure logic (no cluster involved).
import type { DeviceView } from '../../src/farm/types.js';

/** An Idle device with no heartbeat yet; `patch` sets whatever the test is about. */
export function deviceView(name: string, patch: Partial<DeviceView> = {}): DeviceView {
  return {
    name,
    state: 'Idle',
    podName: `${name}-cvd`,
    nodeName: 'n1',
    streamURL: '',
    appiumURL: '',
    session: '',
    bootStartedAt: undefined,
    readyAt: undefined,
    lastHeartbeatAt: undefined,
    message: '',
    ...patch,
  };
}
