// The session filters of /sessions and GET /api/v1/sessions, read from the query string
// the same way for both: namespace, pool, phase (repeated or comma-separated),
// labelSelector (kubectl syntax), q (part of the name), limit and continue.
import { AppError, badRequest } from '../../http/errors.js';
import { nameParam, namespaceParam, single } from '../../http/params.js';
import { MAX_LIMIT, parsePhases, QueryError, type SessionPage, type SessionQuery } from '../../farm/session-query.js';
import type { FarmStore } from '../../farm/store.js';
import { SESSION_PHASES, type SessionPhase } from '../../farm/types.js';
import { nameQuery, namespaceQuery, oneOrMany, says } from '../../http/schema.js';

export const DEFAULT_LIMIT = 50;

const text = (max: number, description: string) => says({ type: 'string', maxLength: max, description }, { cause: `is longer than ${max} characters` });

/** The filters as a query-string schema: the route refuses what parseSessionFilters would, in the same words. */
export const SESSION_FILTERS = {
  type: 'object',
  properties: {
    namespace: namespaceQuery,
    pool: nameQuery('DevicePool', 'Only sessions of this DevicePool.'),
    phase: oneOrMany(`Only these phases (repeat, or comma-separated): ${SESSION_PHASES.join(', ')}.`),
    labelSelector: text(1024, 'A Kubernetes label selector (kubectl syntax).'),
    q: text(253, 'Part of the name.'),
    limit: says({ type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: `Sessions per page (${DEFAULT_LIMIT} when left out).` }, { cause: `must be a whole number from 1 to ${MAX_LIMIT}` }),
    continue: text(2048, 'The `continue` of the previous page.'),
  },
} as const;

/** The filters as the viewer gave them, for the form and the links that keep them. */
export interface SessionFilters {
  namespace: string;
  pool: string;
  phases: SessionPhase[];
  labelSelector: string;
  q: string;
  limit: number;
  continue: string;
}

export type RawQuery = Record<string, string | string[] | undefined>;

export function parseSessionFilters(raw: Readonly<Record<string, unknown>>): SessionFilters {
  const text = (field: string, max: number) => {
    const v = (single(raw[field], field) ?? '').trim();
    if (v.length > max) throw badRequest(`${field} is longer than ${max} characters.`, [{ field, message: `is longer than ${max} characters` }]);
    return v;
  };
  // A number once the route's schema has read it; a string from a topic or a batch filter.
  const limitRaw = typeof raw.limit === 'number' ? String(raw.limit) : single(raw.limit, 'limit');
  let limit = DEFAULT_LIMIT;
  if (limitRaw !== undefined && limitRaw !== '') {
    limit = Number(limitRaw);
    if (!/^\d+$/.test(limitRaw) || limit < 1 || limit > MAX_LIMIT) {
      throw badRequest(`limit must be a whole number from 1 to ${MAX_LIMIT}.`, [{ field: 'limit', message: `must be a whole number from 1 to ${MAX_LIMIT}` }]);
    }
  }
  let phases: SessionPhase[];
  try {
    phases = parsePhases(raw.phase as string | string[] | undefined);
  } catch (err) {
    throw queryError(err);
  }
  return {
    namespace: namespaceParam(raw.namespace) ?? '',
    pool: nameParam(raw.pool, 'pool', 'DevicePool') ?? '',
    phases,
    labelSelector: text('labelSelector', 1024),
    q: text('q', 253),
    limit,
    continue: text('continue', 2048),
  };
}

/** Runs the filters against the store; a bad selector or cursor becomes a 400. */
export function findSessions(store: FarmStore, f: SessionFilters, namespaces?: ReadonlySet<string>): SessionPage {
  const query: SessionQuery = {
    namespace: f.namespace || undefined,
    namespaces,
    pool: f.pool || undefined,
    phases: f.phases,
    selector: f.labelSelector || undefined,
    text: f.q || undefined,
    limit: f.limit,
    cursor: f.continue || undefined,
  };
  try {
    return store.querySessions(query);
  } catch (err) {
    throw queryError(err);
  }
}

/** The query string of these filters, with another page's cursor; empty fields left out. */
export function filterQuery(f: SessionFilters, cursor = ''): string {
  const params = new URLSearchParams();
  if (f.namespace) params.set('namespace', f.namespace);
  if (f.pool) params.set('pool', f.pool);
  for (const p of f.phases) params.append('phase', p);
  if (f.labelSelector) params.set('labelSelector', f.labelSelector);
  if (f.q) params.set('q', f.q);
  if (f.limit !== DEFAULT_LIMIT) params.set('limit', String(f.limit));
  if (cursor) params.set('continue', cursor);
  const s = params.toString();
  return s ? `?${s}` : '';
}

function queryError(err: unknown): AppError {
  if (err instanceof QueryError) {
    // The store calls it the selector; the query parameter is labelSelector.
    const field = err.field === 'selector' ? 'labelSelector' : err.field;
    const message = err.message.startsWith(err.field) ? err.message : `${field}: ${err.message}`;
    return badRequest(`${message}.`, [{ field, message: err.message }]);
  }
  throw err;
}
