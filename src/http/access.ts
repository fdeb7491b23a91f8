// What a signed-in person may do and see, from SubjectAccessReviews (the dashboard asks
// about the person, as a SelfSubjectAccessReview would if they asked themselves). Cached per
// (user, groups, verb, resource, namespace) for a short TTL and bounded in size, with one
// review in flight per key, so 1,000 requests a second from 100 people cost at most one
// review per person, verb and namespace per TTL. A 403 from the API server (RBAC changed
// meanwhile) forgets what was cached about that person, and their open streams ask again
// (src/http/scope-follow.ts).
import type { Identity } from './identity.js';
import type { AccessDecision, AccessQuestion, Cluster } from '../kube/types.js';

export interface AccessOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export const SESSIONS = { group: 'droidfarm.io', resource: 'testsessions' } as const;

export class AccessReviews {
  private readonly entries = new Map<string, { decision: AccessDecision; until: number }>();
  private readonly inflight = new Map<string, Promise<AccessDecision>>();
  private readonly forgetListeners = new Set<(user: string) => void>();
  /** Reviews sent to the API server since the start (for the benchmark and /metrics). */
  reviews = 0;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly cluster: Cluster,
    options: AccessOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 30_000;
    this.maxEntries = options.maxEntries ?? 50_000;
    this.now = options.now ?? Date.now;
  }

  async can(who: Identity, q: AccessQuestion): Promise<AccessDecision> {
    const key = keyOf(who, q);
    const hit = this.entries.get(key);
    if (hit && hit.until > this.now()) return hit.decision;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const ask = (async () => {
      this.reviews++;
      const decision = await this.cluster.reviewAccess({ user: who.user, groups: who.groups }, q);
      this.entries.delete(key);
      this.entries.set(key, { decision, until: this.now() + this.ttlMs });
      while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      return decision;
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, ask);
    return ask;
  }

  /**
   * Until when the cached answer holds (epoch ms): now when there is none (evicted, or
   * forgotten), so whoever rests on it asks again at once.
   */
  validUntil(who: Identity, q: AccessQuestion): number {
    return this.entries.get(keyOf(who, q))?.until ?? this.now();
  }

  /** Forgets every cached answer about this person (their RBAC just proved different), and tells who holds a scope of theirs. */
  forget(who: Identity): void {
    const prefix = `${who.user}\u0000`;
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
    for (const listener of this.forgetListeners) listener(who.user);
  }

  /** Called with the user whose answers were forgotten (a stream refreshes its scope then). */
  onForget(listener: (user: string) => void): () => void {
    this.forgetListeners.add(listener);
    return () => this.forgetListeners.delete(listener);
  }

  get size(): number {
    return this.entries.size;
  }
}

function keyOf(who: Identity, q: AccessQuestion): string {
  return [who.user, [...who.groups].sort().join(','), q.verb, q.group, q.resource, q.namespace ?? ''].join('\u0000');
}

/** "you (alice) cannot delete testsessions in team-b": why a button is disabled. */
export function deniedReason(who: Identity, verb: string, resource: string, namespace: string): string {
  return `you (${who.user}) cannot ${verb} ${resource} in ${namespace}`;
}

/** The session buttons and the RBAC verb each needs. */
export const ACTION_VERBS = { stop: 'patch', retry: 'create', delete: 'delete' } as const;
export type SessionAction = keyof typeof ACTION_VERBS;

/** For each action this person may not take in `namespace`, the reason; {} when all are allowed or nobody signed in. */
export async function deniedActions(access: AccessReviews, who: Identity | undefined, namespace: string): Promise<Partial<Record<SessionAction, string>>> {
  if (!who) return {};
  const out: Partial<Record<SessionAction, string>> = {};
  await Promise.all(
    (Object.entries(ACTION_VERBS) as Array<[SessionAction, string]>).map(async ([action, verb]) => {
      const d = await access.can(who, { ...SESSIONS, verb, namespace });
      if (!d.allowed) out[action] = deniedReason(who, verb, SESSIONS.resource, namespace);
    }),
  );
  return out;
}
