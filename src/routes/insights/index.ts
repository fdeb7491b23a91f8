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
import { type DocumentedSchema } from '../../http/schema.js';
import { Insights } from '../../farm/json-schema.js';
import { READ_ERRORS } from '../api/answers.js';
import { INSIGHTS_QUERY } from '../../view/insights-query.js';

const API_SCHEMA = {
  summary: 'Farm insights of a window: sessions by phase, pass rate, queue wait, run time, utilisation, bottlenecks and suspect devices, per pool and for the farm',
  querystring: INSIGHTS_QUERY,
  response: { 200: Insights },
  errors: READ_ERRORS,
} satisfies DocumentedSchema;

export default async function insightsRoutes(app: FastifyInstance): Promise<void> {
  const { catalog, store } = app.farm;

  app.get<{ Querystring: Record<string, unknown> }>('/insights', { schema: { summary: 'The insights page', querystring: INSIGHTS_QUERY } }, async (request, reply) => {
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

  app.get<{ Querystring: Record<string, unknown> }>('/api/v1/insights', { schema: API_SCHEMA }, async (request) => {
    const query = parseInsightsQuery(request.query);
    const { choices } = await insightsScope(app, request, query.namespace);
    if (choices && !query.namespace) {
      throw new AppError(403, 'DF_ERR_KUBE_FORBIDDEN', `You (${request.identity!.user}) may not read every namespace this dashboard watches: ask for one of yours with ?namespace= (${choices.join(', ') || 'none'}).`);
    }
    return insightsJSON(catalog.insights.report(query, Date.now()));
  });
}
