// TestSessions as JSON: the same filters as /sessions, newest first, paged with `limit` and
// an opaque `continue` token (like the Kubernetes list API).
import type { FastifyInstance } from 'fastify';
import { sessionJSON, sessionSummaryJSON } from '../../farm/json.js';
import { notFound } from '../../http/errors.js';
import { findSessions, parseSessionFilters, type RawQuery } from '../sessions/filters.js';

export default async function sessionApiRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.farm;

  app.get<{ Querystring: RawQuery }>('/api/v1/sessions', async (request) => {
    const page = findSessions(store, parseSessionFilters(request.query));
    return { items: page.items.map(sessionSummaryJSON), continue: page.next ?? null };
  });

  app.get<{ Params: { namespace: string; name: string } }>('/api/v1/sessions/:namespace/:name', async (request) => {
    const { namespace, name } = request.params;
    const session = store.getSession(namespace, name);
    if (!session) throw notFound(`TestSession ${namespace}/${name}`);
    return sessionJSON(session);
  });
}
