// The OpenAPI document is made from route schemas alone: paths in OpenAPI's spelling, path,
// query and header parameters, bodies, named shapes as references, and the DF_ERR_* codes
// of each error status. Pure: routes as app.farm.routes records them.
import { describe, expect, it } from 'vitest';
import { Session } from '../../src/farm/json-schema.js';
import { pathParams } from '../../src/http/schema.js';
import { openApiDocument, openApiPath } from '../../src/routes/api/openapi.js';

type Doc = { paths: Record<string, Record<string, Record<string, unknown>>>; components: { schemas: Record<string, unknown> } };

describe('openApiDocument', () => {
  it("spells Fastify's paths as OpenAPI does, escaped colons included", () => {
    expect(openApiPath('/api/v1/sessions/:namespace/:name/logs')).toBe('/api/v1/sessions/{namespace}/{name}/logs');
    expect(openApiPath('/api/v1/sessions::batch')).toBe('/api/v1/sessions:batch');
  });

  it('describes each /api/v1 route from its schema, and nothing else', () => {
    const schema = {
      summary: 'Retry',
      params: pathParams('namespace', 'name'),
      querystring: { type: 'object', required: ['why'], properties: { why: { type: 'string', description: 'Why.' } } },
      headers: { type: 'object', properties: { 'idempotency-key': { type: 'string' } } },
      body: { type: ['object', 'null'], properties: { note: { type: 'string' } } },
      response: { 201: Session },
      responseHeaders: { 201: { Location: { description: 'Where.', schema: { type: 'string' } } } },
      errors: { '409': { codes: ['DF_ERR_SESSION_NOT_FINISHED'], description: 'Not ended' } },
    };
    const doc = openApiDocument([
      { method: 'POST', url: '/api/v1/sessions/:namespace/:name/retry', schema },
      { method: 'HEAD', url: '/api/v1/sessions/:namespace/:name/retry' },
      { method: 'GET', url: '/sessions' },
    ]) as unknown as Doc;
    expect(Object.keys(doc.paths)).toEqual(['/api/v1/sessions/{namespace}/{name}/retry']);
    const op = doc.paths['/api/v1/sessions/{namespace}/{name}/retry']!.post!;
    expect(op.summary).toBe('Retry');
    expect(op.parameters).toEqual([
      { name: 'namespace', in: 'path', required: true, schema: { type: 'string', maxLength: 63 } },
      { name: 'name', in: 'path', required: true, schema: { type: 'string', maxLength: 253 } },
      { name: 'why', in: 'query', required: true, description: 'Why.', schema: { type: 'string' } },
      { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } },
    ]);
    expect(op.requestBody).toEqual({ required: false, content: { 'application/json': { schema: schema.body } } });
    expect(op.responses).toEqual({
      '201': { description: 'Created', headers: schema.responseHeaders[201], content: { 'application/json': { schema: { $ref: '#/components/schemas/Session' } } } },
      '409': { description: 'Not ended (`DF_ERR_SESSION_NOT_FINISHED`)', 'x-df-codes': ['DF_ERR_SESSION_NOT_FINISHED'], content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    });
  });

  it('spells each named shape out once, under components, and refers to it elsewhere', () => {
    const doc = openApiDocument([]) as unknown as Doc;
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Session', 'SessionSummary', 'Pool', 'Device', 'Insights', 'InsightFigures', 'Error']));
    expect((doc.components.schemas.Session as { properties: Record<string, unknown> }).properties.phase).toBeDefined();
    expect((doc.components.schemas.Insights as { properties: { farm: unknown } }).properties.farm).toEqual({ $ref: '#/components/schemas/InsightFigures' });
  });
});
