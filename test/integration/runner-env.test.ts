// Runner env values may be secrets: the dashboard shows their names to anyone who can reach
// it, and their values only when started with --show-runner-env. Against the real apiserver.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate } from '../helpers/farm.js';

const SECRET = 'tok-3f9a1c7e-never-shown';

describe('runner env values', () => {
  let namespace: string;
  const apps: FastifyInstance[] = [];
  const start = async (args: string[] = []) => {
    const app = await startDashboard({ namespaces: [namespace], args });
    apps.push(app);
    await waitFor('the session in the store', () => app.farm.store.syncStatus().synced && app.farm.store.getSession(namespace, 'with-secret') !== undefined);
    return app;
  };

  beforeAll(async () => {
    namespace = await freshNamespace('runner-env');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 1);
    await createSession(namespace, 'with-secret', {
      pool: 'alpha',
      runner: { image: 'ghcr.io/droidfarm/espresso-runner:1.8', env: [{ name: 'API_TOKEN', value: SECRET }, { name: 'SUITE', value: 'nightly' }] },
    });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('are hidden by default, in JSON and on the session page, while their names show', async () => {
    const app = await start();
    const res = await app.inject(`/api/v1/sessions/${namespace}/with-secret`);
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain(SECRET);
    expect((res.json() as { spec: { runner: { env: unknown[] } } }).spec.runner.env).toEqual([
      { name: 'API_TOKEN', hidden: true },
      { name: 'SUITE', hidden: true },
    ]);
    const page = await app.inject(`/sessions/${namespace}/with-secret`);
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain(SECRET);
  });

  it('show with --show-runner-env', async () => {
    const app = await start(['--show-runner-env']);
    const env = ((await app.inject(`/api/v1/sessions/${namespace}/with-secret`)).json() as { spec: { runner: { env: unknown[] } } }).spec.runner.env;
    expect(env).toEqual([
      { name: 'API_TOKEN', value: SECRET },
      { name: 'SUITE', value: 'nightly' },
    ]);
  });
});
