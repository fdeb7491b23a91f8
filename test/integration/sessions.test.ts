// The session list, its JSON twin and one session's page, against the real API server:
// filters, cursor pages, clear 400s for bad filters, untrusted strings shown as text, and
// live changes reaching both the list and the session page.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate, devices, setDevices, setSessionStatus } from '../helpers/farm.js';
import { openStream, type SseStream } from '../helpers/sse.js';

interface SessionItem {
  namespace: string;
  name: string;
  pool: string;
  phase: string;
  createdAt: string;
}
interface SessionList {
  items: SessionItem[];
  continue: string | null;
}

const MARKUP = '<img src=x onerror=alert(1)><b>bold</b>';

describe('sessions from the real API server', () => {
  let namespace: string;
  let app: FastifyInstance;
  let base: string;
  const streams: SseStream[] = [];
  const list = async (query: string) => (await app.inject(`/api/v1/sessions?${query}`)).json() as SessionList;

  beforeAll(async () => {
    namespace = await freshNamespace('sessions');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 2);
    await setDevices(namespace, 'alpha', devices('alpha', 2, 'Busy'));
    await createPool(namespace, 'beta', 1);
    // 24 sessions: 16 in alpha, 8 in beta; every third for team payments, the rest search.
    for (let i = 0; i < 24; i++) {
      const pool = i % 3 === 2 ? 'beta' : 'alpha';
      await createSession(namespace, `run-${String(i).padStart(2, '0')}`, { pool, labels: { team: i % 3 === 0 ? 'payments' : 'search' } });
    }
    // One in a pool that does not exist, and phases beyond Pending. (The CRD schema itself
    // refuses javascript: URLs, so the unsafe ones here are on origins not allowed.)
    await createSession(namespace, 'orphan', { pool: 'gone', labels: { note: 'x' } });
    await setSessionStatus(namespace, 'run-00', { phase: 'Running', reason: 'Running', message: MARKUP, device: { name: 'alpha-0', streamURL: 'http://evil.example.com/stream' }, startTime: '2026-11-23T10:00:00Z', progress: { completed: 3, total: 12 } });
    await setSessionStatus(namespace, 'run-01', {
      phase: 'Succeeded',
      startTime: '2026-11-23T10:00:00Z',
      completionTime: '2026-11-23T10:06:36Z',
      results: { passed: 11, failed: 1, skipped: 0 },
      artifacts: [
        { name: 'video.mp4', kind: 'video', url: 'https://evil.example.com/video.mp4', sizeBytes: 48213377 },
        { name: 'logcat.txt', kind: 'logcat', url: 'https://artifacts.example.com/logcat.txt', sizeBytes: 2048 },
      ],
    });
    app = await startDashboard({ namespaces: [namespace], args: ['--link-origin', 'https://artifacts.example.com'] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    await waitFor('every session in the store', () => app.farm.store.syncStatus().synced && app.farm.store.sessionCount() === 25 && app.farm.store.getSession(namespace, 'run-01')?.phase === 'Succeeded');
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await app?.close();
  });

  it('lists sessions newest first and filters by pool, phase, label selector and name', async () => {
    const all = await list('limit=500');
    expect(all.items).toHaveLength(25);
    const keys = all.items.map((s) => [Date.parse(s.createdAt), `${s.namespace}/${s.name}`] as const);
    const sorted = [...keys].sort((a, b) => b[0] - a[0] || (a[1] < b[1] ? 1 : -1));
    expect(keys).toEqual(sorted);

    expect((await list('pool=beta')).items.map((s) => s.name).sort()).toEqual(['run-02', 'run-05', 'run-08', 'run-11', 'run-14', 'run-17', 'run-20', 'run-23']);
    expect((await list('phase=Running&phase=succeeded')).items.map((s) => s.name).sort()).toEqual(['run-00', 'run-01']);
    expect((await list('phase=Running,Succeeded')).items).toHaveLength(2);
    expect((await list('labelSelector=team%3Dpayments')).items).toHaveLength(8);
    expect((await list(`labelSelector=${encodeURIComponent('team in (payments,search),team!=search')}`)).items).toHaveLength(8);
    expect((await list('labelSelector=!team')).items.map((s) => s.name)).toEqual(['orphan']);
    expect((await list('q=RUN-1')).items).toHaveLength(10);
    expect((await list(`namespace=${namespace}&pool=alpha&labelSelector=team%3Dsearch&phase=Pending`)).items).toHaveLength(7);
  });

  it('pages with limit and continue: every session once, in order', async () => {
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const page: SessionList = await list(`limit=7${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((s) => s.name));
      token = page.continue;
      pages++;
    } while (token);
    expect(pages).toBe(4);
    expect(seen).toEqual((await list('limit=500')).items.map((s) => s.name));
  });

  it('answers bad filters with a coded 400 that names the field, on JSON and on the page', async () => {
    const cases: Array<[string, string]> = [
      ['phase=Bogus', 'phase'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['labelSelector=team%20in%20(', 'labelSelector'],
      ['continue=not-a-token', 'continue'],
      ['namespace=Bad_NS', 'namespace'],
      ['pool=a&pool=b', 'pool'],
    ];
    for (const [query, field] of cases) {
      const res = await app.inject(`/api/v1/sessions?${query}`);
      expect(res.statusCode, query).toBe(400);
      const body = res.json() as { error: { code: string; message: string; fields: Array<{ field: string }> } };
      expect(body.error.code, query).toBe('DF_ERR_BAD_REQUEST');
      expect(body.error.fields.map((f) => f.field), query).toEqual([field]);
      expect(body.error.message.length, query).toBeGreaterThan(10);
    }
    const page = await app.inject('/sessions?limit=0&q=kept');
    expect(page.statusCode).toBe(400);
    expect(page.body).toContain('limit must be a whole number from 1 to 500');
    expect(page.body).toContain('value="kept"');
    expect((await app.inject(`/api/v1/sessions/${namespace}/nope`)).statusCode).toBe(404);
    expect((await app.inject(`/sessions/${namespace}/nope`)).statusCode).toBe(404);
  });

  it('renders the list page with the filters kept in the form and the links', async () => {
    const res = await app.inject(`/sessions?pool=beta&limit=3&labelSelector=${encodeURIComponent('team=search')}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/<option value="beta" selected>/);
    expect(res.body).toContain('value="team=search"');
    expect(res.body.match(/id="session-row__/g)).toHaveLength(3);
    // The next page link keeps the filters.
    const next = res.body.match(/href="(\/sessions\?[^"]*continue=[^"]+)"/)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toContain('pool=beta');
    expect(next).toContain('limit=3');
    const page2 = await app.inject(next!);
    expect(page2.body.match(/id="session-row__/g)).toHaveLength(3);
    // htmx asks for the results only.
    const fragment = await app.inject({ url: '/sessions?pool=beta', headers: { 'hx-request': 'true', 'hx-target': 'sessions-results' } });
    expect(fragment.body.trimStart()).toMatch(/^(<% \/\*.*\*\/ %>)?\s*<section id="sessions-results"/);
    expect(fragment.body).not.toContain('<html');
  });

  it('shows a session with progress, results and artifacts, untrusted strings as text and unsafe URLs not as links', async () => {
    const running = (await app.inject(`/sessions/${namespace}/run-00`)).body;
    expect(running).toContain('3/12 tests');
    expect(running).toContain('&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;bold&lt;/b&gt;');
    expect(running).not.toContain('<img src=x');
    expect(running).not.toContain('evil.example.com');
    expect(running).not.toContain('watch stream');

    const done = (await app.inject(`/sessions/${namespace}/run-01`)).body;
    expect(done).toContain('11 passed');
    expect(done).toContain('6m 36s');
    expect(done).toContain('href="https://artifacts.example.com/logcat.txt"');
    expect(done).not.toContain('href="https://evil.example.com');
    expect(done).toContain('No download link: https://evil.example.com is not an allowed origin');

    const json = (await app.inject(`/api/v1/sessions/${namespace}/run-01`)).json() as { artifacts: Array<{ name: string; sizeBytes: number }>; results: unknown };
    expect(json.artifacts.map((a) => a.name)).toEqual(['video.mp4', 'logcat.txt']);
    expect(json.results).toEqual({ passed: 11, failed: 1, skipped: 0 });
  });

  it('explains why a Pending session waits: its place in the queue, or a pool that does not exist', async () => {
    const queued = (await app.inject(`/sessions/${namespace}/run-03`)).body;
    expect(queued).toContain('Why it is waiting');
    // run-00 is Running and run-01 finished, so alpha's queue holds run-03 … run-22 minus those.
    expect(queued).toMatch(/Place <strong>\d+<\/strong> of 14 in the queue of pool/);
    expect(queued).toContain('0 idle, 0 booting');
    const orphan = (await app.inject(`/sessions/${namespace}/orphan`)).body;
    expect(orphan).toContain('DevicePool <strong>gone</strong> does not exist');
  });

  it('pushes session changes live: the changed row to every list of a query it is in, the new phase to the session page', async () => {
    const topic = (query: string) => `${base}/live?topic=${encodeURIComponent(`sessions?${query}`)}`;
    const alphaList = await openStream(topic(`namespace=${namespace}&pool=alpha`));
    const betaList = await openStream(topic(`namespace=${namespace}&pool=beta`));
    const pageStream = await openStream(`${base}/live?topic=${encodeURIComponent(`session:${namespace}/run-04`)}`);
    streams.push(alphaList, betaList, pageStream);
    // The snapshot: every row of the page, in order, newest first.
    const snapshot = await alphaList.next((e) => e.event === 'update' && e.data.includes('data-list-batch'));
    expect(snapshot.data).toContain('data-snapshot');
    const order = snapshot.data.match(/data-order="([^"]*)"/)![1]!.split(' ');
    expect(order).toHaveLength(16);
    expect(order[0]).toContain('run-22');
    await betaList.next((e) => e.event === 'update' && e.data.includes('data-list-batch'));
    await pageStream.next((e) => e.event === 'update' && e.data.includes('data-session-phase'));
    const from = alphaList.events.length;
    const betaFrom = betaList.events.length;
    const pageFrom = pageStream.events.length;

    await setSessionStatus(namespace, 'run-04', { phase: 'Assigned', device: { name: 'alpha-1' }, assignedAt: '2026-11-23T10:00:00Z' });

    const batch = await alphaList.next((e) => e.event === 'update' && e.data.includes('run-04'), { from });
    expect(batch.data).not.toContain('data-snapshot');
    expect(batch.data).toMatch(/<tr id="session-row__[^"]*__run-04"[^>]*data-phase="Assigned"/);
    expect(batch.data).toContain('alpha-1');
    expect(batch.data).toContain('hx-swap-oob="beforeend:#sessions-inbox"');
    // The next change sends only the row that changed, swapped by id, and no order (same page).
    const next = alphaList.events.length;
    await setSessionStatus(namespace, 'run-04', { phase: 'Running', startTime: '2026-11-23T10:01:00Z' });
    const one = await alphaList.next((e) => e.event === 'update' && e.data.includes('data-phase="Running"') && e.data.includes('run-04'), { from: next });
    expect(one.data.match(/<tr id="session-row__/g)).toHaveLength(1);
    expect(one.data).not.toContain('data-order');
    const detail = await pageStream.next((e) => e.event === 'update' && e.data.includes('data-session-phase>Assigned<'), { from: pageFrom });
    expect(detail.data).toContain('alpha-1');
    // run-04 is in alpha: beta's viewers get nothing for it.
    await setSessionStatus(namespace, 'run-05', { phase: 'Assigned', assignedAt: '2026-11-23T10:00:00Z' });
    await betaList.next((e) => e.event === 'update' && e.data.includes('run-05'), { from: betaFrom });
    expect(betaList.events.slice(betaFrom).some((e) => e.data.includes('run-04'))).toBe(false);
  });
});
