// Farm insights: the /insights page (filters in the URL, live through the broker's
// `insights?…` topic) and the same figures as JSON at GET /api/v1/insights. Signed in,
// someone who may not read every namespace sees one of theirs at a time (visibility.ts).
import type { FastifyInstance } from 'fastify';
import { insightsJSON } from '../../farm/insights/json.js';
import { WINDOW_NAMES, WINDOWS } from '../../farm/insights/window.js';
import { topics } from '../../live/topics.js';
import { parseInsightsQuery } from '../../view/insights-query.js';
import { AppError } from '../../http/errors.js';
import { insightsScope } from '../../http/visibility.js';

export default async function insightsRoutes(app: FastifyInstance): Promise<void> {
  const { catalog, store } = app.farm;

  app.get<{ Querystring: Record<string, unknown> }>('/insights', async (request, reply) => {
    const asked = parseInsightsQuery(request.query);
    // Someone who may not read every namespace sees one of theirs at a time.
    const { namespace, choices } = await insightsScope(app, request, asked.namespace);
    const query = { ...asked, namespace };
    const pools = store.listPools().filter((p) => !choices || choices.includes(p.namespace));
    return reply.view('/pages/insights', {
      title: 'Insights',
      topics: [topics.insights(query)],
      filters: { window: query.window, namespace: query.namespace ?? '', pool: query.pool ?? '', template: query.template ?? '' },
      windowOptions: WINDOW_NAMES.map((name) => ({ name, label: WINDOWS[name].label })),
      namespaces: choices ?? [...new Set(pools.map((p) => p.namespace))].sort(),
      scopeNote: choices ? `You (${request.identity!.user}) may not read every namespace this dashboard watches, so you see the insights of one of yours at a time.` : '',
      poolNames: [...new Set(pools.map((p) => p.name))].sort(),
      templateNames: [...new Set(pools.map((p) => p.templateName))].sort(),
      body: catalog.insightsBody(query).data,
    });
  });

  app.get<{ Querystring: Record<string, unknown> }>('/api/v1/insights', async (request) => {
    const query = parseInsightsQuery(request.query);
    const { choices } = await insightsScope(app, request, query.namespace);
    if (choices && !query.namespace) {
      throw new AppError(403, 'DF_ERR_KUBE_FORBIDDEN', `You (${request.identity!.user}) may not read every namespace this dashboard watches: ask for one of yours with ?namespace= (${choices.join(', ') || 'none'}).`);
    }
    return insightsJSON(catalog.insights.report(query, Date.now()));
  });
}
