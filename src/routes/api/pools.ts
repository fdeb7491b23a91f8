// Pool and device writes as JSON: scale a pool, restart a device. The same rules as the
// pages (src/kube/pool-writer.ts); a write that would end sessions answers 409
// DF_ERR_CONFIRM_REQUIRED with the sessions it names, and goes through when confirmed.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeError } from '../../http/errors.js';
import { formFields } from '../../http/form-body.js';
import { ConfirmationRequired } from '../../kube/pool-writer.js';
import { sessionJSON } from '../../farm/json.js';
import type { SessionView } from '../../farm/types.js';
import { leaseWriter, poolWriter } from '../writers.js';
import { Session } from '../../farm/json-schema.js';
import { MAX_REPLICAS, MIN_REPLICAS } from '../../farm/pool-scale.js';
import { LEASE_MINUTES, MAX_HOLDER, MAX_REASON } from '../../farm/lease.js';
import { pathParams, says, type DocumentedSchema } from '../../http/schema.js';
import { idempotencyKey, NOT_FOUND, sessionLocation, WRITE_ERRORS } from './answers.js';

type PoolParams = { Params: { namespace: string; name: string } };
type DeviceParams = { Params: { namespace: string; name: string; device: string } };

const str = { type: 'string' } as const;
const location = { Location: { description: 'The session’s JSON API URL.', schema: str } };
/** The values a lease's rules decide (src/farm/lease.ts): a bad one is named with the others, so the schema only says the types. */
const LEASE: DocumentedSchema = {
  headers: idempotencyKey,
  body: says(
    {
      type: ['object', 'null'],
      properties: {
        minutes: { type: 'integer', description: `How long, in minutes: one of ${LEASE_MINUTES.join(', ')} (30 when left out).` },
        holder: { type: 'string', description: `Who holds the device (at most ${MAX_HOLDER} characters); the signed-in person when there is one.` },
        reason: { type: 'string', description: `Why (at most ${MAX_REASON} characters).` },
      },
    },
    { message: 'The device was not reserved' },
  ),
  response: { 200: Session, 201: Session },
  responseHeaders: { 201: location },
  errors: { ...WRITE_ERRORS, ...NOT_FOUND, '422': { codes: ['DF_ERR_INVALID'], description: 'A bad duration, holder or reason' } },
};

const SCHEMAS = {
  scale: {
    summary: `Set a pool's spec.replicas (${MIN_REPLICAS}…${MAX_REPLICAS}); a scale that would take busy devices needs confirm`,
    params: pathParams('namespace', 'name'),
    body: says(
      {
        type: ['object', 'null'],
        required: ['replicas'],
        properties: {
          replicas: says({ type: 'integer', minimum: MIN_REPLICAS, maximum: MAX_REPLICAS }, { cause: `must be a whole number from ${MIN_REPLICAS} to ${MAX_REPLICAS}` }),
          confirm: says({ type: 'boolean', description: 'Yes, end the sessions of the devices that go.' }, { cause: 'must be true or false' }),
          resourceVersion: says({ type: 'string', pattern: '^[0-9]{1,20}$', description: 'Only onto this version of the pool (409 otherwise).' }, { cause: 'must be the metadata.resourceVersion of the pool as read' }),
        },
      },
      { message: 'The pool was not scaled' },
    ),
    response: { 200: { type: 'object', required: ['namespace', 'name', 'previous', 'replicas', 'changed', 'resourceVersion'], properties: { namespace: str, name: str, previous: { type: 'integer' }, replicas: { type: 'integer' }, changed: { type: 'boolean' }, resourceVersion: str } } },
    errors: {
      ...WRITE_ERRORS,
      ...NOT_FOUND,
      '409': { codes: ['DF_ERR_CONFIRM_REQUIRED', 'DF_ERR_KUBE_CONFLICT'], description: 'Busy devices would go (the error lists their `sessions`: send confirm), or the pool changed' },
      '422': { codes: ['DF_ERR_INVALID'], description: 'replicas out of range' },
    },
  },
  restart: {
    summary: "Restart a device: its pod is deleted and the pool's StatefulSet makes it again",
    params: pathParams('namespace', 'name', 'device'),
    body: says(
      {
        type: ['object', 'null'],
        properties: {
          session: says({ type: 'string', description: 'The session it would end, as confirmed.' }, { cause: 'must be the name of the session it ends' }),
          confirm: { type: 'boolean' },
        },
      },
      { message: 'The device was not restarted' },
    ),
    response: { 202: { type: 'object', required: ['status', 'namespace', 'pool', 'device', 'pod', 'session'], properties: { status: { const: 'restarting' }, namespace: str, pool: str, device: str, pod: str, session: { ...str, description: "The session the restart ends ('' when the device was idle)." } } } },
    errors: {
      ...WRITE_ERRORS,
      '404': { codes: ['DF_ERR_NOT_FOUND'], description: 'No such device' },
      '409': { codes: ['DF_ERR_CONFIRM_REQUIRED', 'DF_ERR_NO_DEVICE_POD', 'DF_ERR_KUBE_CONFLICT'], description: 'It runs a session (confirm it), it has no pod yet, or it moved on to another' },
      '422': { codes: ['DF_ERR_INVALID'], description: 'A bad session name' },
    },
  },
  deviceLease: { ...LEASE, summary: 'Reserve this device: a TestSession without runner and with spec.deviceName, held until Release (cancel) or its time is up', params: pathParams('namespace', 'name', 'device') },
  poolLease: { ...LEASE, summary: 'Reserve any idle device of the pool (a TestSession without runner)', params: pathParams('namespace', 'name') },
  extend: {
    summary: 'Extend a lease by 30 minutes',
    params: pathParams('namespace', 'name'),
    response: { 200: Session },
    errors: { ...WRITE_ERRORS, ...NOT_FOUND, '409': { codes: ['DF_ERR_NOT_A_LEASE', 'DF_ERR_LEASE_AT_MAXIMUM', 'DF_ERR_SESSION_FINISHED', 'DF_ERR_KUBE_CONFLICT'], description: 'Not a lease, at its longest already, or ended' } },
  },
} satisfies Record<string, DocumentedSchema>;

export default async function poolApiRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.farm;
  // Per request: writes go to the apiserver as the person who asked (--auth proxy|bearer).
  const actionsOf = (request: FastifyRequest) => poolWriter(app, request);
  const leasesOf = (request: FastifyRequest) => leaseWriter(app, request);
  const toJSON = (view: SessionView) => sessionJSON(view, { showEnvValues: config.showRunnerEnv });

  /** The coded error, plus the sessions a confirmation must name. */
  function confirmation(reply: FastifyReply, err: ConfirmationRequired) {
    const { status, body } = describeError(err);
    return reply.code(status).send({ error: { ...body.error, sessions: err.lost } });
  }

  app.post<PoolParams>('/api/v1/pools/:namespace/:name/scale', { bodyLimit: 4 * 1024, schema: SCHEMAS.scale }, async (request, reply) => {
    const body = formFields(request.body);
    try {
      return await actionsOf(request).scale(request.params.namespace, request.params.name, body);
    } catch (err) {
      if (err instanceof ConfirmationRequired) return confirmation(reply, err);
      throw err;
    }
  });

  app.post<DeviceParams>('/api/v1/pools/:namespace/:name/devices/:device/restart', { bodyLimit: 4 * 1024, schema: SCHEMAS.restart }, async (request, reply) => {
    const { namespace, name, device } = request.params;
    try {
      const r = await actionsOf(request).restartDevice(namespace, name, device, formFields(request.body));
      return reply.code(202).send({ status: 'restarting', ...r });
    } catch (err) {
      if (err instanceof ConfirmationRequired) return confirmation(reply, err);
      throw err;
    }
  });

  // Leases: {minutes?, holder, reason}; Idempotency-Key makes a repeat find the first lease.
  async function lease(request: FastifyRequest, reply: FastifyReply, namespace: string, pool: string, device: string | undefined) {
    const requestId = request.headers['idempotency-key'];
    const { session: view, created } = await leasesOf(request).create(namespace, pool, device, { ...formFields(request.body), requestId });
    return reply.code(created ? 201 : 200).header('Location', sessionLocation(view.namespace, view.name)).send(toJSON(view));
  }

  app.post<DeviceParams>('/api/v1/pools/:namespace/:name/devices/:device/lease', { bodyLimit: 4 * 1024, schema: SCHEMAS.deviceLease }, async (request, reply) =>
    lease(request, reply, request.params.namespace, request.params.name, request.params.device),
  );

  app.post<PoolParams>('/api/v1/pools/:namespace/:name/lease', { bodyLimit: 4 * 1024, schema: SCHEMAS.poolLease }, async (request, reply) => lease(request, reply, request.params.namespace, request.params.name, undefined));

  // Extend a lease by 30 minutes (Release is POST …/cancel, as for any session).
  app.post<PoolParams>('/api/v1/sessions/:namespace/:name/extend', { schema: SCHEMAS.extend }, async (request) => toJSON(await leasesOf(request).extend(request.params.namespace, request.params.name)));
}
