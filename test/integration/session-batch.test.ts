// Bulk actions on sessions against the real API server: a bulk stop of 50 sessions of which
// 3 have already ended reports 47 done and 3 refused (each with its reason), by name through
// JSON and as "all matching this filter" from the page; retry and delete report each
// session too; bad requests change nothing.
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminKubeConfig, freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate, devices, setDevices, setSessionStatus } from '../helpers/farm.js';

const SESSIONS = { group: 'droidfarm.io', version: 'v1alpha1', plural: 'testsessions' };
type Report = { action: string; total: number; done: number; refused: number; results: Array<{ namespace: string; name: string; ok: boolean; status: number; error?: { code: string; message: string }; created?: string }> };

describe('bulk actions on sessions against the real API server', () => {
  let namespace: string;
  let app: FastifyInstance;
  const custom = () => adminKubeConfig().makeApiClient(CustomObjectsApi);
  const cancelRequested = async (name: string) => ((await custom().getNamespacedCustomObject({ ...SESSIONS, namespace, name })) as { spec: { cancelRequested?: boolean } }).spec.cancelRequested === true;
  const postJson = (body: unknown) => app.inject({ method: 'POST', url: '/api/v1/sessions:batch', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const fromPage = (payload: string): InjectOptions => ({
    method: 'POST',
    url: '/sessions/batch',
    payload,
    headers: { 'hx-request': 'true', 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80', host: 'localhost:80', 'content-type': 'application/x-www-form-urlencoded' },
  });

  /** `count` sessions `<prefix>-<i>` labelled batch=<prefix>, Running but the `finished` indexes (Succeeded). */
  async function sessions(prefix: string, count: number, finished: number[]): Promise<string[]> {
    const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    for (let i = 0; i < count; i += 10) {
      await Promise.all(
        names.slice(i, i + 10).map(async (name, j) => {
          await createSession(namespace, name, { pool: 'alpha', labels: { batch: prefix } });
          await setSessionStatus(namespace, name, { phase: finished.includes(i + j) ? 'Succeeded' : 'Running' });
        }),
      );
    }
    await waitFor(`the store to hold ${prefix}'s sessions`, () => names.every((n) => app.farm.store.getSession(namespace, n)?.phase !== 'Pending' && app.farm.store.getSession(namespace, n) !== undefined), { timeoutMs: 20_000 });
    return names;
  }

  beforeAll(async () => {
    namespace = await freshNamespace('batch');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 2);
    await setDevices(namespace, 'alpha', devices('alpha', 2));
    app = await startDashboard({ namespaces: [namespace] });
    await waitFor('the dashboard synced', () => app.farm.store.syncStatus().synced);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('stops 50 sessions by name, 3 already finished: 47 done, 3 refused with their reason', async () => {
    const names = await sessions('stop', 50, [4, 20, 41]);
    const res = await postJson({ action: 'cancel', sessions: names.map((name) => ({ namespace, name })) });
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json() as Report;
    expect(report).toMatchObject({ action: 'cancel', total: 50, done: 47, refused: 3 });
    expect(report.results.map((r) => r.name)).toEqual(names);
    const refused = report.results.filter((r) => !r.ok);
    expect(refused.map((r) => r.name)).toEqual(['stop-4', 'stop-20', 'stop-41']);
    for (const r of refused) {
      expect(r.status).toBe(409);
      expect(r.error).toEqual({ code: 'DF_ERR_SESSION_FINISHED', message: `TestSession ${r.name} already ended (Succeeded): there is nothing to stop.` });
    }
    expect(await cancelRequested('stop-0')).toBe(true);
    expect(await cancelRequested('stop-49')).toBe(true);
    expect(await cancelRequested('stop-4')).toBe(false);
    // Comes back through the watch.
    await waitFor('the store to see every stop', () => names.filter((n) => app.farm.store.getSession(namespace, n)?.spec.cancelRequested).length === 47);
  });

  it('stops "all matching this filter" from the page, and reports each session in the HTML', async () => {
    const names = await sessions('page', 50, [0, 1, 2]);
    const query = new URLSearchParams({ namespace, labelSelector: 'batch=page', limit: '20' }).toString();
    const res = await app.inject(fromPage(new URLSearchParams({ action: 'cancel', all: 'true', query, session: `${namespace}/stop-0` }).toString()));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain('data-done="47" data-refused="3"');
    expect(res.body.match(/data-batch-result="done"/g)).toHaveLength(47);
    expect(res.body.match(/data-batch-result="refused"/g)).toHaveLength(3);
    expect(res.body).toContain('DF_ERR_SESSION_FINISHED');
    expect(await cancelRequested(names[49]!)).toBe(true);
    // Checked rows: only those.
    const some = await app.inject(fromPage(new URLSearchParams([['action', 'cancel'], ['session', `${namespace}/page-0`], ['session', `${namespace}/page-7`]]).toString()));
    expect(some.body).toContain('data-done="1" data-refused="1"');
  });

  it('retries and deletes in bulk, each reported; bad requests are refused whole', async () => {
    await sessions('old', 3, [0, 1]);
    const retry = (await postJson({ action: 'retry', filter: { namespace, labelSelector: 'batch=old' } })).json() as Report;
    expect(retry).toMatchObject({ total: 3, done: 2, refused: 1 });
    expect(retry.results.find((r) => r.name === 'old-2')?.error?.code).toBe('DF_ERR_SESSION_NOT_FINISHED');
    expect(retry.results.filter((r) => r.ok).every((r) => r.status === 201 && r.created?.startsWith(`${r.name}-retry-`))).toBe(true);
    const del = (await postJson({ action: 'delete', sessions: [{ namespace, name: 'old-0' }, { namespace, name: 'old-2' }, { namespace, name: 'nope' }] })).json() as Report;
    expect(del).toMatchObject({ total: 3, done: 1, refused: 2 });
    expect(del.results.map((r) => [r.name, r.ok, r.status])).toEqual([
      ['old-0', true, 202],
      ['old-2', false, 409],
      ['nope', false, 404],
    ]);

    for (const [body, field] of [
      [{ action: 'explode', sessions: [{ namespace, name: 'old-1' }] }, 'action'],
      [{ action: 'cancel', sessions: [] }, 'sessions'],
      [{ action: 'cancel', sessions: [{ namespace, name: 'Bad_Name' }] }, 'sessions[0]'],
      [{ action: 'cancel', filter: { namespace, labelSelector: 'batch in (' } }, 'labelSelector'],
      [{ action: 'cancel', filter: { namespace }, sessions: [] }, 'filter'],
      [{ action: 'cancel', filter: { namespace, labelSelector: 'batch=none' } }, 'sessions'],
    ] as const) {
      const res = await postJson(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(res.json().error.code).toBe('DF_ERR_INVALID');
      expect(res.json().error.fields.map((f: { field: string }) => f.field), JSON.stringify(body)).toContain(field);
    }
    // More than 500 at once is refused before anything is written.
    const many = Array.from({ length: 501 }, (_, i) => ({ namespace, name: `x-${i}` }));
    expect((await postJson({ action: 'cancel', sessions: many })).json()).toMatchObject({ error: { code: 'DF_ERR_INVALID' } });
  });
});
