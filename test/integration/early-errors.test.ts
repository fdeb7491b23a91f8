// Errors raised before a route runs (the write guard in onRequest, the body limit, the
// media type, a JSON body that does not parse, a read-only dashboard, a path parameter
// longer than any name): a browser gets the coded HTML error page, inside the layout; /api
// and JSON clients get coded JSON; htmx gets the coded flash fragment. Never a FST_ code,
// never Fastify's own wording.
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createTemplate, devices, setDevices } from '../helpers/farm.js';

/** What a browser sends when it navigates (a plain form post, a typed URL). */
const BROWSER = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', host: 'localhost:80' };
const LONG = 'x'.repeat(1100);

function expectPage(res: LightMyRequestResponse, status: number, code: string, message: RegExp): void {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^text\/html/);
  // The whole layout rendered: navigation, the built stylesheet, the sync badge.
  expect(res.body).toMatch(/^<!doctype html>/);
  expect(res.body).toContain('aria-label="Main"');
  expect(res.body).toMatch(/\/static\/app\.css\?v=[0-9a-f]{10}/);
  expect(res.body).toContain(`Error ${status}`);
  expect(res.body).toContain(code);
  expect(res.body).toMatch(message);
  expect(res.body).not.toContain('FST_');
}

function expectJson(res: LightMyRequestResponse, status: number, code: string, message: RegExp): void {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json() as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(message);
  expect(res.body).not.toContain('FST_');
}

describe('errors raised before a route runs', () => {
  let namespace: string;
  let app: FastifyInstance;
  let readOnly: FastifyInstance;
  const inject = (opts: InjectOptions) => app.inject(opts);

  beforeAll(async () => {
    namespace = await freshNamespace('early-errors');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 1);
    await setDevices(namespace, 'alpha', devices('alpha', 1));
    [app, readOnly] = await Promise.all([startDashboard({ namespaces: [namespace] }), startDashboard({ namespaces: [namespace], args: ['--read-only'] })]);
    await waitFor('both dashboards synced', () => app.farm.store.syncStatus().synced && readOnly.farm.store.syncStatus().synced);
  });
  afterAll(async () => {
    await Promise.all([app?.close(), readOnly?.close()]);
  });

  it('refuses a cross-site write with DF_ERR_CROSS_SITE: a page for the browser, JSON for /api', async () => {
    const page = await inject({ method: 'POST', url: '/sessions', headers: { ...BROWSER, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, payload: 'pool=alpha' });
    expectPage(page, 403, 'DF_ERR_CROSS_SITE', /did not come from the dashboard/);
    const json = await inject({ method: 'POST', url: '/api/v1/sessions', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, payload: '{}' });
    expectJson(json, 403, 'DF_ERR_CROSS_SITE', /did not come from the dashboard/);
  });

  it('refuses a body over the limit with 413 DF_ERR_TOO_LARGE, also to htmx as a flash', async () => {
    const big = `pool=alpha&labels=${'x'.repeat(70_000)}`;
    const page = await inject({ method: 'POST', url: '/sessions', headers: { ...BROWSER, 'content-type': 'application/x-www-form-urlencoded' }, payload: big });
    expectPage(page, 413, 'DF_ERR_TOO_LARGE', /larger than the dashboard accepts/);
    const htmx = await inject({ method: 'POST', url: '/sessions', headers: { host: 'localhost:80', 'hx-request': 'true', 'sec-fetch-site': 'same-origin', origin: 'http://localhost:80', 'content-type': 'application/x-www-form-urlencoded' }, payload: big });
    expect(htmx.statusCode).toBe(413);
    expect(htmx.headers['hx-retarget']).toBe('#flash');
    expect(htmx.body).toContain('DF_ERR_TOO_LARGE');
    expect(htmx.body).not.toContain('<html');
    const json = await inject({ method: 'POST', url: '/api/v1/sessions', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ namespace, pool: 'alpha', labels: { note: 'x'.repeat(70_000) } }) });
    expectJson(json, 413, 'DF_ERR_TOO_LARGE', /larger than the dashboard accepts/);
  });

  it('refuses a body it cannot read with 415 DF_ERR_UNSUPPORTED_MEDIA_TYPE', async () => {
    const page = await inject({ method: 'POST', url: '/sessions', headers: { ...BROWSER, 'content-type': 'application/xml' }, payload: '<session/>' });
    expectPage(page, 415, 'DF_ERR_UNSUPPORTED_MEDIA_TYPE', /Content-Type: application\/json/);
    for (const type of ['application/xml', 'text/plain', 'application/x-www-form-urlencoded']) {
      const json = await inject({ method: 'POST', url: '/api/v1/sessions', headers: { 'content-type': type }, payload: 'pool=alpha' });
      expectJson(json, 415, 'DF_ERR_UNSUPPORTED_MEDIA_TYPE', /Content-Type: application\/json/);
    }
  });

  it('refuses a JSON body that does not parse with 400 DF_ERR_BAD_REQUEST', async () => {
    const page = await inject({ method: 'POST', url: '/sessions', headers: { ...BROWSER, 'content-type': 'application/json' }, payload: '{"pool": ' });
    expectPage(page, 400, 'DF_ERR_BAD_REQUEST', /not valid JSON/);
    for (const payload of ['{"pool": ', '', '{"__proto__": {"admin": true}}']) {
      const json = await inject({ method: 'POST', url: '/api/v1/sessions', headers: { 'content-type': 'application/json' }, payload });
      expectJson(json, 400, 'DF_ERR_BAD_REQUEST', /JSON/);
    }
  });

  it('refuses every write on a read-only dashboard with DF_ERR_READ_ONLY', async () => {
    const page = await readOnly.inject({ method: 'POST', url: `/sessions/${namespace}/any/delete`, headers: { ...BROWSER, 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expectPage(page, 403, 'DF_ERR_READ_ONLY', /read-only/);
    // The read-only page's layout says so too (it hides write buttons).
    expect(page.body).toContain('data-read-only');
    const json = await readOnly.inject({ method: 'POST', url: '/api/v1/sessions', headers: { 'content-type': 'application/json' }, payload: '{}' });
    expectJson(json, 403, 'DF_ERR_READ_ONLY', /read-only/);
  });

  it('answers a path parameter longer than any Kubernetes name with 414 DF_ERR_NAME_TOO_LONG', async () => {
    expectPage(await inject({ url: `/sessions/${namespace}/${LONG}`, headers: BROWSER }), 414, 'DF_ERR_NAME_TOO_LONG', /253 characters/);
    expectJson(await inject({ url: `/api/v1/sessions/${namespace}/${LONG}` }), 414, 'DF_ERR_NAME_TOO_LONG', /253 characters/);
    expectJson(await inject({ url: `/pools/${namespace}/${LONG}`, headers: { accept: 'application/json' } }), 414, 'DF_ERR_NAME_TOO_LONG', /253 characters/);
  });

  it('answers a path that is not valid percent-encoding with 400 DF_ERR_BAD_REQUEST', async () => {
    expectPage(await inject({ url: `/sessions/${namespace}/%E0%A4%A`, headers: BROWSER }), 400, 'DF_ERR_BAD_REQUEST', /percent-encode/i);
    expectJson(await inject({ url: `/api/v1/sessions/${namespace}/%E0%A4%A` }), 400, 'DF_ERR_BAD_REQUEST', /percent-encode/i);
  });
});
