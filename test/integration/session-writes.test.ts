// Creating, stopping, retrying and deleting TestSessions through the dashboard, against the
// real API server: what lands in the apiserver is exactly what was asked, bad and hostile
// input creates nothing and says why, writes from other sites are refused, and RBAC
// refusals reach the person as a clear 403.
import { CustomObjectsApi, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate, devices, setDevices, setSessionStatus } from '../helpers/farm.js';

const GROUP = { group: 'droidfarm.io', version: 'v1alpha1', plural: 'testsessions' };
type Obj = { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> };

const VALID = {
  pool: 'alpha',
  timeoutSeconds: 900,
  apps: [{ packageName: 'com.example.shop', apkURL: 'https://artifacts.example.com/shop.apk' }],
  runner: { image: 'registry.example.com/qa/shop-e2e:2.15', command: ['run-suite'], args: ['--suite', 'smoke'], env: [{ name: 'RETRIES', value: '1' }] },
  labels: { team: 'payments' },
};

describe('session writes against the real API server', () => {
  let namespace: string;
  let app: FastifyInstance;
  const api = () => adminKubeConfig().makeApiClient(CustomObjectsApi);
  const listSessions = async () => ((await api().listNamespacedCustomObject({ ...GROUP, namespace })) as { items: Obj[] }).items;
  const getSession = async (name: string) => (await api().getNamespacedCustomObject({ ...GROUP, namespace, name })) as Obj;
  const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
  const fromPage = (opts: InjectOptions): InjectOptions => ({ ...opts, headers: { 'hx-request': 'true', 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80', host: 'localhost:80', ...(opts.headers ?? {}) } });

  beforeAll(async () => {
    namespace = await freshNamespace('writes');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 2);
    await setDevices(namespace, 'alpha', devices('alpha', 2));
    app = await startDashboard({ namespaces: [namespace] });
    // Every watch listed (the API answers 503 until then), the pool among what it read.
    await waitFor('the dashboard synced with the pool', () => app.farm.store.syncStatus().synced && app.farm.store.getPool(namespace, 'alpha') !== undefined);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('creates through JSON exactly what was asked, and answers 201 with the session', async () => {
    const res = await postJson('/api/v1/sessions', { ...VALID, namespace, name: 'json-made' });
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/sessions/${namespace}/json-made`);
    expect(res.json()).toMatchObject({ name: 'json-made', pool: 'alpha', phase: 'Pending', labels: { team: 'payments' } });
    const stored = await getSession('json-made');
    expect(stored.spec).toEqual({ poolRef: { name: 'alpha' }, timeoutSeconds: 900, apps: VALID.apps, runner: VALID.runner, cancelRequested: false });
    expect(stored.metadata.labels).toEqual({ team: 'payments' });
  });

  it('creates through the form, lands on the session page, and a double submit creates one session', async () => {
    const form = new URLSearchParams({
      requestId: 'a1b2c3d4e5f6a7b8c9d0',
      namespace,
      pool: 'alpha',
      name: '',
      timeoutMinutes: '20',
      apps: 'com.example.shop https://artifacts.example.com/shop.apk\ncom.example.bank https://artifacts.example.com/bank.apk',
      runnerImage: 'registry.example.com/qa/e2e:1',
      runnerCommand: '',
      runnerArgs: '--suite\nsmoke',
      runnerEnv: 'A=1\nB=two words',
      labels: 'team=search',
    }).toString();
    const post = () => app.inject(fromPage({ method: 'POST', url: '/sessions', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form }));
    const [first, second] = await Promise.all([post(), post()]);
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(first.headers['hx-redirect']).toBe(second.headers['hx-redirect']);
    const made = (await listSessions()).filter((s) => s.metadata.annotations?.['droidfarm.io/request-id'] === 'a1b2c3d4e5f6a7b8c9d0');
    expect(made).toHaveLength(1);
    expect(first.headers['hx-redirect']).toBe(`/sessions/${namespace}/${made[0]!.metadata.name}`);
    expect(made[0]!.spec).toEqual({
      poolRef: { name: 'alpha' },
      timeoutSeconds: 1200,
      apps: [
        { packageName: 'com.example.shop', apkURL: 'https://artifacts.example.com/shop.apk' },
        { packageName: 'com.example.bank', apkURL: 'https://artifacts.example.com/bank.apk' },
      ],
      runner: { image: 'registry.example.com/qa/e2e:1', args: ['--suite', 'smoke'], env: [{ name: 'A', value: '1' }, { name: 'B', value: 'two words' }] },
      cancelRequested: false,
    });
    const page = await app.inject(first.headers['hx-redirect'] as string);
    expect(page.statusCode).toBe(200);
  });

  it('offers the form with the pools that exist, and answers a bad form with the values kept and errors beside the fields', async () => {
    const page = await app.inject(`/sessions/new?namespace=${namespace}&pool=alpha`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/<option value="alpha" data-namespace="[^"]+" selected>alpha/);
    expect(page.body).toMatch(/name="requestId" value="[0-9a-f]{20}"/);
    const before = (await listSessions()).length;
    const bad = new URLSearchParams({ requestId: 'b1b2c3d4e5f6a7b8c9d0', namespace, pool: 'alpha', timeoutMinutes: '0', apps: 'com.example.shop http://insecure.example.com/x.apk', labels: 'team=<b>x</b>' }).toString();
    const res = await app.inject(fromPage({ method: 'POST', url: '/sessions', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: bad }));
    expect(res.statusCode).toBe(422);
    expect(res.body).toContain('id="session-form"');
    expect(res.body).toContain('line 1: APK URL must be an https:// URL');
    expect(res.body).toContain('must be from 1 to 1440 minutes');
    expect(res.body).toContain('com.example.shop http://insecure.example.com/x.apk</textarea>');
    expect(res.body).toContain('team=&lt;b&gt;x&lt;/b&gt;');
    expect(res.body).not.toContain('<b>x</b>');
    expect((await listSessions()).length).toBe(before);
  });

  it('refuses each invalid field with a 422 naming it, and creates nothing', async () => {
    const before = (await listSessions()).length;
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['missing pool', { pool: undefined }, 'pool'],
      ['pool that does not exist', { pool: 'nope' }, 'pool'],
      ['bad pool name', { pool: 'Alpha!' }, 'pool'],
      ['bad session name', { name: 'Bad_Name' }, 'name'],
      ['namespace not watched', { namespace: 'kube-system' }, 'namespace'],
      ['timeout too short', { timeoutSeconds: 10 }, 'timeoutSeconds'],
      ['timeout too long', { timeoutSeconds: 86401 }, 'timeoutSeconds'],
      ['timeout not a number', { timeoutSeconds: '900' }, 'timeoutSeconds'],
      ['http APK URL', { apps: [{ packageName: 'com.example.shop', apkURL: 'http://artifacts.example.com/shop.apk' }] }, 'apps[0].apkURL'],
      ['javascript APK URL', { apps: [{ packageName: 'com.example.shop', apkURL: 'javascript:alert(1)' }] }, 'apps[0].apkURL'],
      ['bad package name', { apps: [{ packageName: 'shop', apkURL: 'https://a.example.com/x.apk' }] }, 'apps[0].packageName'],
      ['duplicate package', { apps: [VALID.apps[0], VALID.apps[0]] }, 'apps[1].packageName'],
      ['too many apps', { apps: Array.from({ length: 21 }, (_, i) => ({ packageName: `com.example.a${i}`, apkURL: 'https://a.example.com/x.apk' })) }, 'apps'],
      ['runner without image', { runner: { args: ['x'] } }, 'runner.image'],
      ['image with spaces', { runner: { image: 'a b' } }, 'runner.image'],
      ['bad env name', { runner: { image: 'x', env: [{ name: '1BAD', value: '' }] } }, 'runner.env[0].name'],
      ['bad label key', { labels: { 'bad key': 'x' } }, 'labels.bad key'],
      ['bad label value', { labels: { team: 'has spaces' } }, 'labels.team'],
      ['label value not a string', { labels: { team: 5 } }, 'labels.team'],
      ['unknown field', { priority: 'high' }, 'priority'],
      ['unknown nested field', { runner: { image: 'x', privileged: true } }, 'runner.privileged'],
    ];
    for (const [what, patch, field] of cases) {
      const res = await postJson('/api/v1/sessions', { ...VALID, namespace, ...patch });
      expect(res.statusCode, what).toBe(422);
      const body = res.json() as { error: { code: string; message: string; fields: Array<{ field: string; message: string }> } };
      expect(body.error.code, what).toBe('DF_ERR_INVALID');
      expect(body.error.fields.map((f) => f.field), what).toContain(field);
      expect(body.error.fields.every((f) => f.message.length > 5), what).toBe(true);
    }
    expect((await listSessions()).length).toBe(before);
  });

  it('refuses hostile bodies with a clear 4xx and creates nothing', async () => {
    const before = (await listSessions()).length;
    let deep: unknown = 'x';
    for (let i = 0; i < 2000; i++) deep = { runner: deep };
    const bodies: Array<[string, string, number]> = [
      ['huge', JSON.stringify({ ...VALID, namespace, labels: { note: 'x'.repeat(70_000) } }), 413],
      ['deeply nested', JSON.stringify(deep), 422],
      ['not JSON', '{"pool": ', 400],
      ['an array', '[1,2,3]', 422],
      ['a string', '"alpha"', 422],
      ['prototype pollution', `{"__proto__": {"admin": true}, "pool": "alpha", "namespace": "${namespace}"}`, 400],
      ['markup in the name', JSON.stringify({ ...VALID, namespace, name: '<script>alert(1)</script>' }), 422],
      ['wrong types everywhere', JSON.stringify({ namespace: 1, pool: ['alpha'], apps: 'x', runner: 'y', labels: [] }), 422],
    ];
    for (const [what, payload, status] of bodies) {
      const res = await postJson('/api/v1/sessions', payload);
      expect(res.statusCode, what).toBe(status);
      const body = res.json() as { error: { code: string; message: string } };
      expect(body.error.code, what).toMatch(/^DF_ERR_/);
      expect(body.error.message, what).not.toMatch(/\n\s+at /);
    }
    const form = await app.inject({ method: 'POST', url: '/api/v1/sessions', headers: { 'content-type': 'text/plain' }, payload: 'pool=alpha' });
    expect(form.statusCode).toBeGreaterThanOrEqual(400);
    expect(form.statusCode).toBeLessThan(500);
    expect(form.json()).toMatchObject({ error: { code: 'DF_ERR_UNSUPPORTED_MEDIA_TYPE' } });
    expect((await listSessions()).length).toBe(before);
  });

  it('refuses writes that come from another site, and lets curl and htmx through', async () => {
    const body = JSON.stringify({ ...VALID, namespace });
    const crossSite = await app.inject({ method: 'POST', url: '/api/v1/sessions', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, payload: body });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json()).toMatchObject({ error: { code: 'DF_ERR_CROSS_SITE' } });
    const evilOrigin = await app.inject({ method: 'POST', url: '/api/v1/sessions', headers: { 'content-type': 'application/json', origin: 'https://evil.example', host: 'localhost:80' }, payload: body });
    expect(evilOrigin.statusCode).toBe(403);
    // A same-origin browser form post without htmx: what a forged form would look like.
    const plainForm = await app.inject({ method: 'POST', url: '/sessions', headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80', host: 'localhost:80' }, payload: 'pool=alpha' });
    expect(plainForm.statusCode).toBe(403);
    // GET never changes anything.
    expect((await app.inject(`/sessions/${namespace}/json-made/delete`)).statusCode).toBe(404);
  });

  it('stops, retries and deletes as described, and refuses what makes no sense', async () => {
    await createSession(namespace, 'to-stop', { pool: 'alpha' });
    await setSessionStatus(namespace, 'to-stop', { phase: 'Running' });
    const stop = await app.inject(fromPage({ method: 'POST', url: `/sessions/${namespace}/to-stop/cancel` }));
    expect(stop.statusCode).toBe(200);
    expect(stop.body).toContain('Stop requested');
    expect((await getSession('to-stop')).spec.cancelRequested).toBe(true);
    // Deleting a session that has not ended is refused, and changes nothing.
    const early = await app.inject({ method: 'DELETE', url: `/api/v1/sessions/${namespace}/to-stop` });
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ error: { code: 'DF_ERR_SESSION_NOT_FINISHED' } });
    expect((await getSession('to-stop')).metadata.name).toBe('to-stop');

    await setSessionStatus(namespace, 'to-stop', { phase: 'Cancelled', reason: 'CancelRequested' });
    await waitFor('the store to see Cancelled', () => app.farm.store.getSession(namespace, 'to-stop')?.phase === 'Cancelled');
    const again = await app.inject({ method: 'POST', url: `/api/v1/sessions/${namespace}/to-stop/cancel` });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: { code: 'DF_ERR_SESSION_FINISHED' } });

    const retry = await app.inject({ method: 'POST', url: `/api/v1/sessions/${namespace}/to-stop/retry` });
    expect(retry.statusCode).toBe(201);
    const retried = await getSession((retry.json() as { name: string }).name);
    expect(retried.metadata.labels).toMatchObject({ 'droidfarm.io/retry-of': 'to-stop' });
    expect(retried.spec).toEqual({ poolRef: { name: 'alpha' }, timeoutSeconds: 1800, cancelRequested: false });
    const retryRunning = await app.inject({ method: 'POST', url: `/api/v1/sessions/${namespace}/${retried.metadata.name}/retry` });
    expect(retryRunning.statusCode).toBe(409);

    const del = await app.inject(fromPage({ method: 'POST', url: `/sessions/${namespace}/to-stop/delete` }));
    expect(del.statusCode).toBe(200);
    expect(del.headers['hx-redirect']).toBe('/sessions');
    await expect(getSession('to-stop')).rejects.toThrow(/404/);
    const gone = await app.inject({ method: 'DELETE', url: `/api/v1/sessions/${namespace}/to-stop` });
    expect(gone.statusCode).toBe(404);
  });

  it('shows a clear 403 to a user whose RBAC may read sessions but not create them', async () => {
    const rbac = adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'reader' },
        rules: [
          { apiGroups: ['droidfarm.io'], resources: ['devicetemplates', 'devicepools', 'testsessions'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['get', 'list', 'watch'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({ namespace, body: { metadata: { name: 'bob-reads' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'User', name: 'bob', apiGroup: 'rbac.authorization.k8s.io' }] } });
    const reader = await startDashboard({ namespaces: [namespace], user: 'bob' });
    try {
      await waitFor('bob’s dashboard ready', async () => (await reader.inject('/readyz')).statusCode === 200);
      const res = await reader.inject({ method: 'POST', url: '/api/v1/sessions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...VALID, namespace, name: 'forbidden' }) });
      expect(res.statusCode).toBe(403);
      const body = res.json() as { error: { code: string; message: string } };
      expect(body.error.code).toBe('DF_ERR_KUBE_FORBIDDEN');
      expect(body.error.message).toMatch(/Not allowed to create TestSession/);
      expect(body.error.message).toMatch(/RBAC/);
      const page = await reader.inject(fromPage({ method: 'POST', url: '/sessions', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ requestId: 'ffffffffffffffffffff', namespace, pool: 'alpha' }).toString() }));
      expect(page.statusCode).toBe(403);
      expect(page.headers['hx-retarget']).toBe('#flash');
      expect(page.body).toContain('Not allowed to create TestSession');
      await expect(getSession('forbidden')).rejects.toThrow(/404/);
    } finally {
      await reader.close();
    }
  });
});
