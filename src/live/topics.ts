// What a page subscribes to: a topic names one page's live data ("pool:team-a/pixel-7"),
// and a scoped topic ("farm~<id>") one person's view of a farm-wide page. Names and parsing
// only: which fragments a topic carries is fragments.ts.
import { insightsTopic, topicQuery } from '../view/insights-query.js';
import { listFilters, sessionListTopic } from '../view/session-list.js';
import { logTopic } from './log-panel.js';

export const topics = {
  farm: 'farm',
  pools: 'pools',
  /** A session list: its filters and page, as in its URL (see src/view/session-list.ts). */
  sessions: sessionListTopic,
  pool: (namespace: string, name: string) => `pool:${namespace}/${name}`,
  device: (namespace: string, pool: string, device: string) => `device:${namespace}/${pool}/${device}`,
  /** A pool's device wall: every device with its stream; the page picks what it frames. */
  wall: (namespace: string, name: string) => `wall:${namespace}/${name}`,
  session: (namespace: string, name: string) => `session:${namespace}/${name}`,
  /** The runner log of a session: subscribing starts following its pod (see log-follower.ts). */
  log: logTopic,
  /** The insights page of one filter set (see src/view/insights-query.ts). */
  insights: insightsTopic,
};

const TOPIC = /^(farm|pools|(?:pool|session|log|wall):[^/\s]{1,253}\/[^/\s]{1,253}|device:[^/\s]{1,253}\/[^/\s]{1,253}\/[^/\s]{1,253})$/;

export function isTopic(topic: string): boolean {
  return TOPIC.test(topic) || listFilters(topic) !== undefined || topicQuery(topic) !== undefined;
}

/** "pool:team-a/pixel-7" → ["pool", "team-a/pixel-7"]. */
export function splitTopic(topic: string): [string, string | undefined] {
  const i = topic.indexOf(':');
  return i < 0 ? [topic, undefined] : [topic.slice(0, i), topic.slice(i + 1)];
}

/** The farm-wide topics that come in one scoped copy per distinct view of the farm. */
const SCOPED_BASES = new Set([topics.farm, topics.pools]);

/** "farm~<id>" → its base topic and scope id; undefined for any other topic. */
export function splitScoped(topic: string): { base: string; id: string } | undefined {
  const i = topic.indexOf('~');
  if (i < 0) return undefined;
  const base = topic.slice(0, i);
  return SCOPED_BASES.has(base) ? { base, id: topic.slice(i + 1) } : undefined;
}
