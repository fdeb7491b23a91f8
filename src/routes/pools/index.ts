// Pools: the list, one pool's device grid (filterable by state, filters in the URL), and
// one device with its WebRTC stream.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SessionView } from '../../farm/types.js';
import { AppError, notFound } from '../../http/errors.js';
import { formFields, registerFormBody } from '../../http/form-body.js';
import { ConfirmationRequired } from '../../kube/pool-writer.js';
import { MAX_REPLICAS, MIN_REPLICAS } from '../../farm/pool-scale.js';
import { DEFAULT_LEASE_MINUTES, LEASE_MINUTES } from '../../farm/lease.js';
import type { DeviceView } from '../../farm/types.js';
import { newRequestId } from '../../kube/session-objects.js';
import { leaseWriter, poolWriter } from '../writers.js';
import { countDevices, parseStateFilter } from '../../farm/devices.js';
import { timeView } from '../../view/format.js';
import { topics } from '../../live/topics.js';
import { deviceHref, poolHref, sessionHref, wallHref } from '../../view/links.js';
import { deviceHistoryView } from '../../view/device-history.js';
import { poolFilterView } from '../../view/pool-filter.js';
import { requireVisible, userScope } from '../../http/visibility.js';
import { formField, oneOrMany, pathParams, type DocumentedSchema } from '../../http/schema.js';
import { isDnsSubdomain } from '../../kube/names.js';

/** How many of a pool's Events its page lists. */
const RECENT_EVENTS = 20;

interface PoolParams {
  namespace: string;
  name: string;
}

/** A form's fields; what they must hold is the action's rule (scale, lease), said beside the form. */
const form = (...fields: string[]) => ({ type: ['object', 'null'], properties: Object.fromEntries(fields.map((f) => [f, formField(`The form's ${f} field.`)])) }) as const;
const pool = pathParams('namespace', 'name');
const device = pathParams('namespace', 'name', 'device');

const SCHEMAS = {
  pool: { summary: "One pool's device grid", params: pool, querystring: { type: 'object', properties: { state: oneOrMany('Only these device states (repeat, or comma-separated).') } } },
  wall: { summary: "The pool's device wall", params: pool, querystring: { type: 'object', properties: { device: oneOrMany('Only these devices (repeat, or comma-separated).') } } },
  device: { summary: 'One device with its stream', params: device },
  scale: { summary: 'Scale the pool (the form)', params: pool, body: form('replicas', 'confirm') },
  restart: { summary: 'Restart the device (the form)', params: device, body: form('session') },
  deviceLease: { summary: 'Lease this device (the form)', params: device, body: form('minutes', 'holder', 'reason', 'requestId') },
  poolLease: { summary: 'Lease any idle device of the pool (the form)', params: pool, body: form('minutes', 'holder', 'reason', 'requestId') },
  leaseSession: { summary: "Extend or release the device's lease (the form)", params: device, body: form('session') },
} satisfies Record<string, DocumentedSchema>;

export default async function poolRoutes(app: FastifyInstance): Promise<void> {
  const { catalog, config } = app.farm;
  // Per request: writes go to the apiserver as the person who asked (--auth proxy|bearer).
  const actionsOf = (request: FastifyRequest) => poolWriter(app, request);
  const leasesOf = (request: FastifyRequest) => leaseWriter(app, request);
  registerFormBody(app);

  app.get('/pools', async (request, reply) =>
    reply.view('/pages/pools', { title: 'Pools', topics: [topics.pools], table: catalog.poolsTable(await userScope(app, request)).data }),
  );

  app.get<{ Params: PoolParams; Querystring: { state?: string | string[] } }>('/pools/:namespace/:name', { schema: SCHEMAS.pool }, async (request, reply) => {
    const { namespace, name } = request.params;
    await requireVisible(app, request, 'pools', namespace);
    const grid = catalog.deviceGrid(namespace, name);
    const pool = app.farm.store.getPool(namespace, name);
    if (!pool && app.farm.store.syncStatus().synced) throw notFound(`DevicePool ${namespace}/${name}`);
    const now = Date.now();
    return reply.view('/pages/pool', {
      title: `${name} · Pools`,
      topics: [topics.pool(namespace, name)],
      header: catalog.poolHeader(namespace, name).data,
      verdict: catalog.poolVerdict(namespace, name).data,
      grid: grid.data,
      yamlHref: `${poolHref(namespace, name)}/yaml`,
      wallHref: wallHref(namespace, name),
      wallMax: config.wallSize,
      lease: { ...leaseForm(), href: `${poolHref(namespace, name)}/lease` },
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

  // The device wall: up to --wall-size live streams at once, the busy devices or the ones
  // picked (?device=, repeatable). public/app.js frames them from the wall's live data.
  app.get<{ Params: PoolParams; Querystring: { device?: string | string[] } }>('/pools/:namespace/:name/wall', { schema: SCHEMAS.wall }, async (request, reply) => {
    const { namespace, name } = request.params;
    const pool = app.farm.store.getPool(namespace, name);
    if (!pool && app.farm.store.syncStatus().synced) throw notFound(`DevicePool ${namespace}/${name}`);
    const raw = request.query.device;
    const picked = [...new Set((Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean))];
    if (picked.some((d) => !isDnsSubdomain(d))) throw new AppError(400, 'DF_ERR_BAD_REQUEST', 'device must name devices of the pool (lowercase letters, digits, - and .).', [{ field: 'device', message: 'not a device name' }]);
    return reply.view('/pages/wall', {
      title: `Wall · ${name}`,
      namespace,
      name,
      poolHref: poolHref(namespace, name),
      topics: [topics.wall(namespace, name)],
      state: catalog.wallState(namespace, name).data,
      picked,
      max: config.wallSize,
    });
  });

  app.get<{ Params: PoolParams & { device: string } }>('/pools/:namespace/:name/devices/:device', { schema: SCHEMAS.device }, async (request, reply) => {
    const { namespace, name, device } = request.params;
    await requireVisible(app, request, 'pools', namespace);
    const facts = catalog.deviceFacts(namespace, name, device);
    const now = Date.now();
    if (!facts.data.device && app.farm.store.syncStatus().synced) throw notFound(`Device ${device} of pool ${namespace}/${name}`);
    return reply.view('/pages/device', {
      title: `${device} · ${name}`,
      topics: [topics.device(namespace, name, device)],
      facts: facts.data,
      poolHref: poolHref(namespace, name),
      stream: facts.data.stream,
      history: deviceHistoryView(catalog.insights.deviceHistory(namespace, name, device, now), now),
      yamlHref: `${deviceHref(namespace, name, device)}/yaml`,
      actions: {
        restartHref: `${deviceHref(namespace, name, device)}/restart`,
        leaseHref: `${deviceHref(namespace, name, device)}/lease`,
        extendHref: `${deviceHref(namespace, name, device)}/lease/extend`,
        releaseHref: `${deviceHref(namespace, name, device)}/lease/release`,
      },
      lease: leaseForm(),
      recipes: facts.data.device ? connectRecipes(namespace, facts.data.device as DeviceView) : undefined,
    });
  });

  // Scale: the answer is said beside the form (#pool-scale-answer). A scale that would end
  // sessions answers with a confirmation naming them, whose button posts again with confirm.
  app.post<{ Params: PoolParams }>('/pools/:namespace/:name/scale', { schema: SCHEMAS.scale }, async (request, reply) => {
    const { namespace, name } = request.params;
    const fields = formFields(request.body);
    try {
      const r = await actionsOf(request).scale(namespace, name, { replicas: fields.replicas, confirm: fields.confirm });
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
  app.post<{ Params: PoolParams & { device: string } }>('/pools/:namespace/:name/devices/:device/restart', { schema: SCHEMAS.restart }, async (request, reply) => {
    const { namespace, name, device } = request.params;
    const fields = formFields(request.body);
    const r = await actionsOf(request).restartDevice(namespace, name, device, { session: fields.session || undefined });
    const message = `Restarting ${device}: its pod ${r.pod} was deleted and the pool recreates it.${r.session ? ` Session ${r.session} ends.` : ''}`;
    return reply.view('/partials/flash', { level: 'info', message });
  });

  // Leases. The answer is said beside the form; a fresh request id comes with it, so the
  // next lease is a new one while a double submit of this one finds the first.
  async function leaseAnswer(reply: FastifyReply, make: () => Promise<{ session: SessionView; created: boolean }>, what: string) {
    try {
      const { session, created } = await make();
      const message = `${created ? 'Lease' : 'Already requested: lease'} ${session.name} for ${what}: the device is yours once it is idle, until Release or the time is up.`;
      const [flash, id] = await Promise.all([
        app.view('/partials/flash', { level: 'info', message }),
        app.view('/partials/lease-request-id', { requestId: newRequestId(), href: sessionHref(session.namespace, session.name) }),
      ]);
      return reply.type('text/html; charset=utf-8').send(`${flash}\n${id}`);
    } catch (err) {
      if (err instanceof AppError && err.status === 422) {
        const fields = err.fields.map((f) => `${f.field}: ${f.message}`).join('; ');
        return reply.code(422).view('/partials/flash', { level: 'error', message: fields ? `${err.message} ${fields}.` : err.message, code: err.code });
      }
      throw err;
    }
  }

  app.post<{ Params: PoolParams & { device: string } }>('/pools/:namespace/:name/devices/:device/lease', { schema: SCHEMAS.deviceLease }, async (request, reply) => {
    const { namespace, name, device } = request.params;
    return leaseAnswer(reply, () => leasesOf(request).create(namespace, name, device, formFields(request.body)), `device ${device}`);
  });

  app.post<{ Params: PoolParams }>('/pools/:namespace/:name/lease', { schema: SCHEMAS.poolLease }, async (request, reply) => {
    const { namespace, name } = request.params;
    return leaseAnswer(reply, () => leasesOf(request).create(namespace, name, undefined, formFields(request.body)), `any idle device of ${name}`);
  });

  app.post<{ Params: PoolParams & { device: string } }>('/pools/:namespace/:name/devices/:device/lease/extend', { schema: SCHEMAS.leaseSession }, async (request, reply) => {
    const { namespace } = request.params;
    const session = formFields(request.body).session;
    if (typeof session !== 'string' || !session) throw new AppError(422, 'DF_ERR_INVALID', 'Nothing was extended: the device holds no lease now.', [{ field: 'session', message: 'required' }]);
    const extended = await leasesOf(request).extend(namespace, session);
    const seconds = extended.spec.timeoutSeconds;
    return reply.view('/partials/flash', { level: 'info', message: `Lease ${session} extended: it now lasts ${Math.round(seconds / 60)} minutes from its assignment.` });
  });

  app.post<{ Params: PoolParams & { device: string } }>('/pools/:namespace/:name/devices/:device/lease/release', { schema: SCHEMAS.leaseSession }, async (request, reply) => {
    const { namespace, name, device } = request.params;
    const session = formFields(request.body).session;
    await leasesOf(request).release(namespace, name, device, session);
    return reply.view('/partials/flash', { level: 'info', message: `Release requested for ${String(session)}: the device goes back to the pool when the operator ends the lease.` });
  });
}

/** The lease form's choices, and a request id for this form. */
function leaseForm() {
  return {
    requestId: newRequestId(),
    minutes: LEASE_MINUTES.map((m) => ({ value: m, label: m < 60 ? `${m} min` : `${m / 60} h`, selected: m === DEFAULT_LEASE_MINUTES })),
  };
}

/** How to reach the device from a laptop: Appium capabilities and the port-forward line for its pod. */
export function connectRecipes(namespace: string, d: DeviceView): { appium: string; portForward: string } {
  let port = 4723;
  try {
    const u = new URL(d.appiumURL);
    if (u.port) port = Number(u.port);
  } catch {
    // no Appium URL: the default Appium port
  }
  const appium = JSON.stringify({ platformName: 'Android', 'appium:automationName': 'UiAutomator2', 'appium:deviceName': d.name }, null, 2);
  return { appium, portForward: d.podName ? `kubectl -n ${namespace} port-forward pod/${d.podName} ${port}:${port}` : '' };
}
