// The JSON API's contract (/api/v1/openapi.json) against the dashboard on the real API
// server: every /api/v1 route is described, and real answers (lists, objects, writes,
// errors) validate against the document's own schemas.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createExamplePools } from '../helpers/examples.js';
import { createSession, setSessionStatus } from '../helpers/farm.js';
import { insightsJSON } from '../../src/farm/insights/json.js';
import { sessionJSON } from '../../src/farm/json.js';

/** Every key path of a value ([] for array items): what a response schema must not drop. */
function keyPaths(value: unknown, at = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => keyPaths(v, `${at}[]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [`${at}.${k}`, ...keyPaths(v, `${at}.${k}`)]);
}
const keys = (value: unknown) => [...new Set(keyPaths(value))].sort();

interface Doc {
  openapi: string;
  paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; required: boolean }>; responses: Record<string, { content?: Record<string, { schema: unknown }>; 'x-df-codes'?: string[] }> }>>;
}

describe('the API description', () => {
  let namespace: string;
  let app: FastifyInstance;
  let doc: Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) });

  /** Checks an answer against the document's schema for its path, method and status. */
  function expectValid(res: LightMyRequestResponse, path: string, method: string): void {
    const pointer = ['paths', path, method, 'responses', String(res.statusCode), 'content', 'application/json', 'schema'].map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
    const responses = doc.paths[path]?.[method]?.responses;
    expect(responses?.[String(res.statusCode)], `${method.toUpperCase()} ${path} answered ${res.statusCode}, which the document does not list`).toBeDefined();
    const validate = ajv.getSchema(`openapi.json#/${pointer}`) ?? ajv.compile({ $ref: `openapi.json#/${pointer}` });
    const body: unknown = res.json();
    expect(validate(body), `${method.toUpperCase()} ${path} ${res.statusCode}: ${JSON.stringify(validate.errors)}\n${res.body.slice(0, 500)}`).toBe(true);
  }

  beforeAll(async () => {
    namespace = await freshNamespace('openapi');
    await createExamplePools(namespace);
    await createSession(namespace, 'described', { pool: 'smoke', labels: { suite: 'contract' }, runner: { image: 'registry.example.com/e2e:1', env: [{ name: 'TOKEN', value: 'secret' }] } });
    await setSessionStatus(namespace, 'described', { phase: 'Succeeded', results: { passed: 3, failed: 0, skipped: 1 }, startTime: '2026-12-01T10:00:00Z', completionTime: '2026-12-01T10:05:00Z', artifacts: [{ name: 'junit.xml', kind: 'junit', url: 'https://artifacts.example.com/junit.xml', sizeBytes: 1200 }] });
    app = await startDashboard({ namespaces: [namespace] });
    await waitFor('the session to be read', async () => (await app.inject(`/api/v1/sessions/${namespace}/described`)).statusCode === 200 || undefined);
    const res = await app.inject('/api/v1/openapi.json');
    expect(res.statusCode).toBe(200);
    doc = res.json() as Doc;
    ajv.addSchema({ ...(doc as object), $id: 'openapi.json' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is OpenAPI 3.1 and describes every /api/v1 route the dashboard serves, and nothing else', () => {
    expect(doc.openapi).toBe('3.1.0');
    const served = app.farm.routes
      .filter((r) => r.url.startsWith('/api/v1') && r.method !== 'HEAD')
      .map((r) => `${r.method.toLowerCase()} ${r.url.replace(/::/g, '\0').replace(/:(\w+)/g, '{$1}').replace(/\0/g, ':')}`);
    const described = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    expect(served.length).toBeGreaterThan(10);
    expect(described.sort()).toEqual([...new Set(served)].sort());
  });

  it('is made from the routes: each path parameter, the query of the filters, and the codes of each error status', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        expect((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name), `${method} ${path}`).toEqual(inPath);
        for (const [status, answer] of Object.entries(op.responses)) {
          if (Number(status) >= 400) expect(answer['x-df-codes']?.every((c) => /^DF_ERR_[A-Z_]+$/.test(c)), `${method} ${path} ${status}`).toBe(true);
        }
      }
    }
    const list = doc.paths['/api/v1/sessions']!.get!;
    expect(list.parameters!.map((p) => p.name)).toEqual(['namespace', 'pool', 'phase', 'labelSelector', 'q', 'limit', 'continue']);
    expect(doc.paths['/api/v1/sessions']!.post!.parameters!.map((p) => `${p.in} ${p.name}`)).toEqual(['header Idempotency-Key']);
    expect(doc.paths['/api/v1/sessions/{namespace}/{name}/logs']!.get!.responses['409']!['x-df-codes']).toEqual(['DF_ERR_NO_RUNNER_POD']);
  });

  it('keeps every field the JSON shapes write: the response schemas drop nothing', async () => {
    const session = await app.inject(`/api/v1/sessions/${namespace}/described`);
    expect(keys(session.json())).toEqual(keys(JSON.parse(JSON.stringify(sessionJSON(app.farm.store.getSession(namespace, 'described')!)))));
    const insights = await app.inject(`/api/v1/insights?window=24h&namespace=${namespace}`);
    const direct = insightsJSON(app.farm.catalog.insights.report({ window: '24h', namespace }, Date.now()));
    expect(keys(insights.json())).toEqual(keys(JSON.parse(JSON.stringify(direct))));
  });

  it('matches the answers of every read', async () => {
    const reads: Array<[string, string]> = [
      [`/api/v1/templates?namespace=${namespace}`, '/api/v1/templates'],
      [`/api/v1/pools?namespace=${namespace}`, '/api/v1/pools'],
      [`/api/v1/pools/${namespace}/smoke`, '/api/v1/pools/{namespace}/{name}'],
      [`/api/v1/pools/${namespace}/smoke/devices?state=Idle`, '/api/v1/pools/{namespace}/{name}/devices'],
      [`/api/v1/pools/${namespace}/smoke/devices/smoke-0`, '/api/v1/pools/{namespace}/{name}/devices/{device}'],
      [`/api/v1/pools/${namespace}/regression/devices/regression-2`, '/api/v1/pools/{namespace}/{name}/devices/{device}'],
      [`/api/v1/sessions?namespace=${namespace}&limit=1`, '/api/v1/sessions'],
      [`/api/v1/sessions/${namespace}/described`, '/api/v1/sessions/{namespace}/{name}'],
      [`/api/v1/insights?window=24h&namespace=${namespace}`, '/api/v1/insights'],
    ];
    for (const [url, path] of reads) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(200);
      expectValid(res, path, 'get');
    }
  });

  it('matches the answers of writes and the errors a script meets', async () => {
    const json = { 'content-type': 'application/json' };
    const created = await app.inject({ method: 'POST', url: '/api/v1/sessions', headers: json, payload: { namespace, pool: 'smoke', labels: { suite: 'contract' } } });
    expect(created.statusCode).toBe(201);
    expectValid(created, '/api/v1/sessions', 'post');
    const name = (created.json() as { name: string }).name;
    await waitFor('the new session to be read', async () => (await app.inject(`/api/v1/sessions/${namespace}/${name}`)).statusCode === 200 || undefined);
    const stopped = await app.inject({ method: 'POST', url: `/api/v1/sessions/${namespace}/${name}/cancel` });
    expect(stopped.statusCode).toBe(200);
    expectValid(stopped, '/api/v1/sessions/{namespace}/{name}/cancel', 'post');
    const retried = await app.inject({ method: 'POST', url: `/api/v1/sessions/${namespace}/described/retry` });
    expect(retried.statusCode).toBe(201);
    expectValid(retried, '/api/v1/sessions/{namespace}/{name}/retry', 'post');
    const deleted = await app.inject({ method: 'DELETE', url: `/api/v1/sessions/${namespace}/described` });
    expect(deleted.statusCode).toBe(202);
    expectValid(deleted, '/api/v1/sessions/{namespace}/{name}', 'delete');

    const errors: Array<[LightMyRequestResponse, string, string, number]> = [
      [await app.inject({ method: 'POST', url: '/api/v1/sessions', headers: json, payload: { namespace, pool: 'smoke', timeoutSeconds: 5 } }), '/api/v1/sessions', 'post', 422],
      [await app.inject({ method: 'POST', url: '/api/v1/sessions', headers: { 'content-type': 'text/plain' }, payload: 'x' }), '/api/v1/sessions', 'post', 415],
      [await app.inject(`/api/v1/sessions/${namespace}/nobody`), '/api/v1/sessions/{namespace}/{name}', 'get', 404],
      [await app.inject('/api/v1/sessions?limit=0'), '/api/v1/sessions', 'get', 400],
      [await app.inject(`/api/v1/pools/${namespace}/smoke/devices?state=Asleep`), '/api/v1/pools/{namespace}/{name}/devices', 'get', 400],
      [await app.inject(`/api/v1/pools/${namespace}/smoke/devices/nobody`), '/api/v1/pools/{namespace}/{name}/devices/{device}', 'get', 404],
      [await app.inject({ method: 'DELETE', url: `/api/v1/sessions/${namespace}/${(retried.json() as { name: string }).name}` }), '/api/v1/sessions/{namespace}/{name}', 'delete', 409],
      // Refused by the routes' schemas: the same coded shape, documented the same way.
      [await app.inject({ method: 'POST', url: `/api/v1/pools/${namespace}/smoke/scale`, headers: json, payload: { replicas: 'many' } }), '/api/v1/pools/{namespace}/{name}/scale', 'post', 422],
      [await app.inject({ method: 'POST', url: '/api/v1/sessions:batch', headers: json, payload: { action: 'explode', sessions: [] } }), '/api/v1/sessions:batch', 'post', 422],
      [await app.inject(`/api/v1/sessions/${namespace}/described/logs?tailLines=-1`), '/api/v1/sessions/{namespace}/{name}/logs', 'get', 400],
      [await app.inject(`/api/v1/pools?namespace=Bad_NS`), '/api/v1/pools', 'get', 400],
      [await app.inject(`/api/v1/sessions/${namespace}/${'x'.repeat(254)}`), '/api/v1/sessions/{namespace}/{name}', 'get', 414],
      [await app.inject({ method: 'POST', url: `/api/v1/pools/${namespace}/smoke/lease`, headers: json, payload: { minutes: 7 } }), '/api/v1/pools/{namespace}/{name}/lease', 'post', 422],
    ];
    for (const [res, path, method, status] of errors) {
      expect(res.statusCode, `${method} ${path}`).toBe(status);
      expectValid(res, path, method);
    }
  });

  it("runs the README's curl examples of the JSON API, and their answers are as the document says", async () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const commands = readme
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .filter((l) => /^curl .*localhost:8080\/api\/v1\//.test(l) && !/\s-s?N\s/.test(l)); // streams (-N) never end
    expect(commands.length).toBeGreaterThanOrEqual(4);
    const templates = Object.keys(doc.paths).map((p) => [p, new RegExp(`^${p.replace(/\{\w+\}/g, '[^/]+')}$`)] as const);
    for (const command of commands) {
      const url = /'?localhost:8080(\/api\/v1\/[^'\s]*)'?/.exec(command)![1]!;
      const method = /-X (\w+)/.exec(command)?.[1] ?? 'GET';
      const body = /-d '([^']*)'/.exec(command)?.[1]?.replaceAll('droidfarm-demo', namespace);
      const res = await app.inject({ method: method as 'GET', url, ...(body ? { headers: { 'content-type': 'application/json' }, payload: body } : {}) });
      expect(res.statusCode, command).toBeLessThan(500);
      const path = templates.find(([, re]) => re.test(url.split('?')[0]!))?.[0];
      expect(path, command).toBeDefined();
      expectValid(res, path!, method.toLowerCase());
    }
  });
});
