// GET /live?topic=…: the page's one EventSource. Headers go out at once (an empty 200 would
// look like a dead stream), compression and proxy buffering are off (the stream writes to
// the hijacked raw response, which @fastify/compress never sees), streams are capped in
// all and per client address, and the broker owns the connection from there.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forgetRequestScope, insightsScope, knownNamespaces, notVisible, requireVisible, streamScope, userScope } from '../../http/visibility.js';
import { sameVisible, type StreamScope, type StreamVisible } from '../../http/scope-follow.js';
import type { LiveClient } from '../../live/client.js';
import { closingEvent } from '../../live/sse-frame.js';
import { topicQuery } from '../../view/insights-query.js';
import { listFilters, splitListScope } from '../../view/session-list.js';
import { badRequest } from '../../http/errors.js';
import { isTopic, splitTopic } from '../../live/topics.js';
import { oneOrMany } from '../../http/schema.js';

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
  'X-Content-Type-Options': 'nosniff',
} as const;

const MAX_TOPICS = 8;

export default async function liveRoutes(app: FastifyInstance): Promise<void> {
  const schema = { summary: "A page's live updates (text/event-stream)", querystring: { type: 'object', properties: { topic: oneOrMany(`1 to ${MAX_TOPICS} topics.`) } } };
  app.get<{ Querystring: { topic?: string | string[] } }>('/live', { schema }, async (request, reply) => {
    const raw = request.query.topic;
    const topics = [...new Set(Array.isArray(raw) ? raw : raw ? [raw] : [])];
    // Scoped topics are the server's to choose (below), never a browser's.
    if (topics.length === 0 || topics.length > MAX_TOPICS || !topics.every((t) => isTopic(t) && splitListScope(t).scopeId === undefined)) {
      throw badRequest(`Subscribe to 1 to ${MAX_TOPICS} topics such as farm, pools, pool:<namespace>/<name> or device:<namespace>/<pool>/<device>.`);
    }
    // What the person may see first, then the topics that follow from it: a change between the
    // two makes the stream's first refresh look closer, never less.
    const scope = request.identity && (await streamScope(app, request.identity));
    const subscribed = await scopedTopics(app, request, topics);
    // Counted until the response closes; past a cap, a 503 or 429 with Retry-After.
    app.farm.admission.admit(request.ip, reply.raw);
    reply.hijack();
    reply.raw.writeHead(200, SSE_HEADERS);
    reply.raw.flushHeaders();
    const lastEventId = request.headers['last-event-id'];
    const client = await app.farm.broker.connect(reply.raw, subscribed, typeof lastEventId === 'string' ? lastEventId : undefined);
    if (scope) followPermissions(app, request, scope, topics, subscribed, client, reply.raw);
  });
}

/** What a page hears when its stream ends because the person's permissions changed; the browser reconnects. */
const RESCOPE_EVENT = closingEvent('rescope', 'your permissions changed');

/**
 * A signed-in person's stream rests on their permissions when it connected. Each time their
 * scope is asked again (app.farm.scopes: as the cached answers expire, or at once after a
 * 403), a stream whose topics would now differ ends with the reconnect hint, so the page
 * comes back with what the person may see now, or is refused saying why. When what they may
 * list and watch is unchanged, and every topic's namespace is among those that answer
 * covers, there is nothing to ask: no review per stream, none per event.
 */
function followPermissions(app: FastifyInstance, request: FastifyRequest, started: StreamScope, topics: string[], subscribed: string[], client: LiveClient, res: ServerResponse): void {
  const who = request.identity!;
  let seen = started.visible;
  let checking = false;
  const recheck = async (visible: StreamVisible | undefined) => {
    if (client.isEnded || checking) return;
    if (visible && sameVisible(visible, seen) && coveredByScope(app, topics)) return;
    checking = true;
    forgetRequestScope(request);
    const now = visible && (await scopedTopics(app, request, topics).catch(() => undefined));
    checking = false;
    if (client.isEnded) return;
    if (!now || now.length !== subscribed.length || now.some((t, i) => t !== subscribed[i])) client.end('closed', RESCOPE_EVENT);
    else seen = visible;
  };
  if (client.isEnded) return;
  const stop = app.farm.scopes.follow(who, started.until, (visible) => void recheck(visible));
  res.once('close', stop);
}

/** Whether every namespace these topics name is one a person's scope answers for (the namespaces the dashboard knows). */
function coveredByScope(app: FastifyInstance, topics: string[]): boolean {
  const known = new Set(knownNamespaces(app));
  return topics.every((topic) => {
    const namespace = topicNamespace(topic);
    return namespace === undefined || known.has(namespace);
  });
}

/** The one namespace a topic is about; undefined for the farm-wide ones. */
function topicNamespace(topic: string): string | undefined {
  const insights = topicQuery(topic);
  if (insights) return insights.namespace;
  const filters = listFilters(topic);
  if (filters) return filters.namespace;
  const [, rest] = splitTopic(topic);
  return rest?.split('/')[0];
}

/**
 * What a signed-in person subscribes to: a topic about one namespace only where they may
 * list and watch its kind (else 403, saying which); the farm-wide topics and a session list across namespaces as
 * their scoped variant, shared by everyone who sees the same namespaces.
 */
async function scopedTopics(app: FastifyInstance, request: FastifyRequest, topics: string[]): Promise<string[]> {
  if (!request.identity) return topics;
  const out: string[] = [];
  for (const topic of topics) {
    if (topic === 'farm' || topic === 'pools') {
      const scope = await userScope(app, request, 'stream');
      out.push(scope ? app.farm.catalog.scopedTopic(topic, scope) : topic);
      continue;
    }
    const insights = topicQuery(topic);
    if (insights) {
      // The farm's figures only for someone who may read (and watch) every namespace; else one of theirs.
      const { choices } = await insightsScope(app, request, insights.namespace, 'stream');
      if (choices && !insights.namespace) throw notVisible(request.identity, 'sessions', 'every namespace this dashboard watches');
      out.push(topic);
      continue;
    }
    const filters = listFilters(topic);
    if (filters) {
      if (filters.namespace) {
        await requireVisible(app, request, 'sessions', filters.namespace, 'stream');
        out.push(topic);
        continue;
      }
      const scope = await userScope(app, request, 'stream');
      out.push(scope?.sessions ? app.farm.catalog.scopedListTopic(topic, scope) : topic);
      continue;
    }
    const [kind] = splitTopic(topic);
    await requireVisible(app, request, kind === 'pool' || kind === 'device' ? 'pools' : 'sessions', topicNamespace(topic) ?? '', 'stream');
    out.push(topic);
  }
  return out;
}
