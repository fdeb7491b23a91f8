// Issue 12 point 1: --auth and its flags, whose headers are believed, which names are passed
// on, the TokenReview cache, and the start-up warning when anyone can act as the dashboard.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { isTrusted, parseGroups, TokenCache, trustedProxies } from '../../src/http/identity.js';
import { MemoryCluster } from '../../src/kube/memory-cluster.js';
import type { TokenOwner } from '../../src/kube/types.js';
import { exposureWarning } from '../../src/startup-line.js';

const load = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadConfig({ argv: ['--demo', ...argv], env })!;
const demo = { mode: 'demo', reason: 'forced' } as const;

describe('--auth', () => {
  it('defaults to none, loopback proxies and the oauth2-proxy header names', () => {
    expect(load([]).auth).toEqual({
      mode: 'none',
      trustedProxies: ['127.0.0.0/8', '::1/128'],
      userHeader: 'x-forwarded-user',
      groupsHeader: 'x-forwarded-groups',
      emailHeader: 'x-forwarded-email',
    });
  });

  it('reads the mode, proxies and header names from flags and the environment', () => {
    const c = load(['--auth', 'proxy', '--trusted-proxy', '10.0.0.0/8', '--trusted-proxy', 'fd00::1', '--user-header', 'X-Auth-Request-User'], { DROIDFARM_GROUPS_HEADER: 'X-Auth-Request-Groups' });
    expect(c.auth).toMatchObject({ mode: 'proxy', trustedProxies: ['10.0.0.0/8', 'fd00::1'], userHeader: 'x-auth-request-user', groupsHeader: 'x-auth-request-groups' });
    expect(load([], { DROIDFARM_AUTH: 'bearer', DROIDFARM_TRUSTED_PROXIES: '192.168.1.1, 127.0.0.1/32' }).auth).toMatchObject({ mode: 'bearer', trustedProxies: ['192.168.1.1', '127.0.0.1/32'] });
  });

  it.each([
    [['--auth', 'oidc'], /--auth "oidc" is not one of none, proxy, bearer/],
    [['--trusted-proxy', '10.0.0.0/33'], /not an address or CIDR/],
    [['--trusted-proxy', 'proxy.local'], /not an address or CIDR/],
    [['--user-header', 'Impersonate-User'], /cannot carry an identity/],
    [['--groups-header', 'X Groups'], /not a header name/],
  ])('refuses %j', (argv, message) => {
    expect(() => load(argv)).toThrow(ConfigError);
    expect(() => load(argv)).toThrow(message);
  });
});

describe('trusted proxies', () => {
  it('matches addresses inside the CIDRs only, IPv4-mapped IPv6 included', () => {
    const list = trustedProxies(['127.0.0.0/8', '::1/128', '10.1.0.0/16']);
    for (const ok of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '10.1.200.3']) expect(isTrusted(list, ok), ok).toBe(true);
    for (const no of ['10.2.0.1', '192.168.0.1', '::2', '::ffff:10.2.0.1', '', undefined, 'localhost']) expect(isTrusted(list, no), String(no)).toBe(false);
  });
});

describe('groups from the proxy', () => {
  it('splits commas and repeated headers, drops empty, repeated and system: names', () => {
    expect(parseGroups('a, b,,a , system:masters')).toEqual(['a', 'b']);
    expect(parseGroups(['qa', 'dev,ops'])).toEqual(['qa', 'dev', 'ops']);
    expect(parseGroups(undefined)).toEqual([]);
    expect(parseGroups('SYSTEM:Masters')).toEqual([]);
    expect(parseGroups('x'.repeat(300))).toEqual([]);
  });
});

describe('the TokenReview cache', () => {
  class CountingCluster extends MemoryCluster {
    asked = 0;
    override async reviewToken(token: string): Promise<TokenOwner> {
      this.asked++;
      return token === 'good' ? { authenticated: true, user: 'ci', groups: ['builders'] } : { authenticated: false, error: 'nope' };
    }
  }

  it('asks once per token per TTL, refusals for less, concurrent asks share one review, and stays bounded', async () => {
    const cluster = new CountingCluster();
    let now = 0;
    const cache = new TokenCache(cluster, { ttlMs: 60_000, refusedTtlMs: 10_000, maxEntries: 3, now: () => now });
    await Promise.all([cache.review('good'), cache.review('good'), cache.review('good')]);
    expect(cluster.asked).toBe(1);
    expect(await cache.review('bad')).toEqual({ authenticated: false, error: 'nope' });
    now = 30_000;
    await cache.review('good');
    await cache.review('bad');
    expect(cluster.asked).toBe(3); // "bad" expired after 10 s, "good" did not
    now = 61_000;
    await cache.review('good');
    expect(cluster.asked).toBe(4);
    for (const t of ['x1', 'x2', 'x3', 'x4']) await cache.review(t);
    expect((cache as unknown as { entries: Map<string, unknown> }).entries.size).toBe(3);
    await cache.review('good'); // pushed out by the flood of forged tokens
    expect(cluster.asked).toBe(9);
  });
});

describe('the start-up warning', () => {
  it('names the risk when anyone reaching the address can act as the dashboard', () => {
    expect(exposureWarning('0.0.0.0', demo, false)).toMatch(/they act, as the dashboard, without signing in \(--auth proxy/);
    expect(exposureWarning('10.0.0.5', demo, false)).toMatch(/listening on 10\.0\.0\.5, not loopback: anyone who can reach that address can start, stop and delete test sessions, as the dashboard/);
    expect(exposureWarning('10.0.0.5', demo, true)).toBeNull();
    expect(exposureWarning('127.0.0.1', demo, false)).toBeNull();
    expect(exposureWarning('::1', demo, false)).toBeNull();
    // With sign-in, reaching the port is not enough.
    expect(exposureWarning('0.0.0.0', demo, false, 'proxy')).toBeNull();
    expect(exposureWarning('10.0.0.5', demo, false, 'bearer')).toBeNull();
  });
});
