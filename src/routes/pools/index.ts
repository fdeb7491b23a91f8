// Pools: the list, one pool's device grid (filterable by state, filters in the URL), and
// one device with its WebRTC stream.
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../http/errors.js';
import { countDevices } from '../../farm/devices.js';
import { timeView } from '../../http/format.js';
import { deviceHref, parseStateFilter, poolHref, topics } from '../../live/fragments.js';
import { poolFilterView } from '../../view/pool-filter.js';

/** How many of a pool's Events its page lists. */
const RECENT_EVENTS = 20;

interface PoolParams {
  namespace: string;
  name: string;
}

export default async function poolRoutes(app: FastifyInstance): Promise<void> {
  const { catalog } = app.farm;

  app.get('/pools', async (_request, reply) =>
    reply.view('/pages/pools', { title: 'Pools', topics: [topics.pools], table: catalog.poolsTable().data }),
  );

  app.get<{ Params: PoolParams; Querystring: { state?: string | string[] } }>('/pools/:namespace/:name', async (request, reply) => {
    const { namespace, name } = request.params;
    const grid = catalog.deviceGrid(namespace, name);
    const pool = app.farm.store.getPool(namespace, name);
    if (!pool && app.farm.store.syncStatus().synced) throw notFound(`DevicePool ${namespace}/${name}`);
    const now = Date.now();
    return reply.view('/pages/pool', {
      title: `${name} · Pools`,
      topics: [topics.pool(namespace, name)],
      header: catalog.poolHeader(namespace, name).data,
      grid: grid.data,
      yamlHref: `${poolHref(namespace, name)}/yaml`,
      filter: poolFilterView(poolHref(namespace, name), namespace, name, parseStateFilter(request.query.state), pool && countDevices(pool.devices)),
      // What the operator said about the pool, newest first. Read at page load only: no
      // fragment carries events yet, so a new one shows on the next load.
      events: app.farm.store
        .eventsFor('DevicePool', namespace, name)
        .slice(-RECENT_EVENTS)
        .reverse()
        .map((e) => ({ type: e.type, reason: e.reason, message: e.message, count: e.count, at: timeView(e.lastAt, now) })),
    });
  });

  app.get<{ Params: PoolParams & { device: string } }>('/pools/:namespace/:name/devices/:device', async (request, reply) => {
    const { namespace, name, device } = request.params;
    const facts = catalog.deviceFacts(namespace, name, device);
    if (!facts.data.device && app.farm.store.syncStatus().synced) throw notFound(`Device ${device} of pool ${namespace}/${name}`);
    return reply.view('/pages/device', {
      title: `${device} · ${name}`,
      topics: [topics.device(namespace, name, device)],
      facts: facts.data,
      stream: facts.data.stream,
      yamlHref: `${deviceHref(namespace, name, device)}/yaml`,
    });
  });
}
