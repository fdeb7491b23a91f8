// Farm insights: the /insights page (filters in the URL, live through the broker's
// `insights?…` topic) and the same figures as JSON at GET /api/v1/insights.
import type { FastifyInstance } from 'fastify';
import { insightsJSON } from '../../farm/insights/json.js';
import { WINDOW_NAMES, WINDOWS } from '../../farm/insights/window.js';
import { topics } from '../../live/topics.js';
import { parseInsightsQuery } from '../../view/insights-query.js';

export default async function insightsRoutes(app: FastifyInstance): Promise<void> {
  const { catalog, store } = app.farm;

  app.get<{ Querystring: Record<string, unknown> }>('/insights', async (request, reply) => {
    const query = parseInsightsQuery(request.query);
    const pools = store.listPools();
    return reply.view('/pages/insights', {
      title: 'Insights',
      topics: [topics.insights(query)],
      filters: { window: query.window, namespace: query.namespace ?? '', pool: query.pool ?? '', template: query.template ?? '' },
      windowOptions: WINDOW_NAMES.map((name) => ({ name, label: WINDOWS[name].label })),
      namespaces: [...new Set(pools.map((p) => p.namespace))].sort(),
      poolNames: [...new Set(pools.map((p) => p.name))].sort(),
      templateNames: [...new Set(pools.map((p) => p.templateName))].sort(),
      body: catalog.insightsBody(query).data,
    });
  });

  app.get<{ Querystring: Record<string, unknown> }>('/api/v1/insights', async (request) => {
    const query = parseInsightsQuery(request.query);
    return insightsJSON(catalog.insights.report(query, Date.now()));
  });
}
