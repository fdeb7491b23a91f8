// What a signed-in person may see: the namespaces where their RBAC lets them list each kind,
// from the same cached SubjectAccessReviews as the buttons (src/http/access.ts). The store
// and its shared watches stay as they are (one per kind, with the dashboard's identity);
// filtering happens per request and per subscriber, so the watches' cost does not grow with
// the number of people. With --auth none everything is visible, as before.
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

const memo = new WeakMap<FastifyRequest, Map<ReadKind, Promise<Visible>>>();

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

/** Where this request's person may list `kind`; undefined when that is everywhere (memoised per request). */
export function visibleNamespaces(app: FastifyInstance, request: FastifyRequest, kind: ReadKind): Promise<Visible> {
  const who = request.identity;
  if (!who) return Promise.resolve(undefined);
  let byKind = memo.get(request);
  if (!byKind) memo.set(request, (byKind = new Map()));
  let pending = byKind.get(kind);
  if (!pending) {
    pending = computeVisible(app, who, kind);
    byKind.set(kind, pending);
  }
  return pending;
}

async function computeVisible(app: FastifyInstance, who: Identity, kind: ReadKind): Promise<Visible> {
  const namespaces = knownNamespaces(app);
  const allowed = await Promise.all(namespaces.map(async (namespace) => (await app.farm.access.can(who, { ...KIND_RESOURCE[kind], verb: 'list', namespace })).allowed));
  const out = new Set(namespaces.filter((_ns, i) => allowed[i]));
  return out.size === namespaces.length ? undefined : out;
}

export const isVisible = (visible: Visible, namespace: string): boolean => visible === undefined || visible.has(namespace);

/** Refuses a request about one namespace the person may not list `kind` in. */
export async function requireVisible(app: FastifyInstance, request: FastifyRequest, kind: ReadKind, namespace: string): Promise<void> {
  const who = request.identity;
  if (!who) return;
  const d = await app.farm.access.can(who, { ...KIND_RESOURCE[kind], verb: 'list', namespace });
  if (!d.allowed) throw notVisible(who, kind, namespace);
}

export function notVisible(who: Identity, kind: ReadKind, namespace: string): AppError {
  return new AppError(
    403,
    'DF_ERR_KUBE_FORBIDDEN',
    `You (${who.user}) may not list ${KIND_RESOURCE[kind].resource} in ${namespace}, so the dashboard does not show them to you. Ask an admin of the namespace for a RoleBinding that allows it.`,
  );
}

/** The person's scope for the farm-wide pages and topics; undefined when they see everything. */
export async function userScope(app: FastifyInstance, request: FastifyRequest): Promise<{ pools: Visible; sessions: Visible } | undefined> {
  const [pools, sessions] = await Promise.all([visibleNamespaces(app, request, 'pools'), visibleNamespaces(app, request, 'sessions')]);
  return pools || sessions ? { pools, sessions } : undefined;
}
