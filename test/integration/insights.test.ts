// Farm insights on the real apiserver: sessions whose times are set relative to the
// creationTimestamps the apiserver gave them, so every figure is known; the JSON API and
// the /insights page show the same figures, and bad filters get a coded 400.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate, setDevices, setSessionStatus } from '../helpers/farm.js';

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('insights from the cluster', () => {
  let namespace: string;
  let app: FastifyInstance;
  let latest = 0;

  beforeAll(async () => {
    namespace = await freshNamespace('insights');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 2);
    await setDevices(namespace, 'alpha', [
      { name: 'alpha-0', state: 'Idle' },
      { name: 'alpha-1', state: 'Idle' },
    ]);
    await createSession(namespace, 'ok', { pool: 'alpha' });
    await createSession(namespace, 'broken', { pool: 'alpha' });
    await createSession(namespace, 'waiting', { pool: 'alpha' });
    app = await startDashboard({ namespaces: [namespace] });
    await waitFor('the sessions in the store', () => app.farm.store.getSession(namespace, 'waiting') !== undefined);
    // Times after each session's own creationTimestamp: waits of 2 s and 1 s, runs of 2 s and 4 s.
    const created = (name: string) => app.farm.store.getSession(namespace, name)!.createdAt!;
    const c1 = created('ok');
    const c2 = created('broken');
    await setSessionStatus(namespace, 'ok', { phase: 'Succeeded', device: { name: 'alpha-0' }, assignedAt: iso(c1 + 2000), startTime: iso(c1 + 2000), completionTime: iso(c1 + 4000), results: { passed: 9, failed: 0, skipped: 0 } });
    await setSessionStatus(namespace, 'broken', { phase: 'Failed', reason: 'TestsFailed', device: { name: 'alpha-1' }, assignedAt: iso(c2 + 1000), startTime: iso(c2 + 1000), completionTime: iso(c2 + 5000), results: { passed: 1, failed: 1, skipped: 0 } });
    latest = Math.max(c1 + 4000, c2 + 5000);
    await waitFor('both sessions finished, in the past', () => app.farm.store.getSession(namespace, 'broken')?.phase === 'Failed' && app.farm.store.getSession(namespace, 'ok')?.phase === 'Succeeded' && Date.now() > latest + 1000);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers GET /api/v1/insights with the known figures', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/insights?window=1h&namespace=${namespace}` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.window).toBe('1h');
    const pool = body.pools.find((p: { pool: string }) => p.pool === 'alpha');
    expect(pool.sessions).toMatchObject({ created: 3, started: 2, finished: 2, Succeeded: 1, Failed: 1, waiting: 1, running: 0 });
    expect(pool.passRate).toBe(0.5);
    expect(pool.testsPassRate).toBe(10 / 11);
    expect(pool.queueWaitSeconds).toEqual({ p50: 1, p95: 2, max: 2 });
    expect(pool.runSeconds).toEqual({ p50: 2, p95: 4 });
    expect(pool.peakBusy).toBe(2);
    expect(pool.utilisation).toBeGreaterThan(0);
    expect(pool.bottleneck).toBeNull(); // a session waits, but two devices are idle
    expect(pool.suspectDevices).toEqual([]);
    expect(pool.topFailureReasons).toEqual([{ reason: 'TestsFailed', count: 1, sessions: [expect.objectContaining({ name: 'broken', href: `/sessions/${namespace}/broken` })] }]);
    expect(body.coverage.oldestSession).not.toBeNull();
    expect(body.farm.sessions.finished).toBe(2);
  });

  it('shows the same figures on /insights', async () => {
    const [page, json] = await Promise.all([
      app.inject({ method: 'GET', url: `/insights?window=1h&namespace=${namespace}&pool=alpha` }),
      app.inject({ method: 'GET', url: `/api/v1/insights?window=1h&namespace=${namespace}&pool=alpha` }),
    ]);
    expect(page.statusCode).toBe(200);
    const pool = json.json().pools[0];
    const text = page.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain(`Sessions finished ${pool.sessions.finished} `);
    expect(text).toContain('Pass rate 50 %');
    expect(text).toContain('tests: 91 % passed');
    expect(text).toContain('Queue wait p50 / p95 1 s / 2 s');
    expect(text).toContain('Run time p50 / p95 2 s / 4 s');
    expect(text).toContain(`Utilisation ${Math.round(pool.utilisation * 100)} %`);
    expect(page.body).toContain(`href="/sessions/${namespace}/broken"`);
    expect(page.body).toMatch(/<svg[^>]+role="img"[^>]+aria-labelledby="chart-phases-title chart-phases-desc"/);
    expect(page.body).toContain('data-verdict="healthy"');
    // Live: the page subscribes to its own filter set's topic.
    expect(page.body).toContain(`topic=${encodeURIComponent(`insights?window=1h&namespace=${namespace}&pool=alpha`)}`);
  });

  it("gives a waiting session's page its estimated wait and the estimate's basis", async () => {
    await setDevices(namespace, 'alpha', [
      { name: 'alpha-0', state: 'Busy' },
      { name: 'alpha-1', state: 'Busy' },
    ]);
    await waitFor('both devices busy', () => app.farm.store.getPool(namespace, 'alpha')?.devices.every((d) => d.state === 'Busy') === true);
    const page = await app.inject({ method: 'GET', url: `/sessions/${namespace}/waiting` });
    const text = page.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    // First in line; the pool finished 2 sessions in the last hour: half an hour.
    expect(text).toContain('Place 1 of 1 in the queue');
    expect(text).toContain('Estimated wait: about 30m 00s');
    expect(text).toContain('throughput: 2 sessions finished in the last hour');
  });

  it("gives a device's page its last 24 hours against the rest of its pool", async () => {
    const page = await app.inject({ method: 'GET', url: `/pools/${namespace}/alpha/devices/alpha-1` });
    expect(page.statusCode).toBe(200);
    const text = page.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain('1 session ended on this device: 0 succeeded, 1 failed, 0 timed out, 0 cancelled. Failure rate 100 % , the rest of the pool 0 %');
    expect(page.body).toContain(`href="/sessions/${namespace}/broken"`);
  });

  it('refuses a window it does not know with a coded 400, page and API alike', async () => {
    for (const url of ['/api/v1/insights?window=2h', '/insights?window=forever', `/api/v1/insights?window=24h&pool=${'Bad_Name'}`]) {
      const res = await app.inject({ method: 'GET', url, headers: { accept: url.startsWith('/api') ? 'application/json' : 'text/html' } });
      expect(res.statusCode, url).toBe(400);
      if (url.startsWith('/api')) expect(res.json().error.code, url).toBe('DF_ERR_BAD_REQUEST');
      else expect(res.body).toContain('DF_ERR_BAD_REQUEST');
    }
  });
});
