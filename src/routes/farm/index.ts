// The farm overview: every pool with its devices by state, and the farm's totals.
import type { FastifyInstance } from 'fastify';
import { farmTotals, summarisePool } from '../../farm/stats.js';

export default async function farmRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', async (_request, reply) => {
    const pools = app.farm.store.listPools();
    return reply.view('/pages/farm', {
      title: 'Farm',
      totals: farmTotals(pools),
      pools: pools.map(summarisePool),
    });
  });
}
