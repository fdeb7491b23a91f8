// GET /api/v1/sessions/:namespace/:name/logs: the runner pod's log as plain text, like
// `kubectl logs`; `follow=true` keeps the response open and streams new lines until the log
// ends or the client goes (which aborts the request to the API server too). Everything
// that can be refused is refused before the 200: no runner pod yet, a pod that is gone, a
// container that is not ready, RBAC.
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { FINISHED_PHASES } from '../../farm/types.js';
import { AppError, describeError, notFound } from '../../http/errors.js';
import { ClusterError } from '../../kube/errors.js';
import { requireVisible } from '../../http/visibility.js';
import { DNS_LABEL_PATTERN } from '../../kube/names.js';
import { pathParams, says, type DocumentedSchema } from '../../http/schema.js';
import { READ_ERRORS } from './answers.js';

type Flag = 'true' | 'false' | '1' | '0';

interface LogQuery {
  follow?: Flag;
  timestamps?: Flag;
  previous?: Flag;
  tailLines?: number;
  container?: string;
}

/** More than this is what the plain (non-tail) log is for. */
const MAX_TAIL_LINES = 1_000_000;

const flag = (description: string) => says({ type: 'string', enum: ['true', 'false', '1', '0'], description }, { cause: 'must be true or false' });

const SCHEMA = {
  summary: "The runner pod's log, as plain text",
  params: pathParams('namespace', 'name'),
  querystring: {
    type: 'object',
    properties: {
      follow: flag('true: keep the response open and stream new lines.'),
      timestamps: flag("true: each line starts with the API server's RFC 3339 timestamp."),
      previous: flag("true: the previous container's log, after a restart."),
      tailLines: says(
        { type: 'integer', minimum: 0, maximum: MAX_TAIL_LINES, description: 'Only the last lines.' },
        { cause: `must be a whole number from 0 to ${MAX_TAIL_LINES.toLocaleString('en')} (the number of lines from the end of the log)` },
      ),
      container: says({ type: 'string', pattern: DNS_LABEL_PATTERN, description: 'A container of the runner pod other than the first.' }, { cause: "must be a container name (lowercase letters, digits and '-', at most 63)" }),
    },
  },
  produces: { 200: { type: 'text/plain', description: 'The log' } },
  errors: {
    ...READ_ERRORS,
    '404': { codes: ['DF_ERR_NOT_FOUND', 'DF_ERR_NO_RUNNER_POD', 'DF_ERR_KUBE_NOT_FOUND'], description: 'No such session, or it ended without a runner pod' },
    '409': { codes: ['DF_ERR_NO_RUNNER_POD'], description: 'No runner pod yet' },
    '503': { codes: ['DF_ERR_NOT_SYNCED', 'DF_ERR_LOG_FOLLOWS_FULL', 'DF_ERR_KUBE_UNAVAILABLE'], description: 'Not read yet, too many logs being read, or the cluster is unreachable; Retry-After' },
  },
} satisfies DocumentedSchema;

export default async function sessionLogRoutes(app: FastifyInstance): Promise<void> {
  const { store, podLogs } = app.farm;

  app.get<{ Params: { namespace: string; name: string }; Querystring: LogQuery }>('/api/v1/sessions/:namespace/:name/logs', { schema: SCHEMA }, async (request, reply) => {
    const { namespace, name } = request.params;
    const { tailLines, container } = request.query;
    const [follow, timestamps, previous] = (['follow', 'timestamps', 'previous'] as const).map((f) => request.query[f] === 'true' || request.query[f] === '1');
    await requireVisible(app, request, 'sessions', namespace);
    const session = store.getSession(namespace, name);
    if (!session) throw notFound(`TestSession ${namespace}/${name}`);
    const pod = session.podName;
    if (!pod) {
      if (FINISHED_PHASES.has(session.phase)) {
        throw new AppError(404, 'DF_ERR_NO_RUNNER_POD', `TestSession ${namespace}/${name} ended (${session.phase}) without a runner pod, so it has no log.`);
      }
      throw new AppError(409, 'DF_ERR_NO_RUNNER_POD', `No runner pod yet: the session is ${session.phase}. Its log can be read once the operator has started the runner (status.podName); try again then.`);
    }

    const abort = new AbortController();
    reply.raw.on('close', () => abort.abort());
    try {
      await podLogs.checkReadable(namespace, pod, container ? { container } : {});
    } catch (err) {
      throw explainLogError(err, namespace, pod);
    }

    const out = new PassThrough();
    podLogs.read(namespace, pod, out, { follow, timestamps, previous, signal: abort.signal, ...(tailLines !== undefined ? { tailLines } : {}), ...(container ? { container } : {}) }).then(
      () => {
        if (!out.destroyed && !out.writableEnded) out.end();
      },
      (err: unknown) => {
        // The 200 is out: cutting the response short is how a streamed failure shows (curl exits 18).
        if (!abort.signal.aborted) request.log.info({ err, namespace, pod }, 'a runner log stream failed');
        out.destroy(err instanceof Error ? err : new Error(String(err)));
      },
    );
    return reply
      .type('text/plain; charset=utf-8')
      .header('Cache-Control', 'no-cache, no-transform')
      .header('X-Accel-Buffering', 'no')
      .send(out);
  });
}

/** The API server's refusal in the dashboard's words: the one status mapping, with what was being read. */
function explainLogError(err: unknown, namespace: string, pod: string): unknown {
  if (!(err instanceof ClusterError)) return err;
  const { status, body } = describeError(err);
  const hint = err.status === 400 ? ' The runner container may not have started yet, or the pod has several containers (pick one with ?container=).' : '';
  return new AppError(status, body.error.code, `${err.explain(`read the log of runner pod ${namespace}/${pod}`)}${hint}`, err.causes);
}
