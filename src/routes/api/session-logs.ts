// GET /api/v1/sessions/:namespace/:name/logs: the runner pod's log as plain text, like
// `kubectl logs`; `follow=true` keeps the response open and streams new lines until the log
// ends or the client goes (which aborts the request to the API server too). Everything
// that can be refused is refused before the 200: no runner pod yet, a pod that is gone, a
// container that is not ready, RBAC.
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { FINISHED_PHASES } from '../../farm/types.js';
import { AppError, badRequest, describeError, notFound } from '../../http/errors.js';
import { single } from '../../http/params.js';
import { ClusterError } from '../../kube/errors.js';
import { requireVisible } from '../../http/visibility.js';
import { isDnsLabel } from '../../kube/names.js';

interface LogQuery {
  follow?: string;
  timestamps?: string;
  previous?: string;
  tailLines?: string;
  container?: string;
}

/** More than this is what the plain (non-tail) log is for. */
const MAX_TAIL_LINES = 1_000_000;

export default async function sessionLogRoutes(app: FastifyInstance): Promise<void> {
  const { store, podLogs } = app.farm;

  app.get<{ Params: { namespace: string; name: string }; Querystring: LogQuery }>('/api/v1/sessions/:namespace/:name/logs', async (request, reply) => {
    const { namespace, name } = request.params;
    const { follow, tailLines, container, timestamps, previous } = parseLogQuery(request.query);
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

function parseLogQuery(query: LogQuery): { follow: boolean; tailLines: number | undefined; container: string | undefined; timestamps: boolean; previous: boolean } {
  const flag = (field: 'follow' | 'timestamps' | 'previous'): boolean => {
    const v = single(query[field], field);
    if (v !== undefined && !['', 'true', 'false', '1', '0'].includes(v)) throw badRequest(`${field} must be true or false.`, [{ field, message: 'not a boolean' }]);
    return v === 'true' || v === '1';
  };
  const follow = flag('follow');
  const timestamps = flag('timestamps');
  const previous = flag('previous');
  const tail = single(query.tailLines, 'tailLines');
  if (tail !== undefined && tail !== '' && (!/^\d{1,7}$/.test(tail) || Number(tail) > MAX_TAIL_LINES)) {
    throw badRequest(`tailLines must be a whole number from 0 to ${MAX_TAIL_LINES.toLocaleString('en')} (the number of lines from the end of the log).`, [
      { field: 'tailLines', message: 'not a line count' },
    ]);
  }
  const container = single(query.container, 'container');
  if (container && !isDnsLabel(container)) {
    throw badRequest("container must be a container name (lowercase letters, digits and '-', at most 63).", [{ field: 'container', message: 'not a container name' }]);
  }
  return { follow, tailLines: tail ? Number(tail) : undefined, container: container || undefined, timestamps, previous };
}

/** The API server's refusal in the dashboard's words: the one status mapping, with what was being read. */
function explainLogError(err: unknown, namespace: string, pod: string): unknown {
  if (!(err instanceof ClusterError)) return err;
  const { status, body } = describeError(err);
  const hint = err.status === 400 ? ' The runner container may not have started yet, or the pod has several containers (pick one with ?container=).' : '';
  return new AppError(status, body.error.code, `${err.explain(`read the log of runner pod ${namespace}/${pod}`)}${hint}`, err.causes);
}
