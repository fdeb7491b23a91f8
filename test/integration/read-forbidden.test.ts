// Issue 9 point 5: with read rights missing, every page and /api say which verb on which
// resource in which namespace is forbidden (403 DF_ERR_KUBE_FORBIDDEN), instead of
// "Waiting for the first data…" forever or a pool that "does not exist"; and once the
// right is granted, the pages come back by themselves and "not found" means not found.
// The dashboard runs as the token user "alice", with a Role in this file's namespace that
// grants every read but one (list/watch testsessions); production retry schedule.
import { CustomObjectsApi, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, freshNamespace, kubeConfigFor, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createExamplePools, examplePoolNames } from '../helpers/examples.js';

const rbac = () => adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);

const READS = [
  { apiGroups: ['droidfarm.io'], resources: ['devicetemplates', 'devicepools'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
];
const SESSION_READS = { apiGroups: ['droidfarm.io'], resources: ['testsessions'], verbs: ['get', 'list', 'watch'] };

describe('a dashboard that may not read testsessions in its namespace', () => {
  let namespace: string;
  let pool: string;
  let app: FastifyInstance | undefined;
  let expected: string;

  beforeAll(async () => {
    namespace = await freshNamespace('read-forbidden');
    await createExamplePools(namespace);
    pool = examplePoolNames()[0]!;
    await rbac().createNamespacedRole({ namespace, body: { metadata: { name: 'reader' }, rules: READS } });
    await rbac().createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
        subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' }],
      },
    });
    // RBAC takes effect a moment after it is written: wait until alice can list pools here.
    const asAlice = kubeConfigFor('alice').makeApiClient(CustomObjectsApi);
    await waitFor('alice may list devicepools', async () => {
      await asAlice.listNamespacedCustomObject({ group: 'droidfarm.io', version: 'v1alpha1', namespace, plural: 'devicepools' });
      return true;
    });
    app = await startDashboard({ namespaces: [namespace], user: 'alice' });
    expected = `The dashboard may not list testsessions in ${namespace}: grant its Kubernetes identity list and watch on testsessions.droidfarm.io in ${namespace}`;
    await waitFor('the sessions informer to report the 403', () => (app!.farm.store.syncStatus().forbidden ?? []).length > 0);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers every page with 403 naming the verb, resource and namespace, never "waiting" or "does not exist"', async () => {
    const pages = ['/', '/pools', `/pools/${namespace}/${pool}`, `/pools/${namespace}/no-such-pool`, '/sessions', `/sessions/${namespace}/some-session`, '/sessions/new'];
    for (const url of pages) {
      const res = await app!.inject(url);
      expect(res.statusCode, url).toBe(403);
      expect(res.headers['content-type'], url).toContain('text/html');
      expect(res.body, url).toContain('DF_ERR_KUBE_FORBIDDEN');
      expect(res.body, url).toContain(expected);
      expect(res.body, url).not.toContain('Waiting for the first data');
      expect(res.body, url).not.toContain('does not exist');
      expect(res.body, url).not.toContain('was not found');
    }
    // The badge says so too (the error page has the layout's badge).
    const farm = await app!.inject('/');
    expect(farm.body).toMatch(/id="live-badge" data-state="forbidden"/);
  });

  it('answers every /api/v1 read and write with 403 DF_ERR_KUBE_FORBIDDEN and the same message, not 503 forever', async () => {
    const requests = [
      { method: 'GET' as const, url: '/api/v1/pools' },
      { method: 'GET' as const, url: `/api/v1/pools/${namespace}/${pool}` },
      { method: 'GET' as const, url: `/api/v1/pools/${namespace}/${pool}/devices` },
      { method: 'GET' as const, url: `/api/v1/templates?namespace=${namespace}` },
      { method: 'GET' as const, url: '/api/v1/sessions' },
      { method: 'GET' as const, url: `/api/v1/sessions/${namespace}/some-session` },
    ];
    for (const r of requests) {
      const res = await app!.inject({ ...r, headers: { accept: 'application/json' } });
      expect(res.statusCode, r.url).toBe(403);
      const { error } = res.json() as { error: { code: string; message: string } };
      expect(error.code, r.url).toBe('DF_ERR_KUBE_FORBIDDEN');
      expect(error.message, r.url).toContain(expected);
    }
    // Probes stay what they are: alive, and not ready with the reason.
    expect((await app!.inject('/healthz')).statusCode).toBe(200);
    expect((await app!.inject('/readyz')).statusCode).toBe(503);
  });

  it('serves the pages again once the read is granted, and "not found" then means not found', async () => {
    await rbac().createNamespacedRole({ namespace, body: { metadata: { name: 'session-reader' }, rules: [SESSION_READS] } });
    await rbac().createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'session-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'session-reader' },
        subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' }],
      },
    });
    // The informer retries at most 1 s apart for its first 30 s, then 2, 4, … 30 s.
    await waitFor('the pool page to load', async () => (await app!.inject(`/pools/${namespace}/${pool}`)).statusCode === 200, { timeoutMs: 60_000 });
    expect(app!.farm.store.syncStatus().forbidden).toBeUndefined();
    const missing = await app!.inject(`/pools/${namespace}/no-such-pool`);
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('DF_ERR_NOT_FOUND');
    const api = await app!.inject({ url: `/api/v1/pools/${namespace}/${pool}`, headers: { accept: 'application/json' } });
    expect(api.statusCode).toBe(200);
  }, 90_000);
});
