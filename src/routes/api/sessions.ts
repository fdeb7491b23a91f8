// TestSessions as JSON: the same filters as /sessions, newest first, paged with `limit` and
// an opaque `continue` token (like the Kubernetes list API); create, stop, retry, delete.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sessionJSON, sessionSummaryJSON } from '../../farm/json.js';
import type { SessionView } from '../../farm/types.js';
import { badRequest, notFound, unsupportedMediaType } from '../../http/errors.js';
import { sessionWriter } from '../writers.js';
import { requireVisible, visibleNamespaces } from '../../http/visibility.js';
import { findSessions, parseSessionFilters, type RawQuery } from '../sessions/filters.js';

type SessionParams = { Params: { namespace: string; name: string } };
/** A session request is small; anything bigger is a mistake or an attack. */
const BODY_LIMIT = 64 * 1024;

export default async function sessionApiRoutes(app: FastifyInstance): Promise<void> {
  const { store, config } = app.farm;
  const actions = (request: FastifyRequest) => sessionWriter(app, request);
  const toJSON = (view: SessionView) => sessionJSON(view, { showEnvValues: config.showRunnerEnv });

  app.get<{ Querystring: RawQuery }>('/api/v1/sessions', async (request) => {
    const page = findSessions(store, parseSessionFilters(request.query), await visibleNamespaces(app, request, 'sessions'));
    return { items: page.items.map(sessionSummaryJSON), continue: page.next ?? null };
  });

  app.get<{ Params: { namespace: string; name: string } }>('/api/v1/sessions/:namespace/:name', async (request) => {
    const { namespace, name } = request.params;
    await requireVisible(app, request, 'sessions', namespace);
    const session = store.getSession(namespace, name);
    if (!session) throw notFound(`TestSession ${namespace}/${name}`);
    return toJSON(session);
  });

  app.post('/api/v1/sessions', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      throw unsupportedMediaType();
    }
    const key = request.headers['idempotency-key'];
    if (Array.isArray(key)) throw badRequest('Idempotency-Key was given more than once.');
    const { session: view, created } = await actions(request).create(request.body, key);
    return reply.code(created ? 201 : 200).header('Location', `/api/v1/sessions/${encodeURIComponent(view.namespace)}/${encodeURIComponent(view.name)}`).send(toJSON(view));
  });

  app.delete<SessionParams>('/api/v1/sessions/:namespace/:name', async (request, reply) => {
    await actions(request).delete(request.params.namespace, request.params.name);
    return reply.code(202).send({ status: 'deleting', namespace: request.params.namespace, name: request.params.name });
  });

  app.post<SessionParams>('/api/v1/sessions/:namespace/:name/cancel', async (request) => {
    return toJSON(await actions(request).cancel(request.params.namespace, request.params.name));
  });

  app.post<SessionParams>('/api/v1/sessions/:namespace/:name/retry', async (request, reply) => {
    const view = await actions(request).retry(request.params.namespace, request.params.name);
    return reply.code(201).header('Location', `/api/v1/sessions/${encodeURIComponent(view.namespace)}/${encodeURIComponent(view.name)}`).send(toJSON(view));
  });
}
