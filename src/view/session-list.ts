// The live session list: one topic per query (its filters and page, as in the URL), so
// every viewer of the same query shares one stream of row updates, rendered once per change.
// Each update is a batch: the rows that changed since the last batch, and the order of the
// whole page, so a browser can insert, update and remove rows by id without re-fetching the
// list, keeping its own focus and selection (public/app.js). A new subscriber's snapshot is
// the same batch with every row. Pages never depend on a viewer's own state.
import { createHash } from 'node:crypto';
import { sessionMatcher } from '../farm/session-query.js';
import { AppError } from '../http/errors.js';
import { key, type FarmChange, type FarmStore } from '../farm/store.js';
import type { SessionView } from '../farm/types.js';
import { filterQuery, findSessions, parseSessionFilters, type SessionFilters } from '../routes/sessions/filters.js';
import { sessionRow, sessionRowId, type SessionRow } from './session-row.js';

/** The element each batch's rows are appended to; app.js moves them into the table. */
export const INBOX_ID = 'sessions-inbox';
const PREFIX = 'sessions?';

/** A fragment of the catalog's shape (see src/live/fragments.ts). */
export interface ListFragment {
  id: string;
  template: string;
  data: Record<string, unknown>;
  swap: string;
}

export interface SessionListBatch {
  id: string;
  /**
   * Row ids of the whole page, newest first (rows not listed leave it), or undefined when
   * the page holds the same sessions as before: then the batch only updates rows in place,
   * and a tick of one session's progress costs its row's bytes, not the page's ids.
   */
  order: string[] | undefined;
  rows: SessionRow[];
  snapshot: boolean;
}

export function sessionListTopic(filters: SessionFilters): string {
  return PREFIX + filterQuery(filters, filters.continue).slice(1);
}

export function isSessionListTopic(topic: string): boolean {
  return topic.startsWith(PREFIX);
}

/** The filters a list topic stands for, or undefined when it is not a valid query. */
export function listFilters(topic: string): SessionFilters | undefined {
  if (!isSessionListTopic(topic) || topic.length > 4096) return undefined;
  const raw: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(topic.slice(PREFIX.length))) {
    const prev = raw[k];
    raw[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  try {
    const filters = parseSessionFilters(raw);
    matcherOf(filters); // a selector that does not parse is no query either
    return filters;
  } catch {
    return undefined;
  }
}

function matcherOf(f: SessionFilters): (s: SessionView) => boolean {
  return sessionMatcher({ namespace: f.namespace, pool: f.pool, phases: f.phases, selector: f.labelSelector, text: f.q });
}

interface ListState {
  filters: SessionFilters;
  matches: (s: SessionView) => boolean;
  hash: string;
  /** resourceVersion of each row as the last batch left it: the next batch sends only what differs. */
  sent: Map<string, string>;
  batch: number;
}

export class SessionLists {
  private readonly lists = new Map<string, ListState>();

  constructor(
    private readonly store: FarmStore,
    private readonly now: () => number,
  ) {}

  /** The broker says a list topic gained its first subscriber or lost its last. */
  onTopic(topic: string, active: boolean): void {
    if (!active) {
      this.lists.delete(topic);
      return;
    }
    const filters = listFilters(topic);
    if (!filters || this.lists.has(topic)) return;
    this.lists.set(topic, {
      filters,
      matches: matcherOf(filters),
      hash: createHash('sha1').update(topic).digest('hex').slice(0, 12),
      // Empty, not the page as the first snapshot showed it: a change made while that
      // snapshot rendered reached no list yet, so the first batch sends every row once.
      sent: new Map(),
      batch: 0,
    });
  }

  /** Every row of the page: what a new subscriber needs. */
  snapshot(topic: string): ListFragment | undefined {
    const filters = listFilters(topic);
    if (!filters) return undefined;
    const id = `session-list__${createHash('sha1').update(topic).digest('hex').slice(0, 12)}__snapshot`;
    return this.fragment(id, () => {
      const page = this.page(filters);
      const now = this.now();
      return { id, order: page.map(sessionRowId), rows: page.map((s) => sessionRow(s, now)), snapshot: true };
    });
  }

  /** The lists a session change concerns, each as the batch that brings it up to date. */
  affected(change: FarmChange): Array<{ topic: string; fragment: ListFragment }> {
    const out: Array<{ topic: string; fragment: ListFragment }> = [];
    for (const [topic, state] of this.lists) {
      if (change.kind === 'session') {
        const k = key(change.view.namespace, change.view.name);
        const concerned = state.sent.has(k) || (change.type !== 'deleted' && state.matches(change.view)) || (change.old !== undefined && state.matches(change.old));
        if (!concerned) continue;
      } else if (change.kind !== 'sync') {
        continue;
      }
      out.push({ topic, fragment: this.update(state) });
    }
    return out;
  }

  private update(state: ListState): ListFragment {
    // Changes before the broker renders share this id (and one batch); the render moves to the next.
    const id = `session-list__${state.hash}__${state.batch}`;
    return this.fragment(id, () => {
      state.batch++;
      const page = this.page(state.filters);
      const sent = new Map<string, string>();
      const rows: SessionRow[] = [];
      const now = this.now();
      for (const s of page) {
        const k = key(s.namespace, s.name);
        sent.set(k, s.resourceVersion);
        if (state.sent.get(k) !== s.resourceVersion) rows.push(sessionRow(s, now));
      }
      const samePage = sent.size === state.sent.size && [...sent.keys()].every((k) => state.sent.has(k));
      state.sent = sent;
      return { id, order: samePage ? undefined : page.map(sessionRowId), rows, snapshot: false };
    });
  }

  private page(filters: SessionFilters): SessionView[] {
    try {
      return findSessions(this.store, filters).items;
    } catch (err) {
      // A cursor that no longer decodes: the page says so on its next load. Anything else is a bug.
      if (!(err instanceof AppError && err.status < 500)) this.store.errors.record('session_list', err, 'could not compute a session list page for its viewers');
      return [];
    }
  }

  /** Gathered only when rendered: a list nobody renders costs nothing. */
  private fragment(id: string, build: () => SessionListBatch): ListFragment {
    let data: SessionListBatch | undefined;
    return {
      id,
      template: '/partials/session-list-batch',
      swap: `beforeend:#${INBOX_ID}`,
      get data() {
        return (data ??= build()) as unknown as Record<string, unknown>;
      },
    };
  }
}
