// Scaling a pool and restarting a device through the dashboard, against the real API server
// (kwok runs the device pods): scaling patches spec.replicas and refuses out-of-range
// values; scaling past busy devices names their sessions and needs a confirmation; a stale
// resourceVersion is refused; Restart deletes exactly the device's pod, naming the session it
// ends first; a read-only dashboard refuses both. RBAC refusals: deploy.test.ts.
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, clusterInfo, freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { api, createPool, createTemplate, setDevices } from '../helpers/farm.js';

const POOLS = { group: 'droidfarm.io', version: 'v1alpha1', plural: 'devicepools' };
const core = () => adminKubeConfig().makeApiClient(CoreV1Api);

describe('pool and device writes against the real API server', () => {
  let namespace: string;
  let app: FastifyInstance;
  let readOnly: FastifyInstance;
  const postJson = (url: string, body: unknown = {}) => app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const fromPage = (opts: InjectOptions): InjectOptions => ({ ...opts, headers: { 'hx-request': 'true', 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80', host: 'localhost:80', 'content-type': 'application/x-www-form-urlencoded', ...(opts.headers ?? {}) } });
  const getPool = async (name: string) => (await api().getNamespacedCustomObject({ ...POOLS, namespace, name })) as { metadata: { resourceVersion: string }; spec: { replicas: number } };
  const podState = async (name: string): Promise<'running' | 'deleting' | 'gone'> => {
    try {
      return (await core().readNamespacedPod({ namespace, name })).metadata?.deletionTimestamp ? 'deleting' : 'running';
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return 'gone';
      throw err;
    }
  };
  const createPod = (name: string) =>
    core().createNamespacedPod({ namespace, body: { metadata: { name }, spec: { nodeName: clusterInfo().kwokNode, containers: [{ name: 'device', image: 'example.invalid/cuttlefish:1' }] } } });

  beforeAll(async () => {
    namespace = await freshNamespace('pool-writes');
    await createTemplate(namespace);
    // busy: three devices, two of them running sessions (ordinals 1 and 2).
    await createPool(namespace, 'busy', 3);
    await setDevices(namespace, 'busy', [
      { name: 'busy-0', state: 'Idle', podName: 'busy-0' },
      { name: 'busy-1', state: 'Busy', podName: 'busy-1', session: 'nightly-1' },
      { name: 'busy-2', state: 'Busy', podName: 'busy-2', session: 'nightly-2' },
    ]);
    await createPool(namespace, 'quiet', 1);
    await setDevices(namespace, 'quiet', [{ name: 'quiet-0', state: 'Idle', podName: 'quiet-0' }]);
    await createPool(namespace, 'devs', 3);
    await setDevices(namespace, 'devs', [
      { name: 'devs-0', state: 'Idle', podName: 'devs-0' },
      { name: 'devs-1', state: 'Busy', podName: 'devs-1', session: 'manual-7' },
      { name: 'devs-2', state: 'Booting' },
    ]);
    await Promise.all(['devs-0', 'devs-1'].map(createPod));
    [app, readOnly] = await Promise.all([startDashboard({ namespaces: [namespace] }), startDashboard({ namespaces: [namespace], args: ['--read-only'] })]);
    await waitFor('both dashboards synced', () => [app, readOnly].every((a) => a.farm.store.syncStatus().synced && a.farm.store.getPool(namespace, 'devs')?.devices.length === 3));
  });
  afterAll(async () => {
    await Promise.all([app?.close(), readOnly?.close()]);
  });

  it('scales a pool through JSON: spec.replicas changes and comes back through the watch', async () => {
    const res = await postJson(`/api/v1/pools/${namespace}/quiet/scale`, { replicas: 4 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ namespace, name: 'quiet', previous: 1, replicas: 4, changed: true });
    expect((await getPool('quiet')).spec.replicas).toBe(4);
    await waitFor('the store to see 4 replicas', () => app.farm.store.getPool(namespace, 'quiet')?.replicas === 4);
    const same = await postJson(`/api/v1/pools/${namespace}/quiet/scale`, { replicas: 4 });
    expect(same.json()).toMatchObject({ changed: false, replicas: 4 });
  });

  it('refuses replicas out of the CRD bounds (0…500) with 422 DF_ERR_INVALID, and changes nothing', async () => {
    for (const replicas of [-1, 501, 2.5, 'many', null, undefined]) {
      const res = await postJson(`/api/v1/pools/${namespace}/quiet/scale`, replicas === undefined ? {} : { replicas });
      expect(res.statusCode, String(replicas)).toBe(422);
      const body = res.json() as { error: { code: string; message: string; fields: Array<{ field: string }> } };
      expect(body.error.code).toBe('DF_ERR_INVALID');
      expect(body.error.fields.map((f) => f.field)).toEqual(['replicas']);
      expect(body.error.message).toMatch(/replicas .*0 .*500/);
    }
    expect((await getPool('quiet')).spec.replicas).toBe(4);
    expect((await postJson(`/api/v1/pools/${namespace}/nope/scale`, { replicas: 1 })).json()).toMatchObject({ error: { code: 'DF_ERR_NOT_FOUND' } });
  });

  it('names the sessions that would lose their device, and scales only when confirmed', async () => {
    const res = await postJson(`/api/v1/pools/${namespace}/busy/scale`, { replicas: 1 });
    expect(res.statusCode).toBe(409);
    const body = res.json() as { error: { code: string; message: string; sessions: unknown[] } };
    expect(body.error.code).toBe('DF_ERR_CONFIRM_REQUIRED');
    expect(body.error.message).toContain('nightly-1 (on busy-1), nightly-2 (on busy-2)');
    expect(body.error.sessions).toEqual([
      { device: 'busy-1', session: 'nightly-1' },
      { device: 'busy-2', session: 'nightly-2' },
    ]);
    expect((await getPool('busy')).spec.replicas).toBe(3);
    // Scaling to 2 takes only busy-2.
    const two = await postJson(`/api/v1/pools/${namespace}/busy/scale`, { replicas: 2 });
    expect(two.json()).toMatchObject({ error: { sessions: [{ device: 'busy-2', session: 'nightly-2' }] } });
    const confirmed = await postJson(`/api/v1/pools/${namespace}/busy/scale`, { replicas: 1, confirm: true });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect((await getPool('busy')).spec.replicas).toBe(1);
    // Scaling up never needs a confirmation.
    expect((await postJson(`/api/v1/pools/${namespace}/busy/scale`, { replicas: 3 })).statusCode).toBe(200);
  });

  it('patches only the resourceVersion it was given: a stale one is a 409 that changes nothing', async () => {
    const before = await getPool('quiet');
    // The operator writes status meanwhile: the pool's resourceVersion moves on.
    await setDevices(namespace, 'quiet', [{ name: 'quiet-0', state: 'Busy', podName: 'quiet-0', session: 'late' }]);
    const stale = await postJson(`/api/v1/pools/${namespace}/quiet/scale`, { replicas: 2, resourceVersion: before.metadata.resourceVersion });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ error: { code: 'DF_ERR_KUBE_CONFLICT' } });
    expect((await getPool('quiet')).spec.replicas).toBe(4);
    const current = await getPool('quiet');
    const ok = await postJson(`/api/v1/pools/${namespace}/quiet/scale`, { replicas: 2, resourceVersion: current.metadata.resourceVersion });
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await getPool('quiet')).spec.replicas).toBe(2);
  });

  it('scales from the pool page: the answer beside the form, a confirmation naming sessions, 422 said there too', async () => {
    const page = await app.inject(`/pools/${namespace}/busy`);
    expect(page.body).toContain('id="pool-scale"');
    expect(page.body).toMatch(/id="pool-replicas" name="replicas" type="number" inputmode="numeric" min="0" max="500"/);
    const ask = await app.inject(fromPage({ method: 'POST', url: `/pools/${namespace}/busy/scale`, payload: 'replicas=0' }));
    expect(ask.statusCode).toBe(200);
    expect(ask.body).toContain('data-scale-confirm');
    expect(ask.body).toContain('nightly-1');
    expect(ask.body).toContain('Scale to 0 anyway');
    expect((await getPool('busy')).spec.replicas).toBe(3);
    const bad = await app.inject(fromPage({ method: 'POST', url: `/pools/${namespace}/busy/scale`, payload: 'replicas=900' }));
    expect(bad.statusCode).toBe(422);
    expect(bad.headers['hx-retarget']).toBeUndefined();
    expect(bad.body).toContain('DF_ERR_INVALID');
    const up = await app.inject(fromPage({ method: 'POST', url: `/pools/${namespace}/busy/scale`, payload: 'replicas=5' }));
    expect(up.statusCode).toBe(200);
    expect(up.body).toContain('Scaling busy from 3 to 5 devices');
    expect((await getPool('busy')).spec.replicas).toBe(5);
  });

  it('restarts a device by deleting exactly its pod, after a confirmation naming its session', async () => {
    const page = await app.inject(`/pools/${namespace}/devs/devices/devs-1`);
    expect(page.body).toContain('id="device-restart"');
    expect(page.body).toContain('data-confirm="Restart device devs-1? Its pod devs-1 is deleted and the pool recreates it. Session manual-7 on it ends."');
    const unconfirmed = await postJson(`/api/v1/pools/${namespace}/devs/devices/devs-1/restart`);
    expect(unconfirmed.statusCode).toBe(409);
    expect(unconfirmed.json()).toMatchObject({ error: { code: 'DF_ERR_CONFIRM_REQUIRED', sessions: [{ device: 'devs-1', session: 'manual-7' }] } });
    const wrong = await postJson(`/api/v1/pools/${namespace}/devs/devices/devs-1/restart`, { session: 'manual-6' });
    expect(wrong.statusCode).toBe(409);
    expect(wrong.json().error.message).toContain('the confirmation named manual-6');
    expect(await podState('devs-1')).toBe('running');

    const res = await app.inject(fromPage({ method: 'POST', url: `/pools/${namespace}/devs/devices/devs-1/restart`, payload: 'session=manual-7' }));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain('Restarting devs-1: its pod devs-1 was deleted');
    expect(res.body).toContain('Session manual-7 ends.');
    expect(await podState('devs-1')).not.toBe('running');
    expect(await podState('devs-0')).toBe('running');

    // An idle device needs no session named; a device without a pod has nothing to restart.
    const idle = await postJson(`/api/v1/pools/${namespace}/devs/devices/devs-0/restart`);
    expect(idle.statusCode, idle.body).toBe(202);
    expect(idle.json()).toMatchObject({ status: 'restarting', pod: 'devs-0', session: '' });
    await waitFor('devs-0 deleted', async () => (await podState('devs-0')) !== 'running');
    const booting = await postJson(`/api/v1/pools/${namespace}/devs/devices/devs-2/restart`);
    expect(booting.statusCode).toBe(409);
    expect(booting.json()).toMatchObject({ error: { code: 'DF_ERR_NO_DEVICE_POD' } });
    expect((await postJson(`/api/v1/pools/${namespace}/devs/devices/devs-9/restart`)).statusCode).toBe(404);
  });

  it('a read-only dashboard refuses both and marks their controls as write actions', async () => {
    const scale = await readOnly.inject({ method: 'POST', url: `/api/v1/pools/${namespace}/quiet/scale`, headers: { 'content-type': 'application/json' }, payload: '{"replicas":3}' });
    expect(scale.statusCode).toBe(403);
    expect(scale.json()).toMatchObject({ error: { code: 'DF_ERR_READ_ONLY' } });
    const restart = await readOnly.inject({ method: 'POST', url: `/api/v1/pools/${namespace}/devs/devices/devs-0/restart` });
    expect(restart.json()).toMatchObject({ error: { code: 'DF_ERR_READ_ONLY' } });
    const page = await readOnly.inject(`/pools/${namespace}/quiet`);
    expect(page.body).toContain('data-read-only');
    expect(page.body).toMatch(/<form id="pool-scale" class="write-action/);
    const device = await readOnly.inject(`/pools/${namespace}/devs/devices/devs-0`);
    expect(device.body).toMatch(/class="[^"]*write-action[^"]*" role="group" aria-label="Device actions"/);
    expect((await getPool('quiet')).spec.replicas).toBe(2);
  });
});
