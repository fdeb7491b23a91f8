// Bulk actions on sessions: Stop, Retry or Delete many at once, chosen by name or as "all
// matching this filter". Each write goes through the same SessionWriter as one button
// (read from the apiserver, refused when it makes no sense), and each is reported on its
// own: done, or refused and why. The page posts a form; scripts post JSON to
// /api/v1/sessions:batch (README). A batch is capped so one click cannot become an
// unbounded storm of writes.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../http/errors.js';
import { formFields, registerFormBody } from '../../http/form-body.js';
import { QueryError } from '../../farm/session-query.js';
import type { FarmStore } from '../../farm/store.js';
import type { SessionView } from '../../farm/types.js';
import { sessionHref } from '../../view/links.js';
import { BATCH_ACTIONS, runBatch, type BatchAction, type BatchTarget } from '../../kube/session-batch.js';
import { sessionWriter } from '../writers.js';
import { parseSessionFilters, type RawQuery, type SessionFilters } from './filters.js';
import { formField, oneOrMany, says, type DocumentedSchema } from '../../http/schema.js';
import { WRITE_ERRORS } from '../api/answers.js';

/** The most sessions one batch may touch. */
export const MAX_BATCH = 500;
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const VERB: Record<BatchAction, string> = { cancel: 'Stop', retry: 'Retry', delete: 'Delete' };

/** How many sessions a filter matches now (for "all N matching this filter"), among those the person sees. */
export function countMatching(store: FarmStore, f: SessionFilters, namespaces?: ReadonlySet<string>): number {
  return matching(store, f, namespaces).length;
}

/** Every session the filter matches, newest first: the store's own query without a page limit. */
function matching(store: FarmStore, f: SessionFilters, namespaces?: ReadonlySet<string>): SessionView[] {
  try {
    return store.querySessions({ namespace: f.namespace || undefined, namespaces, pool: f.pool || undefined, phases: f.phases, selector: f.labelSelector || undefined, text: f.q || undefined, limit: Number.POSITIVE_INFINITY }).items;
  } catch (err) {
    if (err instanceof QueryError) {
      const field = err.field === 'selector' ? 'labelSelector' : err.field;
      throw new AppError(422, 'DF_ERR_INVALID', `Nothing was done: the filter's ${field} does not parse (${err.message}).`, [{ field, message: err.message }]);
    }
    throw err;
  }
}

export function parseAction(raw: unknown): BatchAction {
  if (typeof raw === 'string' && (BATCH_ACTIONS as readonly string[]).includes(raw)) return raw as BatchAction;
  throw new AppError(422, 'DF_ERR_INVALID', `Nothing was done: action must be one of ${BATCH_ACTIONS.join(', ')}.`, [{ field: 'action', message: `one of ${BATCH_ACTIONS.join(', ')}` }]);
}

/** Named sessions, checked and without repeats. */
export function parseTargets(raw: unknown): BatchTarget[] {
  const list = Array.isArray(raw) ? raw : [raw];
  const out = new Map<string, BatchTarget>();
  list.forEach((item, i) => {
    // The page sends "namespace/name"; JSON sends {namespace, name}.
    const t = typeof item === 'string' ? { namespace: item.split('/')[0], name: item.split('/').slice(1).join('/') } : (item as Partial<BatchTarget> | null);
    if (!t || typeof t.namespace !== 'string' || typeof t.name !== 'string' || !NAME.test(t.namespace) || t.namespace.length > 63 || !NAME.test(t.name)) {
      throw new AppError(422, 'DF_ERR_INVALID', `Nothing was done: sessions[${i}] is not a {namespace, name} of a TestSession.`, [{ field: `sessions[${i}]`, message: 'not a TestSession namespace and name' }]);
    }
    out.set(`${t.namespace}/${t.name}`, { namespace: t.namespace, name: t.name });
  });
  return [...out.values()];
}

function checkSize(count: number, what: string): void {
  if (count === 0) throw new AppError(422, 'DF_ERR_INVALID', `Nothing was done: ${what} no session.`, [{ field: 'sessions', message: 'no session' }]);
  if (count > MAX_BATCH) {
    throw new AppError(422, 'DF_ERR_INVALID', `Nothing was done: ${what} ${count} sessions, more than ${MAX_BATCH} at once. Narrow the filter, or act in parts.`, [{ field: 'sessions', message: `at most ${MAX_BATCH}` }]);
  }
}

const str = { type: 'string' } as const;
const action = says({ enum: [...BATCH_ACTIONS], description: 'Stop (cancel), Retry or Delete.' }, { cause: `must be one of ${BATCH_ACTIONS.join(', ')}` });

const SCHEMAS = {
  page: {
    summary: "The sessions page's bulk toolbar: the checked rows, or all the list's query matches",
    body: says(
      {
        type: ['object', 'null'],
        properties: {
          action,
          session: formField('A checked row, as namespace/name (repeated).'),
          all: { ...str, description: 'true: every session the list query matches.' },
          query: { ...str, description: "The list's query string, for all." },
        },
      },
      { message: 'Nothing was done' },
    ),
  },
  api: {
    summary: 'Stop, Retry or Delete many sessions, by name or all a filter matches (at most 500); each reported on its own',
    body: says(
      {
        type: ['object', 'null'],
        required: ['action'],
        properties: {
          action,
          // Each named session is checked by parseTargets, which names the entry it refuses.
          sessions: { type: 'array', items: { type: 'object', properties: { namespace: str, name: str } }, description: `At most ${MAX_BATCH}.` },
          filter: { type: 'object', properties: { namespace: str, pool: str, phase: oneOrMany('Phases, as for GET /api/v1/sessions.'), labelSelector: str, q: str }, description: 'The filters of GET /api/v1/sessions; not with sessions.' },
        },
      },
      { message: 'Nothing was done' },
    ),
    response: {
      200: {
        type: 'object',
        required: ['action', 'total', 'done', 'refused', 'results'],
        properties: {
          action: { enum: [...BATCH_ACTIONS] },
          total: { type: 'integer' },
          done: { type: 'integer' },
          refused: { type: 'integer' },
          results: {
            type: 'array',
            items: {
              type: 'object',
              required: ['namespace', 'name', 'ok', 'status'],
              properties: { namespace: str, name: str, ok: { type: 'boolean' }, status: { type: 'integer' }, error: { type: 'object', required: ['code', 'message'], properties: { code: str, message: str } }, created: str },
            },
          },
        },
      },
    },
    errors: { ...WRITE_ERRORS, '422': { codes: ['DF_ERR_INVALID'], description: 'A bad action, both sessions and filter, or too many' } },
  },
} satisfies Record<string, DocumentedSchema>;

export default async function sessionBatchRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.farm;
  registerFormBody(app);

  /** The sessions a request names, or all that its filter matches. */
  function resolve(body: Record<string, unknown>, filterQuery: RawQuery | undefined): BatchTarget[] {
    if (filterQuery) {
      let filters: SessionFilters;
      try {
        filters = parseSessionFilters(filterQuery);
      } catch (err) {
        if (err instanceof AppError) throw new AppError(422, 'DF_ERR_INVALID', `Nothing was done: ${err.message}`, err.fields);
        throw err;
      }
      const found = matching(store, filters).map((s) => ({ namespace: s.namespace, name: s.name }));
      checkSize(found.length, 'the filter matches');
      return found;
    }
    const targets = parseTargets(body.sessions ?? []);
    checkSize(targets.length, 'the request names');
    return targets;
  }

  // The page's toolbar: the checked rows (session=ns/name, repeated), or all=true with the
  // list's own query string. The report lands beside the toolbar.
  app.post('/sessions/batch', { bodyLimit: 256 * 1024, schema: SCHEMAS.page }, async (request, reply) => {
    const fields = formFields(request.body);
    const action = parseAction(fields.action);
    const all = fields.all === 'true';
    const query = all ? Object.fromEntries(groupParams(new URLSearchParams(typeof fields.query === 'string' ? fields.query : ''))) : undefined;
    const targets = resolve({ sessions: fields.session ?? [] }, query);
    const report = await runBatch(sessionWriter(app, request), action, targets);
    return reply.view('/partials/sessions-batch-report', { verb: VERB[action], ...report, results: report.results.map((r) => ({ ...r, href: sessionHref(r.namespace, r.name), createdHref: r.created ? sessionHref(r.namespace, r.created) : '' })) });
  });

  // JSON: {action, sessions: [{namespace, name}]} or {action, filter: {namespace, pool, phase, labelSelector, q}}.
  app.post('/api/v1/sessions::batch', { bodyLimit: 256 * 1024, schema: SCHEMAS.api }, async (request) => {
    const body = formFields(request.body);
    const action = parseAction(body.action);
    if (body.filter !== undefined && body.sessions !== undefined) {
      throw new AppError(422, 'DF_ERR_INVALID', 'Nothing was done: give either sessions or filter, not both.', [{ field: 'filter', message: 'not with sessions' }]);
    }
    let query: RawQuery | undefined;
    if (body.filter !== undefined) {
      const f = formFields(body.filter);
      query = {};
      for (const k of ['namespace', 'pool', 'labelSelector', 'q'] as const) if (f[k] !== undefined) query[k] = String(f[k]);
      if (f.phase !== undefined) query.phase = Array.isArray(f.phase) ? f.phase.map(String) : String(f.phase);
    }
    return runBatch(sessionWriter(app, request), action, resolve(body, query));
  });
}

function groupParams(params: URLSearchParams): Array<[string, string | string[]]> {
  const out = new Map<string, string | string[]>();
  for (const [k, v] of params) {
    if (k === 'continue' || k === 'limit') continue; // "all matching" means every page
    const prev = out.get(k);
    out.set(k, prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]);
  }
  return [...out];
}
