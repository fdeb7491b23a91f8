// Pool and device writes as JSON: scale a pool, restart a device. The same rules as the
// pages (src/kube/pool-writer.ts); a write that would end sessions answers 409
// DF_ERR_CONFIRM_REQUIRED with the sessions it names, and goes through when confirmed.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeError } from '../../http/errors.js';
import { formFields } from '../../http/form-body.js';
import { ConfirmationRequired } from '../../kube/pool-writer.js';
import { badRequest } from '../../http/errors.js';
import { sessionJSON } from '../../farm/json.js';
import type { SessionView } from '../../farm/types.js';
import { leaseWriter, poolWriter } from '../writers.js';

type PoolParams = { Params: { namespace: string; name: string } };
type DeviceParams = { Params: { namespace: string; name: string; device: string } };

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

  app.post<PoolParams>('/api/v1/pools/:namespace/:name/scale', { bodyLimit: 4 * 1024 }, async (request, reply) => {
    const body = formFields(request.body);
    try {
      return await actionsOf(request).scale(request.params.namespace, request.params.name, body);
    } catch (err) {
      if (err instanceof ConfirmationRequired) return confirmation(reply, err);
      throw err;
    }
  });

  app.post<DeviceParams>('/api/v1/pools/:namespace/:name/devices/:device/restart', { bodyLimit: 4 * 1024 }, async (request, reply) => {
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
    const key = request.headers['idempotency-key'];
    if (Array.isArray(key)) throw badRequest('Idempotency-Key was given more than once.');
    const { session: view, created } = await leasesOf(request).create(namespace, pool, device, { ...formFields(request.body), requestId: key });
    return reply.code(created ? 201 : 200).header('Location', `/api/v1/sessions/${encodeURIComponent(view.namespace)}/${encodeURIComponent(view.name)}`).send(toJSON(view));
  }

  app.post<DeviceParams>('/api/v1/pools/:namespace/:name/devices/:device/lease', { bodyLimit: 4 * 1024 }, async (request, reply) =>
    lease(request, reply, request.params.namespace, request.params.name, request.params.device),
  );

  app.post<PoolParams>('/api/v1/pools/:namespace/:name/lease', { bodyLimit: 4 * 1024 }, async (request, reply) => lease(request, reply, request.params.namespace, request.params.name, undefined));

  // Extend a lease by 30 minutes (Release is POST …/cancel, as for any session).
  app.post<PoolParams>('/api/v1/sessions/:namespace/:name/extend', async (request) => toJSON(await leasesOf(request).extend(request.params.namespace, request.params.name)));
}
