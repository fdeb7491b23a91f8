// The one place that decides whether a request can be answered from the store at all:
// - a read the API server refused (403) makes every page and /api answer 403
//   DF_ERR_KUBE_FORBIDDEN naming the verb, resource and namespace (never "waiting for the
//   first data" forever, never "does not exist" for what cannot be read);
// - otherwise /api answers 503 DF_ERR_NOT_SYNCED until the first list, so an empty answer
//   never passes for the truth (pages show their own "waiting" state and fill in live).
// Keyed by what the route reads: a request about one namespace is refused only for reads
// refused in that namespace (or cluster-wide); anything else for any refused read.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ForbiddenRead, SyncStatus } from '../farm/store.js';
import { AppError, sendError } from './errors.js';

/** Routes that never read the farm: probes, metrics, assets, the API's description. */
const NO_FARM_READS = ['/healthz', '/readyz', '/metrics', '/static/', '/api/v1/openapi.json'];

export function registerReadAccess(app: FastifyInstance): void {
  app.addHook('preHandler', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === undefined || NO_FARM_READS.some((p) => route === p || (p.endsWith('/') && route.startsWith(p)))) return;
    const sync = app.farm.store.syncStatus();
    const refused = refusedReads(sync, namespaceOf(request));
    if (refused.length > 0) throw forbiddenError(refused);
    if (route.startsWith('/api/') && route !== '/api/v1/events' && !sync.synced) {
      // Answered here, not thrown: a normal moment after a start, not an error to log.
      reply.header('Retry-After', '2');
      await sendError(request, reply, 503, {
        error: { code: 'DF_ERR_NOT_SYNCED', message: 'The dashboard has not finished reading the cluster yet; retry in a moment.' },
      });
      return reply;
    }
  });
}

/** The refused reads that matter for a request about `namespace` (undefined: about everything). */
export function refusedReads(sync: SyncStatus, namespace: string | undefined): ForbiddenRead[] {
  const all = sync.forbidden ?? [];
  return namespace === undefined ? all : all.filter((f) => f.namespace === undefined || f.namespace === namespace);
}

/** "The dashboard may not list testsessions in team-b: grant its identity list and watch …". */
export function forbiddenError(refused: readonly ForbiddenRead[]): AppError {
  const what = refused.map((f) => `${f.verb} ${f.resource}${f.namespace ? ` in ${f.namespace}` : ' in all namespaces'}`);
  const grants = [...new Set(refused.map((f) => `${f.resource}${f.group ? `.${f.group}` : ''}${f.namespace ? ` in ${f.namespace}` : ' cluster-wide'}`))];
  return new AppError(
    403,
    'DF_ERR_KUBE_FORBIDDEN',
    `The dashboard may not ${joinAnd(what)}: grant its Kubernetes identity list and watch on ${joinAnd(grants)} ` +
      '(deploy/base/rbac-read.yaml has the role it needs), then reload.',
  );
}

function namespaceOf(request: FastifyRequest): string | undefined {
  const fromPath = (request.params as { namespace?: unknown } | undefined)?.namespace;
  if (typeof fromPath === 'string' && fromPath) return fromPath;
  const fromQuery = (request.query as { namespace?: unknown } | undefined)?.namespace;
  return typeof fromQuery === 'string' && fromQuery ? fromQuery : undefined;
}

function joinAnd(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
