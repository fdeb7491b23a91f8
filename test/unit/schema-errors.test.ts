// The schema error formatter: Ajv's refusals of a route schema become the dashboard's coded
// errors (400 DF_ERR_BAD_REQUEST for the URL, 422 DF_ERR_INVALID for a body, 414 for an
// overlong path name) with the field and the words the schema gives. Pure: a real Fastify
// instance without routes beyond the ones here, answered with inject.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../../src/http/errors.js';
import { formatSchemaError, nameQuery, namespaceQuery, pathParams, registerSchemas, says } from '../../src/http/schema.js';

describe('formatSchemaError', () => {
  it('words a query refusal with the field and the cause the schema gives', () => {
    const err = formatSchemaError([{ instancePath: '/limit', keyword: 'minimum', data: 0, parentSchema: says({ type: 'integer' }, { cause: 'must be a whole number from 1 to 500' }) }], 'querystring');
    expect(describeError(err)).toEqual({
      status: 400,
      body: { error: { code: 'DF_ERR_BAD_REQUEST', message: 'limit must be a whole number from 1 to 500.', fields: [{ field: 'limit', message: 'must be a whole number from 1 to 500' }] } },
    });
  });

  it('says a repeated parameter was given more than once', () => {
    const err = formatSchemaError([{ instancePath: '/pool', keyword: 'type', schema: 'string', data: ['a', 'b'], parentSchema: { type: 'string' } }], 'querystring');
    expect(err.message).toBe('pool was given more than once; give it once.');
    expect(err.fields).toEqual([{ field: 'pool', message: 'was given more than once; give it once' }]);
  });

  it('answers a body with 422 DF_ERR_INVALID, what was not done, and every field once', () => {
    const root = says({ type: 'object', properties: { replicas: says({ type: 'integer' }, { cause: 'must be a whole number from 0 to 500' }) } }, { message: 'The pool was not scaled' });
    const one = formatSchemaError([{ instancePath: '', keyword: 'required', params: { missingProperty: 'replicas' }, parentSchema: root }], 'body');
    expect([one.status, one.code, one.message]).toEqual([422, 'DF_ERR_INVALID', 'The pool was not scaled: replicas must be a whole number from 0 to 500.']);
    const many = formatSchemaError(
      [
        { instancePath: '/apps/2/apkURL', keyword: 'pattern', parentSchema: { type: 'string' }, message: 'must match pattern "^https://"' },
        { instancePath: '/apps/2/apkURL', keyword: 'maxLength', parentSchema: { type: 'string' }, message: 'must NOT have more than 2048 characters' },
        { instancePath: '', keyword: 'additionalProperties', params: { additionalProperty: 'extra' }, parentSchema: root },
      ],
      'body',
    );
    expect(many.message).toBe('The pool was not scaled: fix the fields listed.');
    expect(many.fields).toEqual([
      { field: 'apps[2].apkURL', message: 'must match pattern "^https://"' },
      { field: 'extra', message: 'not a field of this request' },
    ]);
  });

  it('answers a path name longer than Kubernetes allows with 414 DF_ERR_NAME_TOO_LONG', () => {
    const err = formatSchemaError([{ instancePath: '/name', keyword: 'maxLength', parentSchema: { type: 'string', maxLength: 253 } }], 'params');
    expect([err.status, err.code]).toEqual([414, 'DF_ERR_NAME_TOO_LONG']);
  });

  it('names headers as people write them', () => {
    const err = formatSchemaError([{ instancePath: '/idempotency-key', keyword: 'type', schema: 'string', data: ['a', 'b'], parentSchema: { type: 'string' } }], 'headers');
    expect(err.fields[0]?.field).toBe('Idempotency-Key');
  });
});

describe('route schemas on a Fastify instance', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify({ routerOptions: { maxParamLength: 1024 } });
    registerSchemas(app);
    app.setErrorHandler((err, _request, reply) => {
      const { status, body } = describeError(err);
      return reply.code(status).send(body);
    });
    const querystring = { type: 'object', properties: { namespace: namespaceQuery, pool: nameQuery('DevicePool', 'a pool'), limit: says({ type: 'integer', minimum: 1, maximum: 500 }, { cause: 'must be a whole number from 1 to 500' }) } };
    app.get('/q', { schema: { querystring } }, async (request) => request.query);
    app.get('/p/:namespace/:name', { schema: { params: pathParams('namespace', 'name') } }, async (request) => request.params);
    const body = says({ type: ['object', 'null'], required: ['replicas'], properties: { replicas: says({ type: 'integer', minimum: 0, maximum: 500 }, { cause: 'must be a whole number from 0 to 500' }), confirm: { type: 'boolean' } } }, { message: 'The pool was not scaled' });
    app.post('/b', { schema: { body } }, async (request) => ({ body: request.body }));
    await app.ready();
  });
  afterAll(() => app.close());

  const cases: Array<[string, number, string, string[]]> = [
    ['/q?namespace=Bad_NS', 400, 'DF_ERR_BAD_REQUEST', ['namespace']],
    ['/q?pool=a..b', 400, 'DF_ERR_BAD_REQUEST', ['pool']],
    ['/q?pool=a&pool=b', 400, 'DF_ERR_BAD_REQUEST', ['pool']],
    ['/q?limit=ten', 400, 'DF_ERR_BAD_REQUEST', ['limit']],
    ['/q?limit=501', 400, 'DF_ERR_BAD_REQUEST', ['limit']],
    [`/p/ns/${'x'.repeat(254)}`, 414, 'DF_ERR_NAME_TOO_LONG', []],
    [`/p/${'x'.repeat(64)}/a`, 414, 'DF_ERR_NAME_TOO_LONG', []],
  ];
  it.each(cases)('GET %s → %i %s', async (url, status, code, fields) => {
    const res = await app.inject(url);
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
    expect((res.json().error.fields ?? []).map((f: { field: string }) => f.field)).toEqual(fields);
  });

  it('coerces the URL, takes a blank query value as left out, and keeps a good request whole', async () => {
    expect((await app.inject('/q?limit=7&namespace=&pool=alpha')).json()).toEqual({ limit: 7, pool: 'alpha' });
    expect((await app.inject('/p/team-a/run.1')).json()).toEqual({ namespace: 'team-a', name: 'run.1' });
  });

  it('takes a body as sent: no coercion, every problem at once, and none for a missing body', async () => {
    const post = (payload: unknown) => app.inject({ method: 'POST', url: '/b', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
    for (const bad of [{ replicas: '4' }, { replicas: null }, { replicas: 2.5 }, { replicas: 501 }, {}]) {
      const res = await post(bad);
      expect(res.statusCode, JSON.stringify(bad)).toBe(422);
      expect(res.json().error).toMatchObject({ code: 'DF_ERR_INVALID', message: 'The pool was not scaled: replicas must be a whole number from 0 to 500.', fields: [{ field: 'replicas' }] });
    }
    const both = await post({ replicas: -1, confirm: 'yes' });
    expect(both.json().error.fields.map((f: { field: string }) => f.field)).toEqual(['replicas', 'confirm']);
    expect((await post({ replicas: 4, extra: 1 })).json()).toEqual({ body: { replicas: 4, extra: 1 } });
    expect((await app.inject({ method: 'POST', url: '/b' })).statusCode).toBe(200);
  });
});
