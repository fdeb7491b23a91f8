// Issue 12 "Who acts": the dashboard installed with deploy/overlays/oauth2-proxy (its
// ServiceAccount may read and impersonate, never write) acts as the person the sign-in
// proxy names: the API server's RBAC decides each write, refusals say why, created sessions
// carry the person, Events name them, and one audit line per write records it all. Spoofed
// identities (headers from elsewhere, Impersonate-* from a client, a forged token) get 401
// and write nothing. Token users of the control plane: alice may edit sessions in team-a
// and read team-b; bob may only read team-b; the group qa-leads may stop sessions in team-b.
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { ApiException, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, clusterInfo, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { can, dashboardContainer, deployedConfig, startDeployedDashboard } from '../helpers/deploy.js';
import { createSession, devices, setDevices, setSessionStatus } from '../helpers/farm.js';
import { openStream } from '../helpers/sse.js';
import { identityFarm, type IdentityFarm } from '../helpers/identity.js';

const SESSIONS = { group: 'droidfarm.io', version: 'v1alpha1', plural: 'testsessions' };
const custom = () => adminKubeConfig().makeApiClient(CustomObjectsApi);
type Stored = { metadata: { name: string; annotations?: Record<string, string> }; spec: { cancelRequested?: boolean } };

async function getSession(namespace: string, name: string): Promise<Stored | undefined> {
  try {
    return (await custom().getNamespacedCustomObject({ ...SESSIONS, namespace, name })) as Stored;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

async function listSessions(namespace: string): Promise<Stored[]> {
  return ((await custom().listNamespacedCustomObject({ ...SESSIONS, namespace })) as { items: Stored[] }).items;
}

async function eventsAbout(namespace: string, name: string): Promise<Array<{ reason?: string; message?: string; source?: { component?: string } }>> {
  const list = await adminKubeConfig().makeApiClient(CoreV1Api).listNamespacedEvent({ namespace });
  return list.items.filter((e) => e.involvedObject.name === name && e.involvedObject.kind === 'TestSession');
}

/** Log lines of the dashboard, as JSON objects. */
function captureLog(): { lines: Array<Record<string, unknown>>; stream: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('deploy/overlays/oauth2-proxy: the dashboard acts as the person who signed in', () => {
  let farm: IdentityFarm;
  let app: FastifyInstance;
  let log: ReturnType<typeof captureLog>;
  const as = (user: string | undefined, opts: InjectOptions, groups?: string): InjectOptions => ({
    ...opts,
    headers: { ...(user ? { 'x-forwarded-user': user } : {}), ...(groups ? { 'x-forwarded-groups': groups } : {}), accept: 'application/json', ...(opts.headers ?? {}) },
  });
  const postJson = (user: string | undefined, url: string, body: unknown = {}, extra: Partial<InjectOptions> = {}) =>
    app.inject(as(user, { method: 'POST', url, payload: JSON.stringify(body), ...extra, headers: { 'content-type': 'application/json', ...((extra.headers as Record<string, string>) ?? {}) } }));

  beforeAll(async () => {
    farm = await identityFarm('who');
    await createSession(farm.teamA, 'a-running', { pool: 'alpha' });
    await setSessionStatus(farm.teamA, 'a-running', { phase: 'Running' });
    await createSession(farm.teamA, 'a-done', { pool: 'alpha' });
    await setSessionStatus(farm.teamA, 'a-done', { phase: 'Succeeded' });
    await createSession(farm.teamA, 'a-ended', { pool: 'alpha' });
    await setSessionStatus(farm.teamA, 'a-ended', { phase: 'Failed' });
    await createSession(farm.teamB, 'b-running', { pool: 'alpha' });
    await setSessionStatus(farm.teamB, 'b-running', { phase: 'Running' });
    await createSession(farm.teamB, 'b-done', { pool: 'alpha' });
    await setSessionStatus(farm.teamB, 'b-done', { phase: 'Succeeded' });
    log = captureLog();
    const config = deployedConfig(dashboardContainer(farm.objects), farm.sa.path, ['--namespace', farm.teamA, '--namespace', farm.teamB]);
    expect(config.auth.mode).toBe('proxy');
    expect(config.host).toBe('127.0.0.1');
    app = await startDeployedDashboard(config, { logger: { level: 'info', stream: log.stream } });
    await waitFor('the dashboard to have read both teams', () => app.farm.store.syncStatus().synced && app.farm.store.getSession(farm.teamB, 'b-done') && app.farm.store.getSession(farm.teamA, 'a-done'), { timeoutMs: 20_000 });
  }, 90_000);
  afterAll(async () => {
    await app?.close();
  });

  it("the ServiceAccount cannot create, patch or delete any farm object by itself, only read and impersonate", async () => {
    for (const verb of ['create', 'patch', 'delete', 'update']) {
      for (const resource of ['testsessions', 'devicepools', 'devicetemplates']) {
        expect(await can(farm.sa.kc, { group: 'droidfarm.io', resource, verb }, farm.teamA), `${verb} ${resource}`).toBe(false);
      }
      for (const resource of ['pods', 'secrets', 'configmaps']) expect(await can(farm.sa.kc, { group: '', resource, verb }, farm.teamA), `${verb} ${resource}`).toBe(false);
    }
    expect(await can(farm.sa.kc, { group: '', resource: 'users', verb: 'impersonate' })).toBe(true);
    expect(await can(farm.sa.kc, { group: '', resource: 'serviceaccounts', verb: 'impersonate' }, farm.teamA)).toBe(false);
    const direct = await farm.sa.kc
      .makeApiClient(CustomObjectsApi)
      .deleteNamespacedCustomObject({ ...SESSIONS, namespace: farm.teamA, name: 'a-done' })
      .then(
        () => 200,
        (err: unknown) => (err as ApiException<string>).code,
      );
    expect(direct).toBe(403);
  });

  it('answers 401 with a coded error and a page that says what to do when nobody is signed in', async () => {
    const json = await app.inject({ url: '/api/v1/sessions', headers: { accept: 'application/json' } });
    expect(json.statusCode).toBe(401);
    expect(json.json().error.code).toBe('DF_ERR_UNAUTHENTICATED');
    expect(json.json().error.message).toMatch(/sign-in/);
    const page = await app.inject({ url: '/sessions', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(401);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('DF_ERR_UNAUTHENTICATED');
    expect(page.body).toContain('Not signed in');
    // Probes, metrics and assets answer anyone (the kubelet has no identity); by the route
    // that matched, so no spelling of another path borrows their pass.
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/metrics')).statusCode).toBe(200);
    expect((await app.inject('/static/app.js')).statusCode).toBe(200);
    for (const url of ['/static/../api/v1/pools', '/healthz/../api/v1/pools', '/api/v1/pools?x=/static/']) {
      expect((await app.inject({ url, headers: { accept: 'application/json' } })).statusCode, url).toBe(401);
    }
  });

  it('spoofing writes nothing: headers from an untrusted address, Impersonate-* from a client', async () => {
    const before = (await listSessions(farm.teamA)).length;
    const fromOutside = await postJson('alice', '/api/v1/sessions', { namespace: farm.teamA, pool: 'alpha' }, { remoteAddress: '10.1.2.3' });
    expect(fromOutside.statusCode).toBe(401);
    expect(fromOutside.json().error.message).toContain('10.1.2.3 is not a --trusted-proxy address');
    const impersonating = await postJson('bob', '/api/v1/sessions', { namespace: farm.teamA, pool: 'alpha' }, { headers: { 'impersonate-user': 'alice' } });
    expect(impersonating.statusCode).toBe(401);
    expect(impersonating.json().error.message).toContain('Impersonate-*');
    const deleteOutside = await app.inject(as('alice', { method: 'DELETE', url: `/api/v1/sessions/${farm.teamA}/a-done`, remoteAddress: '192.168.7.7' }));
    expect(deleteOutside.statusCode).toBe(401);
    const reserved = await postJson('system:admin', '/api/v1/sessions', { namespace: farm.teamA, pool: 'alpha' });
    expect(reserved.statusCode).toBe(401);
    expect((await listSessions(farm.teamA)).length).toBe(before);
    expect(await getSession(farm.teamA, 'a-done')).toBeDefined();
  });

  it('creates as alice where her RBAC allows it; the session carries her name and the log line says so', async () => {
    const res = await postJson('alice', '/api/v1/sessions', { namespace: farm.teamA, pool: 'alpha', name: 'by-alice' }, { headers: { 'x-request-id': 'ignored' } });
    expect(res.statusCode, res.body).toBe(201);
    const stored = await getSession(farm.teamA, 'by-alice');
    expect(stored?.metadata.annotations?.['droidfarm.io/requested-by']).toBe('alice');
    const line = log.lines.find((l) => l.audit === 'write' && l.verb === 'create' && l.name === 'by-alice');
    expect(line).toMatchObject({ user: 'alice', groups: [], via: 'proxy', namespace: farm.teamA, result: 'ok', resource: 'testsessions.droidfarm.io' });
    expect(typeof line?.requestId).toBe('string');
  });

  it('leases and bulk actions act as the person too: the lease holds her name, and RBAC decides each bulk write', async () => {
    const lease = await postJson('alice', `/api/v1/pools/${farm.teamA}/alpha/lease`, { minutes: 30, holder: 'someone else', reason: 'manual check' });
    expect(lease.statusCode, lease.body).toBe(201);
    const leased = await getSession(farm.teamA, (lease.json() as { name: string }).name);
    expect(leased?.metadata.annotations?.['droidfarm.io/requested-by']).toBe('alice');
    expect(leased?.metadata.annotations?.['droidfarm.io/lease-holder']).toBe('alice');
    const bobLeases = await postJson('bob', `/api/v1/pools/${farm.teamB}/alpha/lease`, { minutes: 30, holder: 'bob', reason: 'try' });
    expect(bobLeases.statusCode).toBe(403);
    const batch = await postJson('bob', '/api/v1/sessions:batch', { action: 'delete', sessions: [{ namespace: farm.teamB, name: 'b-done' }] });
    expect(batch.statusCode, batch.body).toBe(200);
    expect(batch.json()).toMatchObject({ done: 0, refused: 1, results: [{ ok: false, status: 403, error: { code: 'DF_ERR_KUBE_FORBIDDEN' } }] });
    expect(await getSession(farm.teamB, 'b-done')).toBeDefined();
  });

  it("refuses what RBAC refuses, with the API server's reason, and writes nothing", async () => {
    const bobCreates = await postJson('bob', '/api/v1/sessions', { namespace: farm.teamB, pool: 'alpha', name: 'by-bob' });
    expect(bobCreates.statusCode).toBe(403);
    expect(bobCreates.json().error.code).toBe('DF_ERR_KUBE_FORBIDDEN');
    expect(bobCreates.json().error.message).toMatch(/^You \(bob\) may not create TestSession in .*: Kubernetes RBAC refused it \(.*User "bob" cannot create resource "testsessions"/);
    expect(await getSession(farm.teamB, 'by-bob')).toBeUndefined();
    const aliceDeletes = await app.inject(as('alice', { method: 'DELETE', url: `/api/v1/sessions/${farm.teamB}/b-done` }));
    expect(aliceDeletes.statusCode).toBe(403);
    expect(aliceDeletes.json().error.message).toContain('User "alice" cannot delete resource "testsessions"');
    expect(await getSession(farm.teamB, 'b-done')).toBeDefined();
    // From the page's form: the refusal is shown beside the button (the flash fragment).
    const fromPage = await app.inject(
      as('alice', {
        method: 'POST',
        url: `/sessions/${farm.teamB}/b-done/delete`,
        headers: { 'hx-request': 'true', 'sec-fetch-site': 'same-origin', accept: 'text/html' },
      }),
    );
    expect(fromPage.statusCode).toBe(403);
    expect(fromPage.body).toContain('You (alice) may not delete TestSession');
    const refused = log.lines.find((l) => l.audit === 'write' && l.verb === 'create' && l.user === 'bob');
    expect(refused).toMatchObject({ result: 'DF_ERR_KUBE_FORBIDDEN', status: 403 });
    expect(await eventsAbout(farm.teamB, 'b-done')).toEqual([]);
  });

  it('shows who is signed in, and each button enabled or disabled with the reason, from cached SubjectAccessReviews', async () => {
    const page = (user: string, ns: string, name: string) => app.inject({ url: `/sessions/${ns}/${name}`, headers: { 'x-forwarded-user': user, accept: 'text/html' } });
    const mine = await page('alice', farm.teamA, 'a-ended');
    expect(mine.statusCode).toBe(200);
    expect(mine.body).toMatch(/signed in as <strong[^>]*>alice<\/strong> <span[^>]*>\(sign-in proxy\)/);
    const deleteButton = (html: string) => /<button type="button" data-action="delete"[^>]*>/.exec(html)?.[0] ?? '';
    expect(deleteButton(mine.body)).toMatch(/hx-post=/);
    expect(deleteButton(mine.body)).not.toMatch(/\sdisabled[\s>]/);
    const theirs = await page('alice', farm.teamB, 'b-done');
    expect(deleteButton(theirs.body)).toContain('disabled aria-describedby="why-delete"');
    expect(theirs.body).toContain(`<p id="why-delete" class="w-full text-xs text-slate-600" data-denied="delete">you (alice) cannot delete testsessions in ${farm.teamB}</p>`);
    expect(theirs.body).toContain(`data-deny-retry="you (alice) cannot create testsessions in ${farm.teamB}"`);
    // Cached per person, verb and namespace: the same pages again ask the API server nothing.
    const reviews = app.farm.access.reviews;
    await page('alice', farm.teamA, 'a-ended');
    await page('alice', farm.teamB, 'b-done');
    expect(app.farm.access.reviews).toBe(reviews);
    // Another person is another question.
    const bobs = await page('bob', farm.teamB, 'b-done');
    expect(bobs.body).toContain(`you (bob) cannot delete testsessions in ${farm.teamB}`);
    // Three buttons, and whether he may list sessions there, and watch them (for the page's live note).
    expect(app.farm.access.reviews).toBe(reviews + 5);
    const metrics = await app.inject('/metrics');
    expect(metrics.body).toContain(`droidfarm_access_reviews_total ${reviews + 5}`);
    expect(metrics.body).toMatch(/droidfarm_access_review_cache_entries \d+/);
  });

  it('shows bob only team-b, in JSON and pages; alice sees both', async () => {
    const get = (user: string, url: string, accept = 'application/json') => app.inject({ url, headers: { 'x-forwarded-user': user, accept } });
    const namespaces = async (user: string, url: string) => new Set(((await get(user, url)).json() as { items: Array<{ namespace: string }> }).items.map((i) => i.namespace));
    for (const url of ['/api/v1/pools', '/api/v1/sessions', '/api/v1/templates']) {
      expect(await namespaces('bob', url), url).toEqual(new Set([farm.teamB]));
      expect(await namespaces('alice', url), url).toEqual(new Set([farm.teamA, farm.teamB]));
    }
    for (const url of [`/api/v1/sessions/${farm.teamA}/a-ended`, `/api/v1/pools/${farm.teamA}/alpha`, `/api/v1/pools/${farm.teamA}/alpha/devices`]) {
      const res = await get('bob', url);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.message, url).toMatch(new RegExp(`^You \\(bob\\) may not list (testsessions|devicepools) in ${farm.teamA}`));
    }
    expect((await get('bob', `/api/v1/sessions/${farm.teamB}/b-done`)).statusCode).toBe(200);
    for (const url of ['/', '/pools', '/sessions', '/sessions/new']) {
      const page = await get('bob', url, 'text/html');
      expect(page.statusCode, url).toBe(200);
      expect(page.body, url).toContain(farm.teamB);
      expect(page.body, url).not.toContain(farm.teamA);
      expect((await get('alice', url, 'text/html')).body, url).toContain(farm.teamA);
    }
    for (const url of [`/sessions/${farm.teamA}/a-ended`, `/pools/${farm.teamA}/alpha`, `/pools/${farm.teamA}/alpha/devices/alpha-0`]) {
      expect((await get('bob', url, 'text/html')).statusCode, url).toBe(403);
    }
    expect((await get('bob', '/sessions', 'text/html')).body).toContain('The TestSessions of the namespaces you may see, newest first, live.');
    expect((await get('alice', '/sessions', 'text/html')).body).toContain('Every TestSession, newest first, live.');
  });

  it('shows bob only team-b in both live streams, from shared renders', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const bob = { 'x-forwarded-user': 'bob' };
    const refused = await openStream(`${base}/live?topic=${encodeURIComponent(`pool:${farm.teamA}/alpha`)}`, bob);
    expect(refused.status).toBe(403);
    refused.close();
    const listTopic = /sse-connect="\/live\?topic=([^"]+)"/.exec((await app.inject({ url: '/sessions', headers: { ...bob, accept: 'text/html' } })).body)![1]!.replaceAll('&amp;', '&');
    const forged = await openStream(`${base}/live?topic=${listTopic}${encodeURIComponent('&scope=abc')}`, bob);
    expect(forged.status).toBe(400);
    forged.close();
    const list = await openStream(`${base}/live?topic=${listTopic}`, bob);
    const farmStream = await openStream(`${base}/live?topic=farm`, bob);
    const alice = await openStream(`${base}/live?topic=farm`, { 'x-forwarded-user': 'alice' });
    const carol = await openStream(`${base}/live?topic=farm`, { 'x-forwarded-user': 'bob', 'x-forwarded-groups': 'testers' });
    const feed = await openStream(`${base}/api/v1/events`, bob);
    try {
      expect(farmStream.status).toBe(200);
      expect(list.status).toBe(200);
      const snapshot = await farmStream.next((e) => e.data.includes('farm-pools'));
      expect(snapshot.data).toContain(farm.teamB);
      expect(snapshot.data).not.toContain(farm.teamA);
      expect((await alice.next((e) => e.data.includes('farm-pools'))).data).toContain(farm.teamA);
      await carol.next((e) => e.data.includes('farm-pools'));
      // One scoped topic per distinct view of the farm, not per person: bob alone and bob
      // with a group that grants nothing more see the same namespaces and share one.
      // (alice sees every namespace this dashboard watches: she has the plain "farm" topic.)
      expect(app.farm.catalog.scopedTopicCount).toBe(1); // bob's farm topic (his list is a session list topic)
      // A change in each team: bob's streams carry team-b's only.
      await createSession(farm.teamA, 'live-a', { pool: 'alpha' });
      await createSession(farm.teamB, 'live-b', { pool: 'alpha' });
      await feed.next((e) => e.event === 'session' && e.data.includes('live-b'));
      await list.next((e) => e.data.includes('live-b'), { timeoutMs: 10_000 });
      await setDevices(farm.teamA, 'alpha', devices('alpha', 3));
      await setDevices(farm.teamB, 'alpha', devices('alpha', 3));
      await feed.next((e) => e.event === 'device' && e.data.includes(farm.teamB) && e.data.includes('alpha-2'));
      await alice.next((e) => e.data.includes(farm.teamA) && e.data.includes('pool-card'), { timeoutMs: 10_000 });
      await farmStream.next((e) => e.data.includes(farm.teamB) && e.data.includes('pool-card'), { timeoutMs: 10_000 });
      expect(feed.events.filter((e) => e.data.includes(farm.teamA)).map((e) => e.data.slice(0, 300))).toEqual([]);
      expect(farmStream.events.filter((e) => e.data.includes(farm.teamA))).toEqual([]);
      expect(list.events.filter((e) => e.data.includes(farm.teamA) || e.data.includes('live-a'))).toEqual([]);
    } finally {
      for (const s of [farmStream, alice, carol, feed, list]) s.close();
    }
  });

  it('stop, retry and delete as alice: each records an Event naming her, which the timeline shows', async () => {
    const stop = await postJson('alice', `/api/v1/sessions/${farm.teamA}/a-running/cancel`);
    expect(stop.statusCode, stop.body).toBe(200);
    expect((await getSession(farm.teamA, 'a-running'))?.spec.cancelRequested).toBe(true);
    const retry = await postJson('alice', `/api/v1/sessions/${farm.teamA}/a-done/retry`);
    expect(retry.statusCode, retry.body).toBe(201);
    const retried = await getSession(farm.teamA, retry.json().name as string);
    expect(retried?.metadata.annotations?.['droidfarm.io/requested-by']).toBe('alice');
    await waitFor('the stop Event in the timeline', async () => {
      const page = await app.inject(as('alice', { url: `/sessions/${farm.teamA}/a-running`, headers: { accept: 'text/html' } }));
      return page.body.includes('Stop requested by alice');
    });
    const del = await app.inject(as('alice', { method: 'DELETE', url: `/api/v1/sessions/${farm.teamA}/a-done` }));
    expect(del.statusCode, del.body).toBe(202);
    const messages = async (name: string) => (await eventsAbout(farm.teamA, name)).map((e) => `${e.reason}: ${e.message} (${e.source?.component})`);
    expect(await messages('a-running')).toContain('StopRequested: Stop requested by alice (droidfarm-dashboard)');
    expect((await messages('a-done')).sort()).toEqual([`Deleted: Deleted by alice (droidfarm-dashboard)`, `Retried: Retried by alice as ${retry.json().name} (droidfarm-dashboard)`]);
    const lines = log.lines.filter((l) => l.audit === 'write' && l.user === 'alice' && l.result === 'ok').map((l) => `${l.verb} ${l.name}`);
    expect(lines).toEqual(expect.arrayContaining(['stop a-running', 'retry a-done', 'delete a-done']));
  });

  it('passes the groups on: qa-leads may stop in team-b, bob alone may not', async () => {
    const alone = await postJson('carol', `/api/v1/sessions/${farm.teamB}/b-running/cancel`);
    expect(alone.statusCode).toBe(403);
    const withGroup = await app.inject(
      as('carol', { method: 'POST', url: `/api/v1/sessions/${farm.teamB}/b-running/cancel`, payload: '{}', headers: { 'content-type': 'application/json' } }, 'testers, qa-leads, system:masters'),
    );
    expect(withGroup.statusCode, withGroup.body).toBe(200);
    expect((await getSession(farm.teamB, 'b-running'))?.spec.cancelRequested).toBe(true);
    const line = log.lines.find((l) => l.audit === 'write' && l.user === 'carol' && l.result === 'ok');
    // system:* names are never passed on: an IdP must not make anyone system:masters.
    expect(line?.groups).toEqual(['testers', 'qa-leads']);
  });
});

describe('--auth none', () => {
  it('says in the header that everyone acts as the dashboard, and asks no review', async () => {
    const app = await startDashboard({ namespaces: ['default'] });
    try {
      const page = await app.inject({ url: '/sessions', headers: { accept: 'text/html' } });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('no sign-in: everyone acts as the dashboard');
      expect(page.body).not.toContain('signed in as');
      expect(app.farm.access.reviews).toBe(0);
    } finally {
      await app.close();
    }
  });
});

describe('--auth bearer: Kubernetes tokens for scripts and CI', () => {
  let farm: IdentityFarm;
  let app: FastifyInstance;

  beforeAll(async () => {
    farm = await identityFarm('bearer');
    const config = deployedConfig(dashboardContainer(farm.objects), farm.sa.path, ['--namespace', farm.teamA, '--namespace', farm.teamB, '--auth', 'bearer']);
    expect(config.auth.mode).toBe('bearer');
    app = await startDeployedDashboard(config);
    await waitFor('the dashboard to have read both teams', () => app.farm.store.syncStatus().synced && app.farm.store.getPool(farm.teamB, 'alpha'), { timeoutMs: 20_000 });
  }, 90_000);
  afterAll(async () => {
    await app?.close();
  });

  const create = (token: string, namespace: string, name: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      remoteAddress: '10.9.8.7',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ namespace, pool: 'alpha', name }),
    });

  it("acts as the token's owner, from any address", async () => {
    const res = await create(clusterInfo().users.alice!.token, farm.teamA, 'by-token');
    expect(res.statusCode, res.body).toBe(201);
    expect((await getSession(farm.teamA, 'by-token'))?.metadata.annotations?.['droidfarm.io/requested-by']).toBe('alice');
    const bob = await create(clusterInfo().users.bob!.token, farm.teamB, 'bob-token');
    expect(bob.statusCode).toBe(403);
  });

  it('refuses a forged token with 401 and writes nothing; proxy headers from elsewhere do not count', async () => {
    const forged = await create('0'.repeat(48), farm.teamA, 'forged');
    expect(forged.statusCode).toBe(401);
    expect(forged.json().error.code).toBe('DF_ERR_UNAUTHENTICATED');
    expect(forged.headers['www-authenticate']).toMatch(/^Bearer/);
    const headersOnly = await app.inject({
      method: 'POST',
      url: '/api/v1/sessions',
      remoteAddress: '10.9.8.7',
      headers: { 'x-forwarded-user': 'alice', 'content-type': 'application/json' },
      payload: JSON.stringify({ namespace: farm.teamA, pool: 'alpha', name: 'headers-only' }),
    });
    expect(headersOnly.statusCode).toBe(401);
    expect(await getSession(farm.teamA, 'forged')).toBeUndefined();
    expect(await getSession(farm.teamA, 'headers-only')).toBeUndefined();
  });
});
