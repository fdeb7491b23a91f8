// The farm overview: every pool with its devices by state, and the farm's totals.
import type { FastifyInstance } from 'fastify';
import { topics } from '../../live/topics.js';
import { userScope } from '../../http/visibility.js';

export default async function farmRoutes(app: FastifyInstance): Promise<void> {
  const { catalog } = app.farm;
  app.get('/', async (request, reply) => {
    // A signed-in person sees the namespaces they may list; /live scopes the topic the same way.
    const scope = await userScope(app, request);
    return reply.view('/pages/farm', {
      title: 'Farm',
      topics: [topics.farm],
      totalsFragment: catalog.farmTotals(scope).data,
      attentionFragment: catalog.farmAttention(scope).data,
      poolsFragment: catalog.farmPools(scope).data,
    });
  });
}
