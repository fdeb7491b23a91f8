// Who is asking. With --auth none nobody in particular: every request acts as the dashboard
// (today's behaviour). With proxy, an authenticating proxy in front (oauth2-proxy) names the
// user and groups in headers, believed only from --trusted-proxy addresses; with bearer, a
// Kubernetes token is checked with a TokenReview (or the proxy's headers, as in proxy mode).
// A request without a trusted identity gets 401 before any route runs, and a client that
// sends Impersonate-* headers is refused: only the dashboard impersonates, and only the
// person it authenticated.
import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthConfig, AuthMode } from '../config.js';
import { parseCidr } from '../config-network.js';
import type { Cluster, TokenOwner } from '../kube/types.js';
import { AppError } from './errors.js';

export interface Identity {
  user: string;
  groups: string[];
  email?: string;
  /** How the person signed in. */
  via: Exclude<AuthMode, 'none'>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Undefined with --auth none: the request acts as the dashboard itself. */
    identity?: Identity;
  }
}

/** Routes that are not about the farm and answer anyone: probes, metrics, assets. */
const ANONYMOUS = ['/healthz', '/readyz', '/metrics', '/static/'];
const MAX_NAME = 256;
const MAX_GROUPS = 100;
/** Names Kubernetes reserves for itself: a proxy's IdP must never make someone system:masters. */
const RESERVED = /^system:/i;
const CONTROL = /[\u0000-\u001f\u007f]/;

export const UNAUTHENTICATED = 'DF_ERR_UNAUTHENTICATED';

export function registerIdentity(app: FastifyInstance, auth: AuthConfig, cluster: Cluster, options: { tokenCache?: TokenCache } = {}): void {
  if (auth.mode === 'none') return;
  const trusted = trustedProxies(auth.trustedProxies);
  const tokens = options.tokenCache ?? new TokenCache(cluster);
  app.addHook('onRequest', async (request, reply) => {
    try {
      await identify(request);
    } catch (err) {
      // Never cached, and a script learns which scheme to use.
      reply.header('Cache-Control', 'no-store');
      if (auth.mode === 'bearer') reply.header('WWW-Authenticate', 'Bearer realm="droidfarm-dashboard"');
      throw err;
    }
  });

  async function identify(request: FastifyRequest): Promise<void> {
    // The route that matched, not the raw URL: no spelling of a path can borrow a probe's pass.
    const route = request.routeOptions.url;
    if (route !== undefined && ANONYMOUS.some((p) => route === p || (p.endsWith('/') && route.startsWith(p)))) return;
    if (Object.keys(request.headers).some((h) => h.startsWith('impersonate-'))) {
      throw unauthenticated(auth.mode, 'it carried Impersonate-* headers, which the dashboard never accepts from a client (it impersonates the person it authenticated itself)');
    }
    const fromProxy = isTrusted(trusted, request.socket.remoteAddress ?? request.ip);
    if (!fromProxy) {
      // Anyone can type these headers: from an untrusted address they are not evidence of anything.
      for (const h of [auth.userHeader, auth.groupsHeader, auth.emailHeader]) delete request.headers[h];
    }
    const fromHeaders = fromProxy ? proxyIdentity(request, auth) : undefined;
    if (fromHeaders) {
      request.identity = fromHeaders;
      return;
    }
    if (auth.mode === 'bearer') {
      const token = bearerToken(request);
      if (token) {
        const owner = await tokens.review(token);
        if (!owner.authenticated) throw unauthenticated(auth.mode, `the bearer token was refused by the Kubernetes API (${owner.error})`);
        request.identity = { user: owner.user, groups: owner.groups.filter((g) => g !== 'system:authenticated'), via: 'bearer' };
        return;
      }
    }
    throw unauthenticated(auth.mode, fromProxy ? 'the sign-in proxy sent no user' : `it did not come through the sign-in proxy (${request.ip} is not a --trusted-proxy address)`);
  }
}

function unauthenticated(mode: AuthMode, why: string): AppError {
  const how =
    mode === 'bearer'
      ? 'Sign in through the dashboard\'s sign-in page, or send "Authorization: Bearer <Kubernetes token>" (kubectl create token …).'
      : "Open the dashboard through its sign-in address (the proxy in front of it), not the dashboard's own port.";
  return new AppError(401, UNAUTHENTICATED, `Not signed in: ${why}. ${how}`);
}

/** The proxy's headers as an identity; undefined when it named nobody. Throws for names Kubernetes reserves. */
export function proxyIdentity(request: FastifyRequest, auth: AuthConfig): Identity | undefined {
  const user = single(request.headers[auth.userHeader]);
  if (!user) return undefined;
  if (user.length > MAX_NAME || CONTROL.test(user)) throw unauthenticated(auth.mode, 'the user name from the sign-in proxy is not a name');
  if (RESERVED.test(user)) throw unauthenticated(auth.mode, `the sign-in proxy named ${JSON.stringify(user)}, a name Kubernetes reserves for itself`);
  const groups = parseGroups(request.headers[auth.groupsHeader]);
  const email = single(request.headers[auth.emailHeader]);
  return { user, groups, ...(email && email.length <= MAX_NAME && !CONTROL.test(email) ? { email } : {}), via: 'proxy' };
}

/** "a, b,c" (or repeated headers) → ['a', 'b', 'c']: no empty, reserved or overlong names, no repeats. */
export function parseGroups(raw: string | string[] | undefined): string[] {
  const all = (Array.isArray(raw) ? raw : raw ? [raw] : []).flatMap((v) => v.split(','));
  const out = new Set<string>();
  for (const g of all.map((s) => s.trim())) {
    if (!g || g.length > MAX_NAME || CONTROL.test(g) || RESERVED.test(g)) continue;
    out.add(g);
    if (out.size >= MAX_GROUPS) break;
  }
  return [...out];
}

function single(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? (v.length === 1 ? v[0]! : '') : (v ?? '')).trim();
}

function bearerToken(request: FastifyRequest): string | undefined {
  const m = /^Bearer\s+(\S{1,8192})\s*$/i.exec(request.headers.authorization ?? '');
  return m?.[1];
}

export function trustedProxies(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of cidrs) {
    const c = parseCidr(raw);
    if (c) list.addSubnet(c.address, c.prefix, c.family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

export function isTrusted(list: BlockList, address: string | undefined): boolean {
  if (!address) return false;
  // IPv4 clients of a dual-stack socket show as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  const family = isIP(ip);
  if (family === 0) return false;
  return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * TokenReviews, remembered briefly by the token's hash: a script polling every second costs
 * one review a minute. Refusals are remembered for less, so a fixed token works soon, and a
 * flood of forged tokens is bounded by the size (the oldest entries go first).
 */
export class TokenCache {
  private readonly entries = new Map<string, { owner: TokenOwner; until: number }>();
  private readonly inflight = new Map<string, Promise<TokenOwner>>();
  reviews = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly options: { ttlMs?: number; refusedTtlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {}

  async review(token: string): Promise<TokenOwner> {
    const now = (this.options.now ?? Date.now)();
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.owner;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const ask = (async () => {
      this.reviews++;
      const owner = await this.cluster.reviewToken(token);
      const ttl = owner.authenticated ? (this.options.ttlMs ?? 60_000) : (this.options.refusedTtlMs ?? 10_000);
      this.entries.delete(key);
      this.entries.set(key, { owner, until: now + ttl });
      const max = this.options.maxEntries ?? 10_000;
      while (this.entries.size > max) this.entries.delete(this.entries.keys().next().value!);
      return owner;
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, ask);
    return ask;
  }
}

/** The cluster as the request's person (impersonated, so RBAC decides), or as the dashboard without sign-in. */
export function actingCluster(app: FastifyInstance, request: FastifyRequest): Cluster {
  return request.identity ? app.farm.cluster.as(request.identity) : app.farm.cluster;
}
