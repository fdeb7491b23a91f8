// The dashboard against the real API server: probes, sync, RBAC failures shown plainly.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createExamplePools } from '../helpers/examples.js';
import { domId } from '../../src/view/dom-id.js';

describe('dashboard against the real API server', () => {
  let namespace: string;
  let other: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    namespace = await freshNamespace('app');
    other = await freshNamespace('app-other');
    await createExamplePools(namespace);
    await createExamplePools(other);
    app = await startDashboard({ namespaces: [namespace] });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers /healthz at once and /readyz once every watch has listed', async () => {
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    const ready = await waitFor('readyz 200', async () => {
      const res = await app.inject('/readyz');
      return res.statusCode === 200 && res.json();
    });
    expect(ready).toMatchObject({ status: 'ready', synced: true, stale: false });
  });

  it('shows the pools of the watched namespace only, with counts from the cluster', async () => {
    const res = await waitFor('farm page with pools', async () => {
      const r = await app.inject('/');
      return r.body.includes(domId('pool-card', namespace)) && r;
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).not.toContain(other);
    const pools = app.farm.store.listPools();
    expect(pools.length).toBeGreaterThan(0);
    for (const pool of pools) {
      expect(pool.namespace).toBe(namespace);
      expect(res.body).toContain(`id="${domId('pool-card', namespace, pool.name)}"`);
    }
  });

  it('sends a strict content security policy and no inline script or style', async () => {
    const res = await app.inject('/');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.body).not.toMatch(/\sstyle=/);
    expect(res.body).not.toMatch(/\son[a-z]+=/);
  });

  it('serves htmx 2 and its SSE extension from itself', async () => {
    const page = (await app.inject('/')).body;
    const htmxPath = page.match(/src="(\/static\/vendor\/htmx\.min\.js\?v=[^"]+)"/)?.[1];
    expect(htmxPath).toBeDefined();
    const htmx = await app.inject(htmxPath!);
    expect(htmx.statusCode).toBe(200);
    expect(htmx.body).toMatch(/version:"2\.\d+\.\d+"/);
    expect((await app.inject('/static/vendor/sse.js')).statusCode).toBe(200);
    expect((await app.inject('/static/app.css')).statusCode).toBe(200);
  });

  it('answers unknown paths with a coded 404, as JSON when asked', async () => {
    const html = await app.inject('/no/such/page');
    expect(html.statusCode).toBe(404);
    expect(html.body).toContain('DF_ERR_NOT_FOUND');
    const json = await app.inject({ url: '/no/such/page', headers: { accept: 'application/json' } });
    expect(json.json()).toEqual({ error: { code: 'DF_ERR_NOT_FOUND', message: 'There is no page at /no/such/page.' } });
  });
});

describe('dashboard whose credentials may not read DroidFarm resources', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    const namespace = await freshNamespace('app-denied');
    app = await startDashboard({ namespaces: [namespace], user: 'alice', sync: { backoff: { initialMs: 50, maxMs: 200 } } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('stays alive but not ready, and says which permission is missing', async () => {
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    const body = await waitFor('readyz to report the 403', async () => {
      const res = await app.inject('/readyz');
      const json = res.json() as { reasons: string[] };
      return res.statusCode === 503 && json.reasons.some((r) => r.includes('403') && r.startsWith('pools')) && json;
    });
    expect(body.reasons.join('\n')).toMatch(/pools.*403.*forbidden/is);
    // Issue 9.5: the page says what is wrong instead of "Waiting for the first data…" forever.
    const page = await app.inject('/');
    expect(page.statusCode).toBe(403);
    expect(page.body).not.toContain('Waiting for the first data from the cluster');
    expect(page.body).toContain('DF_ERR_KUBE_FORBIDDEN');
    expect(page.body).toMatch(/The dashboard may not list [a-z]+ in app-denied-/);
  });
});
