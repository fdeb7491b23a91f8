// The JSON API's machine-readable contract: an OpenAPI 3.1 document at /api/v1/openapi.json,
// generated from the schemas the /api/v1 routes are served with (app.farm.routes, recorded
// as each route is registered): their path parameters, query strings, headers and bodies,
// their response shapes (src/farm/json-schema.ts, listed once under components) and the
// DF_ERR_* codes each answers by status (the schema's `errors`). Nothing here describes a
// route by hand, so a route and its description cannot drift apart;
// test/integration/openapi.test.ts checks every route is here and real answers validate.
import type { FastifyInstance } from 'fastify';
import type { ServedRoute } from '../../app.js';
import { API_SHAPES } from '../../farm/json-schema.js';
import { errorBody, headerName, type DocumentedSchema, type JsonSchema } from '../../http/schema.js';

const INFO = {
  title: 'DroidFarm Dashboard API',
  version: 'v1',
  description:
    "The farm's DevicePools, devices and TestSessions as JSON, for scripts and CI. Field names are a contract: fields are added, never renamed or removed. Errors are `{ error: { code, message, fields? } }` with a stable `DF_ERR_*` code; the README's error table says what each means.",
};

const COMPONENTS: Readonly<Record<string, JsonSchema>> = { ...API_SHAPES, Error: errorBody };
const REF_OF = new Map<unknown, string>(Object.entries(COMPONENTS).map(([name, schema]) => [schema, `#/components/schemas/${name}`]));

/** A schema with the named shapes in it replaced by references to them (the shapes themselves spelt out once). */
function withRefs(schema: unknown, root = true): unknown {
  if (!root && REF_OF.has(schema)) return { $ref: REF_OF.get(schema) };
  if (Array.isArray(schema)) return schema.map((s) => withRefs(s, false));
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, withRefs(v, false)]));
}

/** /api/v1/sessions/:namespace/:name and /api/v1/sessions::batch as OpenAPI spells them. */
export function openApiPath(url: string): string {
  return url.replace(/::/g, '\0').replace(/:(\w+)/g, '{$1}').replace(/\0/g, ':');
}

type Where = 'path' | 'query' | 'header';

function parameters(schema: unknown, where: Where): JsonSchema[] {
  const s = schema as { properties?: Record<string, JsonSchema>; required?: readonly string[] } | undefined;
  return Object.entries(s?.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name: where === 'header' ? headerName(name) : name,
      in: where,
      required: where === 'path' || (s?.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: withRefs(rest),
    };
  });
}

function responses(schema: DocumentedSchema): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  const headers = (status: string) => (schema.responseHeaders?.[status] ? { headers: schema.responseHeaders[status] } : {});
  for (const [status, body] of Object.entries((schema.response ?? {}) as Record<string, unknown>)) {
    out[status] = { description: Number(status) === 201 ? 'Created' : Number(status) === 202 ? 'Accepted' : 'OK', ...headers(status), content: { 'application/json': { schema: withRefs(body, false) } } };
  }
  for (const [status, { type, description }] of Object.entries(schema.produces ?? {})) {
    out[status] = { description, content: { [type]: { schema: { type: 'string' } } } };
  }
  for (const [status, { codes, description }] of Object.entries(schema.errors ?? {})) {
    out[status] = { description: `${description} (${codes.map((c) => `\`${c}\``).join(', ')})`, 'x-df-codes': codes, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

function operation(schema: DocumentedSchema): JsonSchema {
  const body = schema.requestBody ?? schema.body;
  const params = [...parameters(schema.params, 'path'), ...parameters(schema.querystring, 'query'), ...parameters(schema.headers, 'header')];
  return {
    ...(schema.summary ? { summary: schema.summary } : {}),
    ...(schema.description ? { description: schema.description } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(body ? { requestBody: { required: !(body as { type?: unknown }).type?.toString().includes('null'), content: { 'application/json': { schema: withRefs(body) } } } } : {}),
    responses: responses(schema),
  };
}

/** The document for the routes served under /api/v1. */
export function openApiDocument(routes: ReadonlyArray<ServedRoute>): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    if (!route.url.startsWith('/api/v1') || route.method === 'HEAD') continue;
    (paths[openApiPath(route.url)] ??= {})[route.method.toLowerCase()] = operation(route.schema ?? {});
  }
  return { openapi: '3.1.0', info: INFO, paths, components: { schemas: Object.fromEntries(Object.entries(COMPONENTS).map(([name, shape]) => [name, withRefs(shape)])) } };
}

export default async function openApiRoutes(app: FastifyInstance): Promise<void> {
  let doc: JsonSchema | undefined;
  // Built on the first request: every route is registered by then.
  app.get('/api/v1/openapi.json', { schema: { summary: 'This document', response: { 200: { type: 'object', additionalProperties: true } } } }, async () => (doc ??= openApiDocument(app.farm.routes)));
}
