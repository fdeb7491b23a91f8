// Sessions: the list (newest first, filters in the URL, cursor pages, live) and one
// session's page (phase, progress, device, artifacts, timeline, live).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError, notFound } from '../../http/errors.js';
import { wantsFragment } from '../../http/negotiate.js';
import { topics } from '../../live/fragments.js';
import { SESSION_PHASES } from '../../farm/types.js';
import { DEFAULT_LIMIT, filterQuery, findSessions, parseSessionFilters, type RawQuery, type SessionFilters } from './filters.js';
import { sessionRow } from './rows.js';

const RESULTS_ID = 'sessions-results';

export default async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const { store, catalog } = app.farm;

  app.get<{ Querystring: RawQuery }>('/sessions', async (request, reply) => {
    let filters: SessionFilters;
    let results: Record<string, unknown>;
    try {
      filters = parseSessionFilters(request.query);
      results = listData(filters);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 400) throw err;
      // Keep what the viewer typed and say what is wrong next to it.
      filters = { namespace: '', pool: '', phases: [], labelSelector: '', q: '', limit: DEFAULT_LIMIT, continue: '', ...looseFilters(request.query) };
      results = { ...listData({ ...filters, labelSelector: '', continue: '', namespace: '', pool: '', phases: [] }, true), error: err.message, errorFields: err.fields.map((f) => f.field) };
      reply.code(400);
    }
    // The filter form and the live refresh swap only the results; the URL is pushed.
    if (wantsFragment(request) && request.headers['hx-target'] === RESULTS_ID) return reply.view('/partials/sessions-results', results);
    return renderList(reply, filters, results);
  });

  app.get<{ Params: { namespace: string; name: string } }>('/sessions/:namespace/:name', async (request, reply) => {
    const { namespace, name } = request.params;
    const detail = catalog.sessionDetail(namespace, name);
    if (!detail.data.exists && store.syncStatus().synced) throw notFound(`TestSession ${namespace}/${name}`);
    return reply.view('/pages/session', { title: `${name} · Sessions`, topics: [topics.session(namespace, name)], detail: detail.data });
  });

  function listData(filters: SessionFilters, empty = false): Record<string, unknown> {
    const now = Date.now();
    const page = empty ? { items: [], next: undefined } : findSessions(store, filters);
    return {
      id: RESULTS_ID,
      synced: store.syncStatus().synced,
      revision: store.sessionsRevision(),
      rows: page.items.map((s) => sessionRow(s, now)),
      // The URL this list re-fetches itself from when sessions change (see public/app.js).
      self: `/sessions${filterQuery(filters, filters.continue)}`,
      next: page.next ? `/sessions${filterQuery(filters, page.next)}` : '',
      first: filters.continue ? `/sessions${filterQuery(filters)}` : '',
      filtered: Boolean(filters.namespace || filters.pool || filters.phases.length || filters.labelSelector || filters.q),
      total: store.sessionCount(),
    };
  }

  function renderList(reply: FastifyReply, filters: SessionFilters, results: Record<string, unknown>) {
    const pools = store.listPools();
    const namespaces = [...new Set([...pools.map((p) => p.namespace), ...app.farm.config.namespaces])].sort();
    return reply.view('/pages/sessions', {
      title: 'Sessions',
      topics: [topics.sessions],
      filters,
      phases: SESSION_PHASES,
      namespaces,
      pools: [...new Set(pools.map((p) => p.name))].sort(),
      results,
    });
  }
}

/** The raw strings of the query, for re-showing a form that failed to parse. */
function looseFilters(q: RawQuery): Partial<SessionFilters> {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).slice(0, 1024);
  return { namespace: first(q.namespace), pool: first(q.pool), labelSelector: first(q.labelSelector), q: first(q.q) };
}
