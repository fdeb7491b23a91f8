// GET /live?topic=…: the page's one EventSource. Headers go out at once (an empty 200 would
// look like a dead stream), compression and proxy buffering are off (the stream writes to
// the hijacked raw response, which @fastify/compress never sees), streams are capped in
// all and per client address, and the broker owns the connection from there.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { forgetRequestScope, insightsScope, notVisible, requireVisible, scopeValidUntil, userScope } from '../../http/visibility.js';
import type { LiveClient } from '../../live/client.js';
import { RETRY_MS } from '../../live/broker.js';
import { topicQuery } from '../../view/insights-query.js';
import { listFilters, splitListScope } from '../../view/session-list.js';
import { badRequest } from '../../http/errors.js';
import { isTopic } from '../../live/topics.js';
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
    const subscribed = await scopedTopics(app, request, topics);
    // Counted until the response closes; past a cap, a 503 or 429 with Retry-After.
    app.farm.admission.admit(request.ip, reply.raw);
    reply.hijack();
    reply.raw.writeHead(200, SSE_HEADERS);
    reply.raw.flushHeaders();
    const lastEventId = request.headers['last-event-id'];
    const client = await app.farm.broker.connect(reply.raw, subscribed, typeof lastEventId === 'string' ? lastEventId : undefined);
    if (request.identity) followPermissions(app, request, topics, subscribed, client, reply.raw);
  });
}

/** What a page hears when its stream ends because the person's permissions changed; the browser reconnects. */
const RESCOPE_EVENT = `retry: ${RETRY_MS}\nevent: rescope\ndata: your permissions changed\n\n`;
/** A stream's permissions are never asked again sooner than this. */
const MIN_RECHECK_MS = 1_000;

/**
 * A signed-in person's stream rests on their permissions when it connected. As the cached
 * answers expire (the access TTL), or at once when their RBAC proved different (a 403), they
 * are asked again; a stream whose topics would now differ ends with the reconnect hint, so the
 * page comes back with what the person may see now, or is refused saying why. The same
 * answers serve every stream of the person: no review per stream, none per event.
 */
function followPermissions(app: FastifyInstance, request: FastifyRequest, topics: string[], subscribed: string[], client: LiveClient, res: ServerResponse): void {
  const who = request.identity!;
  let timer: NodeJS.Timeout | undefined;
  let checking = false;
  const schedule = () => {
    timer = setTimeout(() => void recheck(), Math.max(MIN_RECHECK_MS, scopeValidUntil(app, who) - Date.now()));
    timer.unref();
  };
  const recheck = async () => {
    clearTimeout(timer);
    if (client.isEnded || checking) return;
    checking = true;
    forgetRequestScope(request);
    const now = await scopedTopics(app, request, topics).catch(() => undefined);
    checking = false;
    if (client.isEnded) return;
    if (!now || now.length !== subscribed.length || now.some((t, i) => t !== subscribed[i])) client.end('closed', RESCOPE_EVENT);
    else schedule();
  };
  const stop = app.farm.access.onForget((user) => {
    if (user === who.user) void recheck();
  });
  res.once('close', () => {
    clearTimeout(timer);
    stop();
  });
  schedule();
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
    const [kind = '', rest = ''] = topic.split(/:(.*)/s);
    const namespace = rest.split('/')[0] ?? '';
    await requireVisible(app, request, kind === 'pool' || kind === 'device' ? 'pools' : 'sessions', namespace, 'stream');
    out.push(topic);
  }
  return out;
}
