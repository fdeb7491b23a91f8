// Filtering and paging of sessions for /sessions and GET /api/v1/sessions: the same rules
// for both. Cursors are opaque to clients and stable while sessions come and go.
import { parseSelector } from './labels.js';
import { SESSION_PHASES, type SessionPhase, type SessionView } from './types.js';
import type { OrderKey, SessionOrder } from './session-order.js';

export interface SessionQuery {
  namespace?: string | undefined;
  /** Only sessions in these namespaces (what the person may see); undefined: all. */
  namespaces?: ReadonlySet<string> | undefined;
  pool?: string | undefined;
  phases?: SessionPhase[];
  selector?: string | undefined;
  /** Case-insensitive substring of the session's name. */
  text?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface SessionPage {
  items: SessionView[];
  /** Pass back as `continue` for the next page; undefined on the last page. */
  next: string | undefined;
}

export class QueryError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

export const MAX_LIMIT = 500;

export function parsePhases(raw: string | string[] | undefined): SessionPhase[] {
  if (raw === undefined || raw === '') return [];
  const values = (Array.isArray(raw) ? raw : raw.split(',')).map((v) => v.trim()).filter(Boolean);
  const phases: SessionPhase[] = [];
  for (const v of values) {
    const phase = SESSION_PHASES.find((p) => p.toLowerCase() === v.toLowerCase());
    if (!phase) throw new QueryError('phase', `phase "${v}" is not one of ${SESSION_PHASES.join(', ')}`);
    if (!phases.includes(phase)) phases.push(phase);
  }
  return phases;
}

/** Whether a session passes a query's filters (paging aside); a bad selector is a QueryError. */
export function sessionMatcher(q: Omit<SessionQuery, 'limit' | 'cursor'>): (s: SessionView) => boolean {
  let match: (labels: Readonly<Record<string, string>>) => boolean;
  try {
    match = parseSelector(q.selector);
  } catch (err) {
    throw new QueryError('selector', (err as Error).message);
  }
  const text = q.text?.trim().toLowerCase();
  const phases = q.phases && q.phases.length > 0 ? new Set(q.phases) : undefined;
  return (s) =>
    (!q.namespace || s.namespace === q.namespace) &&
    (!q.namespaces || q.namespaces.has(s.namespace)) &&
    (!q.pool || s.spec.poolName === q.pool) &&
    (!phases || phases.has(s.phase)) &&
    (!text || s.name.toLowerCase().includes(text)) &&
    match(s.labels);
}

export function querySessions(order: SessionOrder, q: SessionQuery): SessionPage {
  const matches = sessionMatcher(q);
  const items: SessionView[] = [];
  let last: SessionView | undefined;
  let more = false;
  for (const s of order.newestFirst(q.cursor ? decodeCursor(q.cursor) : undefined)) {
    if (!matches(s)) continue;
    if (items.length === q.limit) {
      more = true;
      break;
    }
    items.push(s);
    last = s;
  }
  return { items, next: more && last ? encodeCursor({ createdAt: last.createdAt ?? 0, key: `${last.namespace}/${last.name}` }) : undefined };
}

export function encodeCursor(k: OrderKey): string {
  return Buffer.from(JSON.stringify([k.createdAt, k.key])).toString('base64url');
}

export function decodeCursor(cursor: string): OrderKey {
  try {
    const [createdAt, key] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof createdAt === 'number' && typeof key === 'string') return { createdAt, key };
  } catch {
    // fall through
  }
  throw new QueryError('continue', 'the continue token is not valid; start again from the first page');
}
