// Restart in the embedded demo: the simulator keeps a pod per device (devicePods, as the
// demo runs it), so the dashboard's Restart deletes a real object of the in-memory cluster
// and the device restarts: its session ends as Failed (DeviceRestarted), it boots again, and
// its pod is back. The whole app on the in-memory cluster, the simulator ticked by hand.
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { MemoryCluster } from '../../src/kube/memory-cluster.js';
import { FarmSimulator } from '../../src/sim/simulator.js';
import { waitFor } from '../helpers/cluster.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('Restart in the embedded demo', () => {
  it('deletes the device pod; the simulator restarts the device and ends its session', async () => {
    const cluster = new MemoryCluster({ bookmarkIntervalMs: 0 });
    await cluster.create('templates', 'demo', { metadata: { name: 't' }, spec: { androidVersion: '14', avdProfile: 'pixel_6', emulationBackend: 'cuttlefish' } });
    await cluster.create('pools', 'demo', { metadata: { name: 'smoke' }, spec: { templateRef: { name: 't' }, replicas: 2 } });
    await cluster.create('sessions', 'demo', { metadata: { name: 'hold' }, spec: { poolRef: { name: 'smoke' }, deviceName: 'smoke-1', timeoutSeconds: 3600 } });
    const sim = new FarmSimulator({ cluster, namespace: 'demo', seed: 1, speed: 1, tickMs: 500, warmStart: true, devicePods: true });
    for (let i = 0; i < 8; i++) await sim.tick();
    expect(((await cluster.get('sessions', 'demo', 'hold')).status as { phase: string }).phase).toBe('Running');
    expect((await cluster.list('pods', 'demo')).items.map((p) => p.metadata.name)).toEqual(['smoke-0-cvd', 'smoke-1-cvd']);

    app = await buildApp(loadConfig({ argv: ['--demo', '--log-level', 'silent'], env: {} })!, { cluster });
    await app.ready();
    await waitFor('the app to see the busy device', () => app!.farm.store.getPool('demo', 'smoke')?.devices.find((d) => d.name === 'smoke-1')?.session === 'hold');
    const res = await app.inject({ method: 'POST', url: '/api/v1/pools/demo/smoke/devices/smoke-1/restart', headers: { 'content-type': 'application/json' }, payload: '{"session":"hold"}' });
    expect(res.statusCode, res.body).toBe(202);
    expect((await cluster.list('pods', 'demo')).items.map((p) => p.metadata.name)).toEqual(['smoke-0-cvd']);

    await sim.tick();
    const session = (await cluster.get('sessions', 'demo', 'hold')).status as { phase: string; reason: string };
    expect(session).toMatchObject({ phase: 'Failed', reason: 'DeviceRestarted' });
    const device = ((await cluster.get('pools', 'demo', 'smoke')).status as { devices: Array<{ name: string; state: string; message: string }> }).devices.find((d) => d.name === 'smoke-1');
    expect(device).toMatchObject({ state: 'Booting', message: 'restarting: its pod was deleted' });
    expect((await cluster.list('pods', 'demo')).items.map((p) => p.metadata.name)).toEqual(['smoke-0-cvd', 'smoke-1-cvd']);
    await sim.stop();
  });
});
