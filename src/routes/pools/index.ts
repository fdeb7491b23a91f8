// Pools: the list, one pool's device grid (filterable by state, filters in the URL), and
// one device with its WebRTC stream.
import type { FastifyInstance } from 'fastify';
import { AppError, notFound } from '../../http/errors.js';
import { formFields, registerFormBody } from '../../http/form-body.js';
import { PoolActions, ConfirmationRequired } from './actions.js';
import { MAX_REPLICAS, MIN_REPLICAS } from '../../farm/pool-scale.js';
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
  const { catalog, cluster, config } = app.farm;
  const actions = new PoolActions(cluster, config.namespaces);
  registerFormBody(app);

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
      scale: pool && { href: `${poolHref(namespace, name)}/scale`, replicas: pool.replicas, min: MIN_REPLICAS, max: MAX_REPLICAS },
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
      actions: { restartHref: `${deviceHref(namespace, name, device)}/restart` },
    });
  });

  // Scale: the answer is said beside the form (#pool-scale-answer). A scale that would end
  // sessions answers with a confirmation naming them, whose button posts again with confirm.
  app.post<{ Params: PoolParams }>('/pools/:namespace/:name/scale', async (request, reply) => {
    const { namespace, name } = request.params;
    const fields = formFields(request.body);
    try {
      const r = await actions.scale(namespace, name, { replicas: fields.replicas, confirm: fields.confirm });
      const message = r.changed
        ? `Scaling ${name} from ${r.previous} to ${r.replicas} devices: they follow as the operator reconciles.`
        : `${name} already asks for ${r.replicas} devices: nothing changed.`;
      return reply.view('/partials/flash', { level: 'info', message });
    } catch (err) {
      if (err instanceof ConfirmationRequired) {
        return reply.view('/partials/scale-confirm', { message: err.message, lost: err.lost, href: `${poolHref(namespace, name)}/scale`, replicas: String(fields.replicas) });
      }
      if (err instanceof AppError && err.status === 422) {
        return reply.code(422).view('/partials/flash', { level: 'error', message: err.message, code: err.code });
      }
      throw err;
    }
  });

  // Restart: public/app.js sends the session the confirmation named (from the live facts).
  app.post<{ Params: PoolParams & { device: string } }>('/pools/:namespace/:name/devices/:device/restart', async (request, reply) => {
    const { namespace, name, device } = request.params;
    const fields = formFields(request.body);
    const r = await actions.restartDevice(namespace, name, device, { session: fields.session || undefined });
    const message = `Restarting ${device}: its pod ${r.pod} was deleted and the pool recreates it.${r.session ? ` Session ${r.session} ends.` : ''}`;
    return reply.view('/partials/flash', { level: 'info', message });
  });
}
