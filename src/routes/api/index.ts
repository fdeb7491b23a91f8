// The JSON API for scripts and CI: same data as the pages, stable field names (see
// src/farm/json.ts and the README), errors as { error: { code, message } }.
import type { FastifyInstance } from 'fastify';
import { deviceJSON, poolJSON, templateJSON } from '../../farm/json.js';
import { deviceHistoryJSON } from '../../farm/insights/json.js';
import { badRequest, notFound } from '../../http/errors.js';
import { nameParam, namespaceParam } from '../../http/params.js';
import { naturalCompare, parseStateFilter } from '../../farm/devices.js';
import { SSE_HEADERS } from '../live/index.js';
import openApiRoutes from './openapi.js';
import { isVisible, requireVisible, streamScope, visibleNamespaces } from '../../http/visibility.js';
import sessionLogRoutes from './session-logs.js';
import sessionApiRoutes from './sessions.js';
import poolApiRoutes from './pools.js';

interface PoolParams {
  namespace: string;
  name: string;
}

export default async function apiRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.farm;

  // Until the first list, an empty answer would be a lie: src/http/read-access.ts says so.
  await app.register(sessionApiRoutes);
  await app.register(sessionLogRoutes);
  await app.register(openApiRoutes);
  await app.register(poolApiRoutes);

  app.get<{ Querystring: { namespace?: string } }>('/api/v1/templates', async (request) => {
    const ns = namespaceParam(request.query.namespace);
    const visible = await visibleNamespaces(app, request, 'templates');
    return { items: store.listTemplates().filter((t) => (!ns || t.namespace === ns) && isVisible(visible, t.namespace)).map(templateJSON) };
  });

  app.get<{ Querystring: { namespace?: string } }>('/api/v1/pools', async (request) => {
    const ns = namespaceParam(request.query.namespace);
    const visible = await visibleNamespaces(app, request, 'pools');
    return { items: store.listPools(ns).filter((p) => isVisible(visible, p.namespace)).map(poolJSON) };
  });

  app.get<{ Params: PoolParams }>('/api/v1/pools/:namespace/:name', async (request) => {
    await requireVisible(app, request, 'pools', request.params.namespace);
    const pool = mustGetPool(request.params);
    const now = Date.now();
    return { ...poolJSON(pool), deviceList: [...pool.devices].sort((a, b) => naturalCompare(a.name, b.name)).map((d) => deviceJSON(d, now)) };
  });

  app.get<{ Params: PoolParams; Querystring: { state?: string } }>('/api/v1/pools/:namespace/:name/devices', async (request) => {
    await requireVisible(app, request, 'pools', request.params.namespace);
    const pool = mustGetPool(request.params);
    const states = parseStateFilter(request.query.state);
    if (request.query.state && states.length === 0) throw badRequest('state must be one or more of Booting, Idle, Busy, Unhealthy (comma-separated).');
    const now = Date.now();
    const devices = [...pool.devices].filter((d) => states.length === 0 || states.includes(d.state)).sort((a, b) => naturalCompare(a.name, b.name));
    return { namespace: pool.namespace, pool: pool.name, items: devices.map((d) => deviceJSON(d, now)) };
  });

  // One device with its last 24 hours, as its page shows them (Unhealthy episodes: as this
  // dashboard saw them since its start).
  app.get<{ Params: PoolParams & { device: string } }>('/api/v1/pools/:namespace/:name/devices/:device', async (request) => {
    await requireVisible(app, request, 'pools', request.params.namespace);
    const pool = mustGetPool(request.params);
    const device = pool.devices.find((d) => d.name === request.params.device);
    if (!device) throw notFound(`Device ${request.params.device} of pool ${pool.namespace}/${pool.name}`);
    const now = Date.now();
    return { namespace: pool.namespace, pool: pool.name, ...deviceJSON(device, now), history: deviceHistoryJSON(app.farm.catalog.insights.deviceHistory(pool.namespace, pool.name, device.name, now), now) };
  });

  app.get<{ Querystring: { namespace?: string; pool?: string } }>('/api/v1/events', async (request, reply) => {
    const namespace = namespaceParam(request.query.namespace);
    const pool = nameParam(request.query.pool, 'pool', 'DevicePool');
    // A stream needs list and watch. Asked again as the cached answers expire (or on a 403
    // elsewhere), so granted and revoked namespaces follow within the access TTL.
    const who = request.identity;
    const scope = who && (await streamScope(app, who));
    app.farm.admission.admit(request.ip, reply.raw);
    reply.hijack();
    reply.raw.writeHead(200, SSE_HEADERS);
    reply.raw.flushHeaders();
    const lastEventId = request.headers['last-event-id'];
    const scoped = who && scope ? { visible: scope.visible, scope: { user: who.user, until: scope.until, refresh: () => streamScope(app, who) } } : {};
    app.farm.feed.connect(reply.raw, { namespace, pool, ...scoped }, typeof lastEventId === 'string' ? lastEventId : undefined);
  });

  function mustGetPool({ namespace, name }: PoolParams) {
    const pool = store.getPool(namespace, name);
    if (!pool) throw notFound(`DevicePool ${namespace}/${name}`);
    return pool;
  }
}
