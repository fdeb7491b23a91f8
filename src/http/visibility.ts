// What a signed-in person may see: the namespaces where their RBAC lets them list each kind
// (and watch it, for the live streams), from the same cached SubjectAccessReviews as the
// buttons (src/http/access.ts). The store and its shared watches stay as they are (one per
// kind, with the dashboard's identity); filtering happens per request and per subscriber, so
// the watches' cost does not grow with the number of people. With --auth none everything is visible, as before.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Identity } from './identity.js';
import { AppError } from './errors.js';

export type ReadKind = 'pools' | 'sessions' | 'templates';

export const KIND_RESOURCE: Record<ReadKind, { group: string; resource: string }> = {
  pools: { group: 'droidfarm.io', resource: 'devicepools' },
  sessions: { group: 'droidfarm.io', resource: 'testsessions' },
  templates: { group: 'droidfarm.io', resource: 'devicetemplates' },
};

/** undefined: everything (nobody signed in, or they may list it everywhere the dashboard looks). */
export type Visible = ReadonlySet<string> | undefined;

/**
 * What a read needs: pages and /api/v1 lists need `list`; the live streams (/live and
 * /api/v1/events) keep sending what changes, which RBAC calls `watch`, so they need both.
 */
export type ReadMode = 'read' | 'stream';

const memo = new WeakMap<FastifyRequest, Map<string, Promise<Visible>>>();
/** Per request: namespace → kinds the person may list there but not watch (for the page's note). */
const unwatched = new WeakMap<FastifyRequest, Map<string, Set<ReadKind>>>();

/** The namespaces the dashboard knows: the ones it watches, or every one it has read something from. */
export function knownNamespaces(app: FastifyInstance): string[] {
  const { config, store } = app.farm;
  if (config.namespaces.length) return config.namespaces;
  const out = new Set<string>();
  for (const p of store.listPools()) out.add(p.namespace);
  for (const t of store.listTemplates()) out.add(t.namespace);
  for (const n of store.sessionNamespaces()) out.add(n);
  return [...out];
}

/** Where this request's person may read `kind` (list, and watch for a stream); undefined when that is everywhere (memoised per request). */
export function visibleNamespaces(app: FastifyInstance, request: FastifyRequest, kind: ReadKind, mode: ReadMode = 'read'): Promise<Visible> {
  const who = request.identity;
  if (!who) return Promise.resolve(undefined);
  let byKind = memo.get(request);
  if (!byKind) memo.set(request, (byKind = new Map()));
  let pending = byKind.get(`${kind}/${mode}`);
  if (!pending) {
    pending = computeVisible(app, request, who, kind, mode);
    byKind.set(`${kind}/${mode}`, pending);
  }
  return pending;
}

/** Both questions, from the same cache (one review per person, verb and namespace per TTL). */
async function decide(app: FastifyInstance, request: FastifyRequest | undefined, who: Identity, kind: ReadKind, namespace: string): Promise<{ list: boolean; watch: boolean }> {
  const [list, watch] = await Promise.all(['list', 'watch'].map(async (verb) => (await app.farm.access.can(who, { ...KIND_RESOURCE[kind], verb, namespace })).allowed));
  if (request && list && !watch) {
    let byNamespace = unwatched.get(request);
    if (!byNamespace) unwatched.set(request, (byNamespace = new Map()));
    let kinds = byNamespace.get(namespace);
    if (!kinds) byNamespace.set(namespace, (kinds = new Set()));
    kinds.add(kind);
  }
  return { list: list!, watch: watch! };
}

async function computeVisible(app: FastifyInstance, request: FastifyRequest | undefined, who: Identity, kind: ReadKind, mode: ReadMode): Promise<Visible> {
  const namespaces = knownNamespaces(app);
  const decided = await Promise.all(namespaces.map((namespace) => decide(app, request, who, kind, namespace)));
  const out = new Set(namespaces.filter((_ns, i) => decided[i]!.list && (mode === 'read' || decided[i]!.watch)));
  return out.size === namespaces.length ? undefined : out;
}

/**
 * A live stream's scope for this person, asked again (not memoised per request) when a
 * stream refreshes it, and until when it holds: the earliest expiry of the cached answers it
 * rests on, so a RoleBinding deleted meanwhile stops the stream's events within the TTL.
 */
export async function streamScope(app: FastifyInstance, who: Identity): Promise<{ visible: { pools: Visible; sessions: Visible }; until: number }> {
  const [pools, sessions] = await Promise.all([computeVisible(app, undefined, who, 'pools', 'stream'), computeVisible(app, undefined, who, 'sessions', 'stream')]);
  return { visible: { pools, sessions }, until: scopeValidUntil(app, who) };
}

/** Until when the cached answers a stream of this person rests on hold: the earliest expiry among them. */
export function scopeValidUntil(app: FastifyInstance, who: Identity): number {
  let until = Infinity;
  for (const kind of ['pools', 'sessions'] as const) {
    for (const namespace of knownNamespaces(app)) {
      for (const verb of ['list', 'watch']) until = Math.min(until, app.farm.access.validUntil(who, { ...KIND_RESOURCE[kind], verb, namespace }));
    }
  }
  return until;
}

/** Forgets what this request's person was found to see, so a stream that rests on it asks again. */
export function forgetRequestScope(request: FastifyRequest): void {
  memo.delete(request);
  unwatched.delete(request);
}

export const isVisible = (visible: Visible, namespace: string): boolean => visible === undefined || visible.has(namespace);

/** Refuses a request about one namespace the person may not list `kind` in (nor watch, for a stream). */
export async function requireVisible(app: FastifyInstance, request: FastifyRequest, kind: ReadKind, namespace: string, mode: ReadMode = 'read'): Promise<void> {
  const who = request.identity;
  if (!who) return;
  const d = await decide(app, request, who, kind, namespace);
  if (!d.list) throw notVisible(who, kind, namespace);
  if (mode === 'stream' && !d.watch) throw notWatchable(who, kind, namespace);
}

export function notVisible(who: Identity, kind: ReadKind, namespace: string): AppError {
  return new AppError(
    403,
    'DF_ERR_KUBE_FORBIDDEN',
    `You (${who.user}) may not list ${KIND_RESOURCE[kind].resource} in ${namespace}, so the dashboard does not show them to you. Ask an admin of the namespace for a RoleBinding that allows it.`,
  );
}

export function notWatchable(who: Identity, kind: ReadKind, namespace: string): AppError {
  return new AppError(
    403,
    'DF_ERR_KUBE_FORBIDDEN',
    `You (${who.user}) may list ${KIND_RESOURCE[kind].resource} in ${namespace} but not watch them, so the dashboard sends you no live updates about them: reload the page for the latest. Ask an admin of the namespace for a RoleBinding that allows watch.`,
  );
}

/**
 * For the page's note: what this request read that its person may not watch, so its live
 * stream leaves it out ('' when nothing). Known once the route has checked visibility.
 */
export function liveGaps(request: FastifyRequest): string {
  const byNamespace = unwatched.get(request);
  if (!byNamespace?.size || !request.identity) return '';
  const parts = [...byNamespace].sort(([a], [b]) => a.localeCompare(b)).map(([ns, kinds]) => `${[...kinds].map((k) => KIND_RESOURCE[k].resource).sort().join(' and ')} in ${ns}`);
  return `Live updates leave out ${parts.join('; ')}: you (${request.identity.user}) may list them but not watch them. Reload the page for the latest.`;
}

/** The person's scope for the farm-wide pages and topics; undefined when they see everything. */
export async function userScope(app: FastifyInstance, request: FastifyRequest, mode: ReadMode = 'read'): Promise<{ pools: Visible; sessions: Visible } | undefined> {
  const [pools, sessions] = await Promise.all([visibleNamespaces(app, request, 'pools', mode), visibleNamespaces(app, request, 'sessions', mode)]);
  return pools || sessions ? { pools, sessions } : undefined;
}

/**
 * The insights mix every namespace's sessions and pools (counts, failed sessions' names):
 * someone who may not read every namespace the dashboard watches sees them one namespace at
 * a time. The namespace to show: the one asked (checked), else the first they may read;
 * `choices`: where they may (undefined when they see everything, and any filter goes).
 */
export async function insightsScope(app: FastifyInstance, request: FastifyRequest, asked: string | undefined, mode: ReadMode = 'read'): Promise<{ namespace: string | undefined; choices: string[] | undefined }> {
  const who = request.identity;
  const scope = who && (await userScope(app, request, mode));
  if (!who || !scope) return { namespace: asked, choices: undefined };
  const choices = knownNamespaces(app)
    .filter((ns) => isVisible(scope.pools, ns) && isVisible(scope.sessions, ns))
    .sort();
  if (asked) {
    await requireVisible(app, request, 'sessions', asked, mode);
    await requireVisible(app, request, 'pools', asked, mode);
    return { namespace: asked, choices };
  }
  if (choices.length === 0) {
    throw new AppError(403, 'DF_ERR_KUBE_FORBIDDEN', `You (${who.user}) may not ${mode === 'stream' ? 'list and watch' : 'list'} both testsessions and devicepools in any namespace this dashboard watches, so it has no insights to show you. Ask an admin for a RoleBinding that allows it.`);
  }
  return { namespace: choices[0], choices };
}
