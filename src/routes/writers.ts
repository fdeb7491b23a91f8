// The writers of one request (src/kube: session, pool and lease writes): as its person
// when someone signed in (the apiserver then decides with their RBAC and its audit log
// names them), as the dashboard otherwise.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actingCluster } from '../http/identity.js';
import { LeaseWriter } from '../kube/lease-writer.js';
import { PoolWriter } from '../kube/pool-writer.js';
import { SessionWriter } from '../kube/session-writer.js';

export function sessionWriter(app: FastifyInstance, request: FastifyRequest): SessionWriter {
  const { cluster, store, config } = app.farm;
  const identity = request.identity;
  return new SessionWriter(actingCluster(app, request), store, config.namespaces, {
    identity,
    requestId: request.id,
    log: request.log,
    events: cluster,
    ...(identity ? { onForbidden: () => app.farm.access.forget(identity) } : {}),
  });
}

export const poolWriter = (app: FastifyInstance, request: FastifyRequest): PoolWriter => new PoolWriter(actingCluster(app, request), app.farm.config.namespaces);

export const leaseWriter = (app: FastifyInstance, request: FastifyRequest): LeaseWriter =>
  new LeaseWriter(actingCluster(app, request), app.farm.store, app.farm.config.namespaces, request.identity?.user);
