// Leases against the real API server, with the farm simulator playing the operator tick by
// tick: a lease by device name waits for that device and gets it (not the idle device the
// operator would pick first), a second lease on the same device waits behind it, Extend
// raises its timeout, Release ends it and the waiting lease gets the device; "any idle
// device" gets another one; the device page and the grid show who holds the device and
// why; what makes no sense is refused with a code.
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeCluster, loadKubeConfig } from '../../src/kube/kube-cluster.js';
import { FarmSimulator } from '../../src/sim/simulator.js';
import { clusterInfo, freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { api, createPool, createSession, createTemplate } from '../helpers/farm.js';

const SESSIONS = { group: 'droidfarm.io', version: 'v1alpha1', plural: 'testsessions' };
type Obj = { metadata: { name: string; annotations?: Record<string, string> }; spec: Record<string, unknown>; status?: { phase?: string; message?: string; device?: { name: string } } };

describe('leases against the real API server, the simulator as operator', () => {
  let namespace: string;
  let app: FastifyInstance;
  let cluster: KubeCluster;
  let sim: FarmSimulator;
  const get = async (name: string) => (await api().getNamespacedCustomObject({ ...SESSIONS, namespace, name })) as Obj;
  const postJson = (url: string, body: unknown) => app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const fromPage = (url: string, form: Record<string, string>): InjectOptions => ({
    method: 'POST',
    url,
    payload: new URLSearchParams(form).toString(),
    headers: { 'hx-request': 'true', 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80', host: 'localhost:80', 'content-type': 'application/x-www-form-urlencoded' },
  });
  /**
   * The dashboard's writes so far, announced to the simulator: it reads through a watch,
   * which may be a moment behind, and a tick waits until the watch has brought these.
   */
  async function announceWrites(): Promise<void> {
    for (const s of (await cluster.list('sessions', namespace)).items) sim.expectWrite('sessions', s);
  }
  /** Ticks the simulator until `done` holds (at most 40 ticks: 20 simulated seconds). */
  async function tickUntil(what: string, done: () => Promise<boolean>): Promise<void> {
    await announceWrites();
    for (let i = 0; i < 40; i++) {
      await sim.tick();
      if (await done()) return;
    }
    throw new Error(`not within 40 ticks: ${what}`);
  }

  beforeAll(async () => {
    namespace = await freshNamespace('leases');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 2);
    cluster = new KubeCluster(loadKubeConfig({ kubeconfig: clusterInfo().adminKubeconfig }));
    sim = new FarmSimulator({ cluster, namespace, seed: 7, speed: 1, tickMs: 500, warmStart: true });
    await sim.tick();
    app = await startDashboard({ namespaces: [namespace] });
    await waitFor('the dashboard synced and sees two idle devices', () => app.farm.store.syncStatus().synced && app.farm.store.getPool(namespace, 'alpha')?.devices.filter((d) => d.state === 'Idle').length === 2);
  });
  afterAll(async () => {
    await sim?.stop();
    await app?.close();
    await cluster?.close();
  });

  it('a lease by device name gets that device; a second one waits; Extend and Release; then the second gets it', async () => {
    const first = await postJson(`/api/v1/pools/${namespace}/alpha/devices/alpha-1/lease`, { minutes: 30, holder: 'ana', reason: 'reproduce the checkout crash' });
    expect(first.statusCode, first.body).toBe(201);
    const lease = first.json() as { name: string; spec: { deviceName: string; timeoutSeconds: number; runner: unknown }; lease: { holder: string; reason: string } };
    expect(lease).toMatchObject({ spec: { deviceName: 'alpha-1', timeoutSeconds: 1800, runner: null }, lease: { holder: 'ana', reason: 'reproduce the checkout crash' } });
    // alpha-0 is idle too, and would be the operator's first pick: the lease gets alpha-1.
    await tickUntil('the lease to hold alpha-1', async () => (await get(lease.name)).status?.phase === 'Running');
    expect((await get(lease.name)).status?.device?.name).toBe('alpha-1');

    const second = await postJson(`/api/v1/pools/${namespace}/alpha/devices/alpha-1/lease`, { minutes: 15, holder: 'bo', reason: 'check the fix' });
    const waiting = (second.json() as { name: string }).name;
    await announceWrites();
    for (let i = 0; i < 6; i++) await sim.tick();
    expect((await get(waiting)).status).toMatchObject({ phase: 'Pending', message: 'Waiting for device alpha-1 to be idle.' });

    // The device page and the grid say who holds it and why, and who waits.
    await waitFor('the store to see both', () => app.farm.store.getSession(namespace, waiting)?.message === 'Waiting for device alpha-1 to be idle.' && app.farm.store.getSession(namespace, lease.name)?.phase === 'Running');
    const page = await app.inject(`/pools/${namespace}/alpha/devices/alpha-1`);
    expect(page.body).toContain(`data-lease="${lease.name}"`);
    expect(page.body).toContain('<span data-lease-holder>ana</span>');
    expect(page.body).toContain('reproduce the checkout crash');
    expect(page.body).toMatch(new RegExp(`data-lease-waiting>[\\s\\S]*${waiting}</a> by bo: check the fix`));
    expect(page.body).toContain('&quot;appium:deviceName&quot;: &quot;alpha-1&quot;');
    const grid = await app.inject(`/pools/${namespace}/alpha`);
    expect(grid.body).toMatch(/<span class="tile-lease" title="Leased by ana">lease · ana<\/span>/);

    const extended = await postJson(`/api/v1/sessions/${namespace}/${lease.name}/extend`, {});
    expect(extended.statusCode, extended.body).toBe(200);
    expect((await get(lease.name)).spec.timeoutSeconds).toBe(3600);

    const release = await app.inject(fromPage(`/pools/${namespace}/alpha/devices/alpha-1/lease/release`, { session: lease.name }));
    expect(release.statusCode, release.body).toBe(200);
    expect(release.body).toContain(`Release requested for ${lease.name}`);
    await tickUntil('the first lease to end and the second to hold alpha-1', async () => (await get(lease.name)).status?.phase === 'Cancelled' && (await get(waiting)).status?.phase === 'Running');
    expect((await get(waiting)).status?.device?.name).toBe('alpha-1');
  });

  it('"Use any idle device" from the pool page gets the idle one; leases that make no sense are refused', async () => {
    const res = await app.inject(fromPage(`/pools/${namespace}/alpha/lease`, { minutes: '60', holder: 'cy', reason: 'exploratory test', requestId: 'aaaabbbbccccdddd1111' }));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain('id="lease-request-id"');
    const again = await app.inject(fromPage(`/pools/${namespace}/alpha/lease`, { minutes: '60', holder: 'cy', reason: 'exploratory test', requestId: 'aaaabbbbccccdddd1111' }));
    expect(again.body).toContain('Already requested');
    const made = ((await api().listNamespacedCustomObject({ ...SESSIONS, namespace })) as { items: Obj[] }).items.filter((s) => s.metadata.annotations?.['droidfarm.io/request-id'] === 'aaaabbbbccccdddd1111');
    expect(made).toHaveLength(1);
    expect(made[0]!.spec).toEqual({ poolRef: { name: 'alpha' }, timeoutSeconds: 3600, cancelRequested: false });
    await tickUntil('the pool lease to hold alpha-0', async () => (await get(made[0]!.metadata.name)).status?.phase === 'Running');
    expect((await get(made[0]!.metadata.name)).status?.device?.name).toBe('alpha-0');

    const bad = await postJson(`/api/v1/pools/${namespace}/alpha/devices/alpha-1/lease`, { minutes: 0 });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['holder', 'minutes', 'reason']);
    expect((await postJson(`/api/v1/pools/${namespace}/alpha/devices/alpha-9/lease`, { holder: 'x', reason: 'y' })).statusCode).toBe(404);
    const badPage = await app.inject(fromPage(`/pools/${namespace}/alpha/devices/alpha-1/lease`, { minutes: '30', holder: '', reason: '' }));
    expect(badPage.statusCode).toBe(422);
    expect(badPage.body).toContain('holder: say who holds the device');

    await createSession(namespace, 'tests-run', { pool: 'alpha', runner: { image: 'example.invalid/runner:1' } });
    await waitFor('the store to see tests-run', () => app.farm.store.getSession(namespace, 'tests-run'));
    expect((await postJson(`/api/v1/sessions/${namespace}/tests-run/extend`, {})).json()).toMatchObject({ error: { code: 'DF_ERR_NOT_A_LEASE' } });
    // A session for a device the pool does not have would wait forever: refused.
    const nowhere = await postJson('/api/v1/sessions', { namespace, pool: 'alpha', deviceName: 'alpha-7' });
    expect(nowhere.statusCode).toBe(422);
    expect(nowhere.json().error.fields).toEqual([expect.objectContaining({ field: 'deviceName' })]);
  });
});
