// The farm overview: every pool with its devices by state, and the farm's totals.
import type { FastifyInstance } from 'fastify';
import { topics } from '../../live/fragments.js';

export default async function farmRoutes(app: FastifyInstance): Promise<void> {
  const { catalog } = app.farm;
  app.get('/', async (_request, reply) =>
    reply.view('/pages/farm', {
      title: 'Farm',
      topics: [topics.farm],
      totalsFragment: catalog.farmTotals().data,
      attentionFragment: catalog.farmAttention().data,
      poolsFragment: catalog.farmPools().data,
    }),
  );
}
