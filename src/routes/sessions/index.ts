// Sessions: the list (newest first, filters in the URL, cursor pages, live), one session's
// page (phase, progress, device, artifacts, timeline, live), the new-session form and the
// Stop / Retry / Delete buttons. Writes go to the apiserver only (src/kube/session-writer.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FarmStore } from '../../farm/store.js';
import { AppError, notFound } from '../../http/errors.js';
import { liveHref, sessionHref } from '../../view/links.js';
import { checkSessionRequest } from '../../farm/session-request.js';
import { toYaml } from '../../view/yaml.js';
import { flashDeleted, takeFlash } from '../../http/flash.js';
import { newRequestId, plannedSession } from '../../kube/session-objects.js';
import { sessionWriter } from '../writers.js';
import { countMatching } from './batch.js';
import { emptyForm, errorSummary, fieldId, FORM_FIELDS, formErrors, formToRequest, readForm, type SessionForm } from './form.js';
import { formField, pathParams, type DocumentedSchema } from '../../http/schema.js';
import { wantsFragment } from '../../http/negotiate.js';
import { topics } from '../../live/topics.js';
import { SESSION_PHASES } from '../../farm/types.js';
import { DEFAULT_LIMIT, filterQuery, findSessions, parseSessionFilters, SESSION_FILTERS, type RawQuery, type SessionFilters } from './filters.js';
import { sessionRow } from '../../view/session-row.js';
import { outOfBand } from '../../live/oob.js';
import { deniedActions } from '../../http/access.js';
import { requireVisible, visibleNamespaces } from '../../http/visibility.js';

const RESULTS_ID = 'sessions-results';

type SessionParams = { Params: { namespace: string; name: string } };

const params = pathParams('namespace', 'name');
/** The new-session form's fields as typed: its own rules (the CRD's) answer beside each field. */
const sessionForm = { type: ['object', 'null'], properties: Object.fromEntries(FORM_FIELDS.map((f) => [f, formField(`The form's ${f} field.`)])) } as const;
const text = (description: string) => ({ type: 'string', maxLength: 1024, description }) as const;

const SCHEMAS = {
  newForm: { summary: 'The new-session form', querystring: { type: 'object', properties: { namespace: text('Preselect this namespace.'), pool: text('Preselect this DevicePool.') } } },
  preview: { summary: 'The kubectl YAML and curl command of what the form would create', querystring: sessionForm },
  create: { summary: 'Create a TestSession from the form', body: sessionForm },
  action: { summary: 'Stop, Retry or Delete one session', params },
  list: { summary: 'The sessions list', querystring: SESSION_FILTERS },
  page: { summary: "One session's page", params },
} satisfies Record<string, DocumentedSchema>;

export default async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const { store, catalog, config } = app.farm;
  const actions = (request: FastifyRequest) => sessionWriter(app, request);

  // The form posts urlencoded fields; repeated names become lists. Small bodies only.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(body as string)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    done(null, out);
  });

  app.get<{ Querystring: { namespace?: string; pool?: string } }>('/sessions/new', { schema: SCHEMAS.newForm }, async (request, reply) => {
    const q = request.query;
    return renderForm(reply, emptyForm(newRequestId(), q.namespace ?? '', q.pool ?? ''), {});
  });

  // "Copy as kubectl YAML / curl" for what the form would create; changes nothing.
  app.get<{ Querystring: Record<string, string | string[]> }>('/sessions/new/preview', { schema: SCHEMAS.preview }, async (request, reply) => {
    return reply.view('/partials/session-preview', preview(readForm(request.query), request));
  });

  app.post('/sessions', { bodyLimit: 64 * 1024, schema: SCHEMAS.create }, async (request, reply) => {
    const form = readForm(request.body);
    try {
      const { session } = await actions(request).create(formToRequest(form), form.requestId || undefined);
      const ns = session.namespace || form.namespace;
      await sessionArrives(store, ns, session.name);
      // A full navigation, so the session page loads with its own stream and history entry.
      return reply.header('HX-Redirect', sessionHref(ns, session.name)).code(201).send('');
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 422) throw err;
      reply.code(422);
      return renderForm(reply, form, { ...formErrors(err.fields), ...(err.fields.length ? {} : { form: [err.message] }) }, err.fields.length ? err.message : 'The session was not created.');
    }
  });

  app.post<SessionParams>('/sessions/:namespace/:name/cancel', { schema: SCHEMAS.action }, async (request, reply) => {
    const { namespace, name } = request.params;
    await actions(request).cancel(namespace, name);
    return reply.view('/partials/flash', { level: 'info', message: `Stop requested for ${name}: the operator ends it as Cancelled.` });
  });

  app.post<SessionParams>('/sessions/:namespace/:name/retry', { schema: SCHEMAS.action }, async (request, reply) => {
    const { namespace, name } = request.params;
    const created = await actions(request).retry(namespace, name);
    await sessionArrives(store, namespace, created.name);
    return reply.header('HX-Redirect', sessionHref(namespace, created.name)).code(201).send('');
  });

  app.post<SessionParams>('/sessions/:namespace/:name/delete', { schema: SCHEMAS.action }, async (request, reply) => {
    const { namespace, name } = request.params;
    await actions(request).delete(namespace, name);
    // The list it lands on must not show it any more, and says what was deleted.
    await sessionLeaves(store, namespace, name);
    flashDeleted(reply, namespace, name, '/sessions');
    return reply.header('HX-Redirect', '/sessions').send('');
  });

  async function renderForm(reply: FastifyReply, form: SessionForm, errors: Record<string, string[]>, summary = '') {
    const request = reply.request;
    const visible = await visibleNamespaces(app, request, 'pools');
    const pools = store.listPools().filter((p) => (!config.namespaces.length || config.namespaces.includes(p.namespace)) && (!visible || visible.has(p.namespace)));
    return reply.view('/pages/session-new', {
      title: 'New session · Sessions',
      form,
      errors,
      summary,
      problems: summary ? errorSummary(errors) : [],
      fieldId,
      preview: preview(form, request),
      pools: pools.map((p) => ({ namespace: p.namespace, name: p.name, idle: p.devices.filter((d) => d.state === 'Idle').length, total: p.devices.length })),
      namespaces: [...new Set([...config.namespaces.filter((ns) => !visible || visible.has(ns)), ...pools.map((p) => p.namespace)])].sort(),
    });
  }

  // A bad filter is said on the page, beside the filters as typed: the schema's refusal is
  // handled here rather than as an error page.
  app.get<{ Querystring: RawQuery }>('/sessions', { schema: SCHEMAS.list, attachValidation: true }, async (request, reply) => {
    let filters: SessionFilters;
    let results: Record<string, unknown>;
    const visible = await visibleNamespaces(app, request, 'sessions');
    try {
      if (request.validationError) throw request.validationError;
      filters = parseSessionFilters(request.query);
      if (filters.namespace) await requireVisible(app, request, 'sessions', filters.namespace);
      results = listData(filters, false, visible);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 400) throw err;
      // Keep what the viewer typed and say what is wrong next to it.
      filters = { namespace: '', pool: '', phases: [], labelSelector: '', q: '', limit: DEFAULT_LIMIT, continue: '', ...looseFilters(request.query) };
      results = { ...listData({ ...filters, labelSelector: '', continue: '', namespace: '', pool: '', phases: [] }, true, visible), error: err.message, errorFields: err.fields.map((f) => f.field) };
      reply.code(400);
    }
    // The filter form and the page links swap only the results (the URL is pushed), and the
    // page's stream moves to the new query's topic: htmx closes the old connection.
    // Someone who sees only some namespaces subscribes to the same topic: /live scopes it.
    const live = [topics.sessions(filters)];
    if (wantsFragment(request) && request.headers['hx-target'] === RESULTS_ID) {
      const [html, liveHtml] = await Promise.all([
        app.view('/partials/sessions-results', results),
        app.view('/partials/live-connection', { href: liveHref(live) }),
      ]);
      return reply.type('text/html; charset=utf-8').send(`${html}\n${outOfBand(liveHtml)}`);
    }
    return renderList(reply, filters, results, live, visible);
  });

  app.get<SessionParams>('/sessions/:namespace/:name', { schema: SCHEMAS.page }, async (request, reply) => {
    const { namespace, name } = request.params;
    await requireVisible(app, request, 'sessions', namespace);
    const detail = catalog.sessionDetail(namespace, name);
    if (!detail.data.exists && store.syncStatus().synced) throw notFound(`TestSession ${namespace}/${name}`);
    // The runner log has a topic of its own: the page's one stream subscribes to both.
    const log = catalog.sessionLog(namespace, name);
    const denied = request.identity ? await deniedActions(app.farm.access, request.identity, namespace) : undefined;
    return reply.view('/pages/session', {
      denied,
      title: `${name} · Sessions`,
      topics: [topics.session(namespace, name), ...(log ? [topics.log(namespace, name)] : [])],
      detail: detail.data,
      log: log?.data,
      yamlHref: `${sessionHref(namespace, name)}/yaml`,
    });
  });

  function listData(filters: SessionFilters, empty = false, visible?: ReadonlySet<string>): Record<string, unknown> {
    const now = Date.now();
    const page = empty ? { items: [], next: undefined } : findSessions(store, filters, visible);
    return {
      id: RESULTS_ID,
      synced: store.syncStatus().synced,
      rows: page.items.map((s) => sessionRow(s, now)),
      limit: filters.limit,
      next: page.next ? `/sessions${filterQuery(filters, page.next)}` : '',
      first: filters.continue ? `/sessions${filterQuery(filters)}` : '',
      filtered: Boolean(filters.namespace || filters.pool || filters.phases.length || filters.labelSelector || filters.q),
      total: visible ? store.sessionCountIn(visible) : store.sessionCount(),
      // "all N matching this filter" on the bulk toolbar (batch.ts).
      matching: empty ? 0 : countMatching(store, filters, visible),
    };
  }

  function renderList(reply: FastifyReply, filters: SessionFilters, results: Record<string, unknown>, live: string[], visible: ReadonlySet<string> | undefined) {
    const pools = store.listPools().filter((p) => !visible || visible.has(p.namespace));
    const namespaces = [...new Set([...pools.map((p) => p.namespace), ...app.farm.config.namespaces])].filter((ns) => !visible || visible.has(ns)).sort();
    return reply.view('/pages/sessions', {
      title: 'Sessions',
      flash: takeFlash(reply.request, reply, '/sessions'),
      topics: live,
      scoped: visible !== undefined,
      filters,
      activeFilters: [filters.namespace, filters.pool, filters.labelSelector, filters.q].filter(Boolean).length + filters.phases.length,
      phases: SESSION_PHASES,
      namespaces,
      pools: [...new Set(pools.map((p) => p.name))].sort(),
      results,
    });
  }
}

/** The kubectl YAML and curl command for what the form would create, when it is valid. */
function preview(form: SessionForm, request: FastifyRequest): Record<string, unknown> {
  const asked = formToRequest(form);
  const checked = checkSessionRequest(asked);
  if (!checked.ok) return { ok: false, problems: form.pool ? checked.errors.length : 0 };
  const requestId = /^[a-z0-9]{16,32}$/.test(form.requestId) ? form.requestId : undefined;
  const base = `${request.protocol}://${request.headers.host ?? 'localhost:8080'}`;
  const curl = [
    `curl -sS -X POST '${base}/api/v1/sessions'`,
    `  -H 'Content-Type: application/json'`,
    ...(requestId ? [`  -H 'Idempotency-Key: ${requestId}'`] : []),
    `  --data-binary '${JSON.stringify(asked).replaceAll("'", "'\\''")}'`,
  ].join(' \\\n');
  return { ok: true, yaml: toYaml(plannedSession(checked.request, requestId)), namespace: checked.request.namespace, curl };
}

/**
 * Waits (briefly) until the watch has brought a session the dashboard just created, so the
 * page the browser is sent to already knows it. Gives up quietly: the page then says it
 * has not read the session yet, and fills in live.
 */
function sessionArrives(store: FarmStore, namespace: string, name: string, timeoutMs = 3000): Promise<void> {
  if (store.getSession(namespace, name)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const unsubscribe = store.subscribe((change) => {
      if (change.kind === 'session' && change.view.namespace === namespace && change.view.name === name) done();
    });
    const timer = setTimeout(done, timeoutMs);
  });
}

/** Waits (briefly) until the watch has seen a deleted session go, like sessionArrives. */
function sessionLeaves(store: FarmStore, namespace: string, name: string, timeoutMs = 3000): Promise<void> {
  if (!store.getSession(namespace, name)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const unsubscribe = store.subscribe(() => {
      if (!store.getSession(namespace, name)) done();
    });
    const timer = setTimeout(done, timeoutMs);
  });
}

/** The raw strings of the query, for re-showing a form that failed to parse. */
function looseFilters(q: RawQuery): Partial<SessionFilters> {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).slice(0, 1024);
  return { namespace: first(q.namespace), pool: first(q.pool), labelSelector: first(q.labelSelector), q: first(q.q) };
}
