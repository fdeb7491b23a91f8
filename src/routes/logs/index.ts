// The runner log viewer: the whole log of a session's runner pod, read once from
// GET /api/v1/sessions/:ns/:name/logs?timestamps=true (the apiserver's own timestamps) and
// shown in the browser by public/app.js: search (text or regular expression) with the match
// count and highlights, wrap and timestamps on or off (in the viewer's time zone), ANSI
// colours as classes, links to a line (#L123), download as shown, and the previous
// container's log after a restart. It also follows the live tail: the page subscribes to the
// session's log topic, the same shared follow as the session page's panel (log-follower.ts),
// whose spans carry the lines as read (times, colours); public/app.js appends the lines newer
// than the ones it read, with Pause/Resume and "N new lines".
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../http/errors.js';
import { sessionHref } from '../../view/links.js';
import { topics } from '../../live/topics.js';
import { panelIds } from '../../live/log-panel.js';
import { FINISHED_PHASES } from '../../farm/types.js';
import { pathParams, type DocumentedSchema } from '../../http/schema.js';

const SCHEMA = {
  summary: 'The runner log viewer',
  params: pathParams('namespace', 'name'),
  querystring: { type: 'object', properties: { previous: { type: 'string', description: "true: the previous container's log." } } },
} satisfies DocumentedSchema;

export default async function logViewerRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.farm;

  app.get<{ Params: { namespace: string; name: string }; Querystring: { previous?: string } }>('/sessions/:namespace/:name/log', { schema: SCHEMA }, async (request, reply) => {
    const { namespace, name } = request.params;
    const session = store.getSession(namespace, name);
    if (!session && store.syncStatus().synced) throw notFound(`TestSession ${namespace}/${name}`);
    const previous = request.query.previous === 'true';
    const base = `/api/v1/sessions/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/logs`;
    const here = `${sessionHref(namespace, name)}/log`;
    return reply.view('/pages/log-viewer', {
      title: `Log · ${name}`,
      namespace,
      name,
      pod: session?.podName ?? '',
      sessionHref: sessionHref(namespace, name),
      previous,
      source: `${base}?timestamps=true${previous ? '&previous=true' : ''}`,
      otherHref: previous ? here : `${here}?previous=true`,
      download: `${name}${previous ? '-previous' : ''}.log`,
      // The previous container's log is complete: nothing to follow.
      topics: previous ? [] : [topics.log(namespace, name)],
      follow: previous ? undefined : { panelId: panelIds(namespace, name).id, running: !!session && !FINISHED_PHASES.has(session.phase) },
    });
  });
}
