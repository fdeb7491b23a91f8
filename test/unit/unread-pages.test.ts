// Pages about objects the dashboard has not read say so: before the first list they wait
// ("Waiting for the first data…"), with a refused read they answer 403 naming it, and only
// once everything is listed does a missing pool read "does not exist" / 404. The whole app,
// built on the in-memory cluster with the faults of a real one (test/helpers/faulty-cluster.ts).
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { waitFor } from '../helpers/cluster.js';
import { FaultyCluster } from '../helpers/faulty-cluster.js';

const MISSING_WORDS = ['does not exist', 'No such pool', 'no longer part of the pool', 'was not found', '(not found)'];
let app: FastifyInstance | undefined;

async function start(cluster: FaultyCluster): Promise<FastifyInstance> {
  const config = loadConfig({ argv: ['--demo', '--log-level', 'silent'], env: {} })!;
  app = await buildApp(config, { cluster });
  await app.ready();
  return app;
}

afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('pages about what the dashboard has not read', () => {
  it('wait, rather than claim a pool or device does not exist, while the cluster is unreachable', async () => {
    const cluster = new FaultyCluster();
    cluster.down = true;
    const dashboard = await start(cluster);
    await waitFor('a failed first list', () => dashboard.farm.sync.statuses().every((s) => s.restarts > 0));
    for (const url of ['/pools/farm/smoke', '/pools/farm/smoke/devices/smoke-0']) {
      const res = await dashboard.inject(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toContain('Waiting for the first data from the cluster');
      for (const words of MISSING_WORDS) expect(res.body, `${url}: ${words}`).not.toContain(words);
    }
    const api = await dashboard.inject('/api/v1/pools/farm/smoke');
    expect(api.statusCode).toBe(503);
    expect(api.json()).toMatchObject({ error: { code: 'DF_ERR_NOT_SYNCED' } });
  });

  it('answer 403 naming each refused read when the cluster refuses them, and 404 once readable', async () => {
    const cluster = new FaultyCluster();
    cluster.forbidden = true;
    const dashboard = await start(cluster);
    await waitFor('every read refused', () => (dashboard.farm.store.syncStatus().forbidden ?? []).length === 4);
    const res = await dashboard.inject('/pools/farm/smoke');
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain(
      'The dashboard may not list devicetemplates in all namespaces, list devicepools in all namespaces, list testsessions in all namespaces and list events in all namespaces: ' +
        'grant its Kubernetes identity list and watch on devicetemplates.droidfarm.io cluster-wide, devicepools.droidfarm.io cluster-wide, testsessions.droidfarm.io cluster-wide and events cluster-wide',
    );
    for (const words of MISSING_WORDS) expect(res.body, words).not.toContain(words);

    cluster.forbidden = false;
    await waitFor('the first list', () => dashboard.farm.store.syncStatus().synced, { timeoutMs: 5_000 });
    const missing = await dashboard.inject('/pools/farm/smoke');
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('DF_ERR_NOT_FOUND');
  });
});
