// "View YAML" against the real API server: the pool, one device (its pool entry) and a
// session as the apiserver holds them now, managedFields left out; read on demand (a change
// made a moment ago shows without any watch), as text for curl and as the tab's body for
// htmx; a missing object is a coded 404 said inside the tab.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate, devices, scalePool, setDevices } from '../helpers/farm.js';

describe('the YAML tab against the real API server', () => {
  let namespace: string;
  let app: FastifyInstance;
  const htmx = { 'hx-request': 'true' };

  beforeAll(async () => {
    namespace = await freshNamespace('yaml');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 2, 'pixel-6', { team: 'qa' });
    await setDevices(namespace, 'alpha', devices('alpha', 2));
    await createSession(namespace, 'run-1', { pool: 'alpha', labels: { build: '42' } });
    app = await startDashboard({ namespaces: [namespace] });
    await waitFor('the dashboard synced', () => app.farm.store.syncStatus().synced && app.farm.store.getSession(namespace, 'run-1') !== undefined);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('serves the pool as YAML, without managedFields, read from the apiserver on each request', async () => {
    const res = await app.inject(`/pools/${namespace}/alpha/yaml`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/yaml/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatch(/^apiVersion: "droidfarm.io\/v1alpha1"\nkind: "DevicePool"\nmetadata:\n/);
    expect(res.body).toContain('  name: "alpha"');
    expect(res.body).toContain('    team: "qa"');
    expect(res.body).toContain('  replicas: 2');
    expect(res.body).toMatch(/\n  uid: "[0-9a-f-]+"\n/);
    expect(res.body).not.toContain('managedFields');
    // The store keeps no raw object; each request reads the apiserver anew.
    await scalePool(namespace, 'alpha', 3);
    const after = await app.inject(`/pools/${namespace}/alpha/yaml`);
    expect(after.body).toContain('  replicas: 3');
  });

  it('serves a device as its entry of status.devices', async () => {
    const res = await app.inject(`/pools/${namespace}/alpha/devices/alpha-1/yaml`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/^# DevicePool [a-z0-9-]+\/alpha, status\.devices\[1\] \(resourceVersion \d+\)\nname: "alpha-1"\nstate: "Idle"\n$/);
  });

  it('gives htmx the tab body with Copy and Reload, and the session page offers the tab', async () => {
    const res = await app.inject({ url: `/sessions/${namespace}/run-1/yaml`, headers: htmx });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('id="object-yaml"');
    expect(res.body).toContain('data-copy="#object-yaml"');
    expect(res.body).toContain('kind: &quot;TestSession&quot;');
    expect(res.body).toContain('build: &quot;42&quot;');
    expect(res.body).not.toContain('managedFields');
    const page = await app.inject(`/sessions/${namespace}/run-1`);
    expect(page.body).toContain(`hx-get="/sessions/${namespace}/run-1/yaml"`);
    expect((await app.inject(`/pools/${namespace}/alpha`)).body).toContain(`hx-get="/pools/${namespace}/alpha/yaml"`);
    expect((await app.inject(`/pools/${namespace}/alpha/devices/alpha-0`)).body).toContain(`hx-get="/pools/${namespace}/alpha/devices/alpha-0/yaml"`);
  });

  it('says a missing object inside the tab with a code, and as coded JSON to scripts', async () => {
    const tab = await app.inject({ url: `/sessions/${namespace}/nope/yaml`, headers: htmx });
    expect(tab.statusCode).toBe(404);
    expect(tab.body).toContain('TestSession');
    expect(tab.body).toContain('DF_ERR_NOT_FOUND');
    const device = await app.inject({ url: `/pools/${namespace}/alpha/devices/alpha-9/yaml`, headers: { accept: 'application/json' } });
    expect(device.statusCode).toBe(404);
    expect(device.json()).toMatchObject({ error: { code: 'DF_ERR_NOT_FOUND' } });
  });
});
