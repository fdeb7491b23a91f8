// Issue 12, point 3, for the live streams: they keep sending what changes, which RBAC calls
// `watch`, so they need list *and* watch where a page needs list; and the JSON feed's scope
// follows RBAC while it is open (asked again as the cached reviews expire), so a RoleBinding
// deleted meanwhile stops that namespace's events within the access TTL. Real apiserver,
// deploy/overlays/oauth2-proxy's ServiceAccount, people named by the sign-in proxy's header:
// carol may list but not watch in team-a (and read team-b); dave reads both until his
// team-a RoleBinding goes.
import type { AddressInfo } from 'node:net';
import { AuthorizationV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, waitFor } from '../helpers/cluster.js';
import { dashboardContainer, deployedConfig, startDeployedDashboard } from '../helpers/deploy.js';
import { createSession } from '../helpers/farm.js';
import { bind, identityFarm, READ, type IdentityFarm } from '../helpers/identity.js';
import { openStream, type SseStream } from '../helpers/sse.js';

const TTL_MS = 2_000;
const LIST_ONLY = [
  { apiGroups: ['droidfarm.io'], resources: ['devicetemplates', 'devicepools', 'testsessions'], verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['events'], verbs: ['get', 'list'] },
];

/** Whether `user` may `verb` testsessions in `namespace`, as the apiserver answers now. */
async function allowed(user: string, verb: string, namespace: string): Promise<boolean> {
  const review = await adminKubeConfig()
    .makeApiClient(AuthorizationV1Api)
    .createSubjectAccessReview({ body: { spec: { user, resourceAttributes: { group: 'droidfarm.io', resource: 'testsessions', verb, namespace } } } });
  return review.status?.allowed === true;
}

/** The farm page's snapshot on `stream` shows `shown`'s pools and none of `hidden`'s. */
async function expectFarmSnapshot(stream: SseStream, shown: string, hidden: string): Promise<void> {
  const snapshot = await stream.next((e) => e.data.includes('farm-pools'));
  expect(snapshot.data).toContain(shown);
  expect(snapshot.data).not.toContain(hidden);
}

describe('live streams need watch, and the JSON feed follows RBAC while open', () => {
  let farm: IdentityFarm;
  let app: FastifyInstance;
  let base: string;
  const carol = { 'x-forwarded-user': 'carol' };
  const dave = { 'x-forwarded-user': 'dave' };

  beforeAll(async () => {
    farm = await identityFarm('watch');
    await bind(farm.teamA, 'carol-list-only', LIST_ONLY, [{ kind: 'User', name: 'carol' }]);
    await bind(farm.teamB, 'carol-reader', READ, [{ kind: 'User', name: 'carol' }]);
    await bind(farm.teamA, 'dave-reader', READ, [{ kind: 'User', name: 'dave' }]);
    await bind(farm.teamB, 'dave-reader', READ, [{ kind: 'User', name: 'dave' }]);
    await bind(farm.teamB, 'erin-reader', READ, [{ kind: 'User', name: 'erin' }]);
    await bind(farm.teamA, 'frank-reader', READ, [{ kind: 'User', name: 'frank' }]);
    await bind(farm.teamB, 'frank-reader', READ, [{ kind: 'User', name: 'frank' }]);
    await waitFor('RBAC for carol and dave', async () => (await allowed('carol', 'list', farm.teamA)) && !(await allowed('carol', 'watch', farm.teamA)) && (await allowed('dave', 'watch', farm.teamA)) && (await allowed('dave', 'watch', farm.teamB)) && (await allowed('erin', 'watch', farm.teamB)) && (await allowed('frank', 'watch', farm.teamA)));
    const config = deployedConfig(dashboardContainer(farm.objects), farm.sa.path, ['--namespace', farm.teamA, '--namespace', farm.teamB]);
    app = await startDeployedDashboard(config, { access: { ttlMs: TTL_MS } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    await waitFor('the dashboard to have read both teams', () => app.farm.store.syncStatus().synced && app.farm.store.getPool(farm.teamA, 'alpha') && app.farm.store.getPool(farm.teamB, 'alpha'), { timeoutMs: 20_000 });
  }, 90_000);
  afterAll(async () => {
    await app?.close();
  });

  it('list without watch: the page and JSON show team-a, its live stream is refused with the reason, and the page says so', async () => {
    const page = await app.inject({ url: `/pools/${farm.teamA}/alpha`, headers: { ...carol, accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('alpha-1');
    expect(page.body).toMatch(/data-live-note>Live updates leave out devicepools in [^:]+: you \(carol\) may list them but not watch them/);
    const json = await app.inject({ url: '/api/v1/pools', headers: { ...carol, accept: 'application/json' } });
    expect(json.json().items.map((p: { namespace: string }) => p.namespace).sort()).toEqual([farm.teamA, farm.teamB].sort());
    // team-b: list and watch, so no note.
    expect((await app.inject({ url: `/pools/${farm.teamB}/alpha`, headers: { ...carol, accept: 'text/html' } })).body).not.toContain('data-live-note');

    const refused = await openStream(`${base}/live?topic=${encodeURIComponent(`pool:${farm.teamA}/alpha`)}`, carol);
    expect(refused.status).toBe(403);
    refused.close();
    const refusedBody = await app.inject({ url: `/live?topic=${encodeURIComponent(`pool:${farm.teamA}/alpha`)}`, headers: { ...carol, accept: 'application/json' } });
    expect(refusedBody.json().error.message).toContain(`may list devicepools in ${farm.teamA} but not watch them`);

    // The farm-wide stream and the JSON feed carry team-b's changes, never team-a's.
    const farmStream = await openStream(`${base}/live?topic=farm`, carol);
    const feed = await openStream(`${base}/api/v1/events`, carol);
    try {
      expect([farmStream.status, feed.status]).toEqual([200, 200]);
      await expectFarmSnapshot(farmStream, farm.teamB, farm.teamA);
      await createSession(farm.teamA, 'carol-a', { pool: 'alpha' });
      await createSession(farm.teamB, 'carol-b', { pool: 'alpha' });
      await feed.next((e) => e.event === 'session' && e.data.includes('carol-b'));
      await waitFor('the dashboard to have read carol-a', () => app.farm.store.getSession(farm.teamA, 'carol-a'));
      expect(feed.events.filter((e) => e.data.includes(farm.teamA)).map((e) => e.data.slice(0, 200))).toEqual([]);
      expect(farmStream.events.filter((e) => e.data.includes(farm.teamA))).toEqual([]);
    } finally {
      farmStream.close();
      feed.close();
    }
  });

  it("insights mix every namespace's sessions: someone who reads only team-b sees team-b's, in the page, JSON and live topic", async () => {
    const erin = { 'x-forwarded-user': 'erin' };
    await createSession(farm.teamA, 'secret-a', { pool: 'alpha' });
    await waitFor('the dashboard to have read secret-a', () => app.farm.store.getSession(farm.teamA, 'secret-a'));
    const page = await app.inject({ url: '/insights?window=24h', headers: { ...erin, accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-insights-scope');
    expect(page.body).toContain(`<option value="${farm.teamB}" selected>`);
    expect(page.body).not.toContain(farm.teamA);
    const json = (url: string) => app.inject({ url, headers: { ...erin, accept: 'application/json' } });
    const farmWide = await json('/api/v1/insights?window=24h');
    expect(farmWide.statusCode).toBe(403);
    expect(farmWide.json().error.message).toContain(`?namespace= (${farm.teamB})`);
    expect((await json(`/api/v1/insights?window=24h&namespace=${farm.teamA}`)).statusCode).toBe(403);
    const mine = await json(`/api/v1/insights?window=24h&namespace=${farm.teamB}`);
    expect(mine.statusCode).toBe(200);
    expect(mine.body).not.toContain(farm.teamA);
    const topic = (q: string) => `${base}/live?topic=${encodeURIComponent(`insights?${q}`)}`;
    for (const [q, status] of [['window=24h', 403], [`window=24h&namespace=${farm.teamA}`, 403], [`window=24h&namespace=${farm.teamB}`, 200]] as const) {
      const s = await openStream(topic(q), erin);
      expect(s.status, q).toBe(status);
      s.close();
    }
  });

  it("a RoleBinding deleted while the JSON feed is open stops that namespace's events within the TTL, without a review per event", async () => {
    const feed = await openStream(`${base}/api/v1/events`, dave);
    let n = 0;
    /** One session in each team; whether the feed carried team-a's (once the store has both). */
    const probe = async (): Promise<boolean> => {
      const name = `dave-${++n}`;
      await createSession(farm.teamA, name, { pool: 'alpha' });
      await createSession(farm.teamB, name, { pool: 'alpha' });
      await feed.next((e) => e.event === 'session' && e.data.includes(farm.teamB) && e.data.includes(`"${name}"`), { timeoutMs: 10_000 });
      await waitFor(`the dashboard to have read ${farm.teamA}/${name}`, () => app.farm.store.getSession(farm.teamA, name));
      return feed.events.some((e) => e.data.includes(farm.teamA) && e.data.includes(`"${name}"`));
    };
    try {
      expect(feed.status).toBe(200);
      expect(await probe()).toBe(true);
      const reviewsBefore = app.farm.access.reviews;
      await adminKubeConfig().makeApiClient(RbacAuthorizationV1Api).deleteNamespacedRoleBinding({ namespace: farm.teamA, name: 'dave-reader' });
      const deletedAt = Date.now();
      await waitFor('RBAC to refuse dave in team-a', async () => !(await allowed('dave', 'list', farm.teamA)));
      await waitFor("the feed to stop team-a's events", async () => !(await probe()), { timeoutMs: 4 * TTL_MS + 10_000 });
      // Within the TTL (plus the review's round trip and the probe's own time).
      expect(Date.now() - deletedAt).toBeLessThan(TTL_MS + 3_000 + 2_000);
      // Stays stopped, team-b's still come, and the reviews followed the TTL, not the events.
      expect(await probe()).toBe(false);
      expect(feed.ended()).toBe(false);
      const elapsedTtls = Math.ceil((Date.now() - deletedAt) / TTL_MS) + 1;
      // Per TTL at most: list and watch, for 2 kinds, in 2 namespaces (8 reviews).
      expect(app.farm.access.reviews - reviewsBefore).toBeLessThanOrEqual(8 * elapsedTtls);
    } finally {
      feed.close();
    }
  });

  it("a RoleBinding deleted while a page's streams are open ends them within the TTL, and they come back without that namespace", async () => {
    const frank = { 'x-forwarded-user': 'frank' };
    const farmStream = await openStream(`${base}/live?topic=farm`, frank);
    const poolStream = await openStream(`${base}/live?topic=${encodeURIComponent(`pool:${farm.teamA}/alpha`)}`, frank);
    try {
      expect(farmStream.status).toBe(200);
      expect(poolStream.status).toBe(200);
      expect((await farmStream.next((e) => e.data.includes('farm-pools'))).data).toContain(farm.teamA);
      // Two TTLs with nothing changed: the streams stay (their topics are the same when asked again).
      const reviewsBefore = app.farm.access.reviews;
      await waitFor('the access answers to be asked again', () => app.farm.access.reviews > reviewsBefore, { timeoutMs: 4 * TTL_MS + 10_000 });
      expect(farmStream.ended()).toBe(false);
      expect(poolStream.ended()).toBe(false);

      await adminKubeConfig().makeApiClient(RbacAuthorizationV1Api).deleteNamespacedRoleBinding({ namespace: farm.teamA, name: 'frank-reader' });
      await waitFor('RBAC to refuse frank in team-a', async () => !(await allowed('frank', 'list', farm.teamA)));
      await waitFor("frank's streams to end", () => farmStream.ended() && poolStream.ended(), { timeoutMs: 4 * TTL_MS + 10_000 });
      expect(farmStream.events.some((e) => e.event === 'rescope')).toBe(true);
      expect(poolStream.events.some((e) => e.event === 'rescope')).toBe(true);

      // As the browser reconnects: team-a's pool is refused with the reason, the farm comes without team-a.
      const again = await app.inject({ url: `/live?topic=${encodeURIComponent(`pool:${farm.teamA}/alpha`)}`, headers: { ...frank, accept: 'application/json' } });
      expect(again.statusCode).toBe(403);
      // (Which of list and watch it names depends on which cached answer expired first: both are gone.)
      expect(again.json().error.message).toMatch(new RegExp(`^You \\(frank\\) may (not )?list devicepools in ${farm.teamA}`));
      const farmAgain = await openStream(`${base}/live?topic=farm`, frank);
      try {
        await expectFarmSnapshot(farmAgain, farm.teamB, farm.teamA);
      } finally {
        farmAgain.close();
      }
    } finally {
      farmStream.close();
      poolStream.close();
    }
  });
});
