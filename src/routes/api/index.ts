// The JSON API for scripts and CI: same data as the pages, stable field names (see
// src/farm/json.ts and the README), errors as { error: { code, message } }. Each route's
// schema says its parameters, its answer's shape (src/farm/json-schema.ts) and its error
// codes (answers.ts); openapi.ts serves them as the API's OpenAPI document.
import type { FastifyInstance } from 'fastify';
import { deviceJSON, poolJSON, templateJSON } from '../../farm/json.js';
import { deviceHistoryJSON } from '../../farm/insights/json.js';
import { badRequest, notFound } from '../../http/errors.js';
import { Device, DeviceDetail, Pool, Template } from '../../farm/json-schema.js';
import { DEVICE_STATES } from '../../farm/types.js';
import { nameQuery, namespaceQuery, oneOrMany, pathParams, type DocumentedSchema } from '../../http/schema.js';
import { NOT_FOUND, READ_ERRORS } from './answers.js';
import { devicesInOrder, parseStateFilter } from '../../farm/devices.js';
import { SSE_HEADERS } from '../live/index.js';
import openApiRoutes from './openapi.js';
import { isVisible, requireVisible, streamScope, visibleNamespaces } from '../../http/visibility.js';
import type { ScopeListener } from '../../http/scope-follow.js';
import sessionLogRoutes from './session-logs.js';
import sessionApiRoutes from './sessions.js';
import poolApiRoutes from './pools.js';

interface PoolParams {
  namespace: string;
  name: string;
}

const byNamespace = { type: 'object', properties: { namespace: namespaceQuery } } as const;
const poolParams = pathParams('namespace', 'name');
const list = (items: object) => ({ type: 'object', required: ['items'], properties: { items: { type: 'array', items } } });

const SCHEMAS = {
  templates: { summary: 'DeviceTemplates', querystring: byNamespace, response: { 200: list(Template) }, errors: READ_ERRORS },
  pools: { summary: 'DevicePools with their device counts', querystring: byNamespace, response: { 200: list(Pool) }, errors: READ_ERRORS },
  pool: {
    summary: 'One DevicePool with its devices',
    params: poolParams,
    response: { 200: { allOf: [Pool, { type: 'object', required: ['deviceList'], properties: { deviceList: { type: 'array', items: Device } } }] } },
    errors: { ...READ_ERRORS, ...NOT_FOUND },
  },
  devices: {
    summary: "A pool's devices, by name",
    params: poolParams,
    querystring: { type: 'object', properties: { state: oneOrMany(`Only these states (repeat, or comma-separated): ${DEVICE_STATES.join(', ')}.`) } },
    response: { 200: { type: 'object', required: ['namespace', 'pool', 'items'], properties: { namespace: { type: 'string' }, pool: { type: 'string' }, items: { type: 'array', items: Device } } } },
    errors: { ...READ_ERRORS, ...NOT_FOUND },
  },
  device: {
    summary: "One device with its last 24 hours: sessions that ended on it, its failure rate against its pool's, its last boot, and the Unhealthy episodes this dashboard saw since it started",
    params: pathParams('namespace', 'name', 'device'),
    response: { 200: DeviceDetail },
    errors: { ...READ_ERRORS, ...NOT_FOUND },
  },
  events: {
    summary: 'Every change as a Server-Sent Event (pool, device, session), resumable with Last-Event-ID',
    querystring: { type: 'object', properties: { namespace: namespaceQuery, pool: nameQuery('DevicePool', 'Only this DevicePool and its sessions.') } },
    headers: { type: 'object', properties: { 'last-event-id': { type: 'string', description: 'Resume after this event: the missed events, or a `reset` event when they are gone.' } } },
    produces: { 200: { type: 'text/event-stream', description: 'An endless text/event-stream' } },
    errors: {
      ...READ_ERRORS,
      '429': { codes: ['DF_ERR_TOO_MANY_STREAMS', 'DF_ERR_RATE_LIMITED'], description: 'This address has its most live streams open; Retry-After' },
      '503': { codes: ['DF_ERR_LIVE_FULL', 'DF_ERR_KUBE_UNAVAILABLE'], description: 'The dashboard serves its most live streams; Retry-After' },
    },
  },
} satisfies Record<string, DocumentedSchema>;

export default async function apiRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.farm;

  // Until the first list, an empty answer would be a lie: src/http/read-access.ts says so.
  await app.register(sessionApiRoutes);
  await app.register(sessionLogRoutes);
  await app.register(openApiRoutes);
  await app.register(poolApiRoutes);

  app.get<{ Querystring: { namespace?: string } }>('/api/v1/templates', { schema: SCHEMAS.templates }, async (request) => {
    const ns = request.query.namespace;
    const visible = await visibleNamespaces(app, request, 'templates');
    return { items: store.listTemplates().filter((t) => (!ns || t.namespace === ns) && isVisible(visible, t.namespace)).map(templateJSON) };
  });

  app.get<{ Querystring: { namespace?: string } }>('/api/v1/pools', { schema: SCHEMAS.pools }, async (request) => {
    const ns = request.query.namespace;
    const visible = await visibleNamespaces(app, request, 'pools');
    return { items: store.listPools(ns).filter((p) => isVisible(visible, p.namespace)).map(poolJSON) };
  });

  app.get<{ Params: PoolParams }>('/api/v1/pools/:namespace/:name', { schema: SCHEMAS.pool }, async (request) => {
    await requireVisible(app, request, 'pools', request.params.namespace);
    const pool = mustGetPool(request.params);
    const now = Date.now();
    return { ...poolJSON(pool), deviceList: devicesInOrder(pool.devices).map((d) => deviceJSON(d, now)) };
  });

  app.get<{ Params: PoolParams; Querystring: { state?: string | string[] } }>('/api/v1/pools/:namespace/:name/devices', { schema: SCHEMAS.devices }, async (request) => {
    await requireVisible(app, request, 'pools', request.params.namespace);
    const pool = mustGetPool(request.params);
    const states = parseStateFilter(request.query.state);
    if (request.query.state && states.length === 0) throw badRequest(`state must be one or more of ${DEVICE_STATES.join(', ')} (comma-separated).`, [{ field: 'state', message: `one or more of ${DEVICE_STATES.join(', ')}` }]);
    const now = Date.now();
    const devices = devicesInOrder(pool.devices).filter((d) => states.length === 0 || states.includes(d.state));
    return { namespace: pool.namespace, pool: pool.name, items: devices.map((d) => deviceJSON(d, now)) };
  });

  // One device with its last 24 hours, as its page shows them (Unhealthy episodes: as this
  // dashboard saw them since its start).
  app.get<{ Params: PoolParams & { device: string } }>('/api/v1/pools/:namespace/:name/devices/:device', { schema: SCHEMAS.device }, async (request) => {
    await requireVisible(app, request, 'pools', request.params.namespace);
    const pool = mustGetPool(request.params);
    const device = pool.devices.find((d) => d.name === request.params.device);
    if (!device) throw notFound(`Device ${request.params.device} of pool ${pool.namespace}/${pool.name}`);
    const now = Date.now();
    return { namespace: pool.namespace, pool: pool.name, ...deviceJSON(device, now), history: deviceHistoryJSON(app.farm.catalog.insights.deviceHistory(pool.namespace, pool.name, device.name, now), now) };
  });

  app.get<{ Querystring: { namespace?: string; pool?: string } }>('/api/v1/events', { schema: SCHEMAS.events }, async (request, reply) => {
    const { namespace, pool } = request.query;
    // A stream needs list and watch. Asked again as the cached answers expire (or on a 403
    // elsewhere), so granted and revoked namespaces follow within the access TTL.
    const who = request.identity;
    const scope = who && (await streamScope(app, who));
    app.farm.admission.admit(request.ip, reply.raw);
    reply.hijack();
    reply.raw.writeHead(200, SSE_HEADERS);
    reply.raw.flushHeaders();
    const lastEventId = request.headers['last-event-id'];
    const scoped = who && scope ? { visible: scope.visible, follow: (onVisible: ScopeListener) => app.farm.scopes.follow(who, scope.until, onVisible) } : {};
    app.farm.feed.connect(reply.raw, { namespace, pool, ...scoped }, typeof lastEventId === 'string' ? lastEventId : undefined);
  });

  function mustGetPool({ namespace, name }: PoolParams) {
    const pool = store.getPool(namespace, name);
    if (!pool) throw notFound(`DevicePool ${namespace}/${name}`);
    return pool;
  }
}
