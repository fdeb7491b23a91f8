// The insights filters as the URL holds them (window, namespace, pool, template), checked
// like every other query parameter, and the live topic of one filter set: every viewer of
// the same filters shares one rendering per change.
import type { InsightsQuery } from '../farm/insights/insights.js';
import { DEFAULT_WINDOW, isWindow, WINDOW_NAMES } from '../farm/insights/window.js';
import { badRequest } from '../http/errors.js';
import { nameParam, namespaceParam, single } from '../http/params.js';
import { nameQuery, namespaceQuery, says } from '../http/schema.js';

const PREFIX = 'insights?';

/** The filters as a query-string schema, refusing what parseInsightsQuery would, in its words. */
export const INSIGHTS_QUERY = {
  type: 'object',
  properties: {
    window: says({ type: 'string', enum: [...WINDOW_NAMES], description: `The window (${DEFAULT_WINDOW} when left out).` }, { cause: `must be one of ${WINDOW_NAMES.join(', ')}` }),
    namespace: namespaceQuery,
    pool: nameQuery('DevicePool', 'Only this DevicePool.'),
    template: nameQuery('DeviceTemplate', 'Only pools of this DeviceTemplate.'),
  },
} as const;

export function parseInsightsQuery(raw: Record<string, unknown>): InsightsQuery {
  const window = single(raw.window, 'window') || DEFAULT_WINDOW;
  if (!isWindow(window)) {
    throw badRequest(`window must be one of ${WINDOW_NAMES.join(', ')} (it was "${window.slice(0, 20)}").`, [{ field: 'window', message: `one of ${WINDOW_NAMES.join(', ')}` }]);
  }
  return {
    window,
    namespace: namespaceParam(raw.namespace),
    pool: nameParam(raw.pool, 'pool', 'DevicePool'),
    template: nameParam(raw.template, 'template', 'DeviceTemplate'),
  };
}

/** The query string of a filter set, '' parts left out, in a fixed order. */
export function insightsSearch(q: InsightsQuery): string {
  const p = new URLSearchParams({ window: q.window });
  if (q.namespace) p.set('namespace', q.namespace);
  if (q.pool) p.set('pool', q.pool);
  if (q.template) p.set('template', q.template);
  return p.toString();
}

export const insightsTopic = (q: InsightsQuery): string => PREFIX + insightsSearch(q);

export function isInsightsTopic(topic: string): boolean {
  return topic.startsWith(PREFIX);
}

/** The filters an insights topic stands for, or undefined when it is not a valid one. */
export function topicQuery(topic: string): InsightsQuery | undefined {
  if (!isInsightsTopic(topic) || topic.length > 1024) return undefined;
  try {
    const q = parseInsightsQuery(Object.fromEntries(new URLSearchParams(topic.slice(PREFIX.length))));
    return insightsTopic(q) === topic ? q : undefined;
  } catch {
    return undefined;
  }
}
