// The URL policy decides what cluster-supplied URL becomes a link or a frame. Artifact
// downloads have their own allowlist (--link-origin), apart from the stream origins that
// may be framed: each list opens only its own door.
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../src/http/security.js';
import { checkLink, checkURL, type UrlPolicy } from '../../src/view/url-policy.js';

const policy: UrlPolicy = {
  origins: ['https://streams.farm.example'],
  linkOrigins: ['https://artifacts.farm.example'],
  allowHttp: false,
};

describe('artifact link policy', () => {
  it('links an https URL on an allowlisted link origin, as the parsed URL', () => {
    expect(checkLink('https://artifacts.farm.example/ns/run-1/junit.xml', policy)).toEqual({ ok: true, href: 'https://artifacts.farm.example/ns/run-1/junit.xml' });
    expect(checkLink('https://ARTIFACTS.farm.example:443/a b.txt', policy)).toEqual({ ok: true, href: 'https://artifacts.farm.example/a%20b.txt' });
  });

  it('refuses another origin with a reason that names the flag to add it', () => {
    expect(checkLink('https://elsewhere.example/junit.xml', policy)).toEqual({ ok: false, reason: 'https://elsewhere.example is not an allowed origin (add it with --link-origin)' });
    // Another port is another origin.
    expect(checkLink('https://artifacts.farm.example:8443/junit.xml', policy)).toMatchObject({ ok: false, reason: expect.stringContaining('--link-origin') });
  });

  it('keeps the two allowlists apart: a stream origin is no download origin, and the reverse', () => {
    expect(checkLink('https://streams.farm.example/x.mp4', policy)).toMatchObject({ ok: false });
    expect(checkURL('https://artifacts.farm.example/ns/dev-0', policy)).toEqual({ ok: false, reason: 'https://artifacts.farm.example is not an allowed origin (add it with --stream-origin)' });
    expect(checkURL('https://streams.farm.example/ns/dev-0', policy)).toMatchObject({ ok: true });
    // Only stream origins may be framed.
    expect(contentSecurityPolicy(policy.origins)).toContain('frame-src https://streams.farm.example;');
    expect(contentSecurityPolicy(policy.origins)).not.toContain('artifacts.farm.example');
  });

  it.each([
    ['javascript:alert(1)', 'javascript URLs are not allowed'],
    ['JavaScript:alert(document.cookie)', 'javascript URLs are not allowed'],
    ['java\tscript:alert(1)', 'javascript URLs are not allowed'],
    ['data:text/html,<script>alert(1)</script>', 'data URLs are not allowed'],
    ['vbscript:msgbox(1)', 'vbscript URLs are not allowed'],
    ['file:///etc/passwd', 'file URLs are not allowed'],
    ['http://artifacts.farm.example/junit.xml', 'http URLs are not allowed (start the dashboard with --allow-http-streams to allow them)'],
    ['https://user:secret@artifacts.farm.example/junit.xml', 'URLs with credentials are not allowed'],
    ['https://token@artifacts.farm.example/junit.xml', 'URLs with credentials are not allowed'],
    ['//artifacts.farm.example/junit.xml', 'not a valid URL'],
    ['/demo/artifacts/ns/run/junit.xml', 'relative URLs are not allowed'],
    ['not a url', 'not a valid URL'],
    ['', 'no URL reported'],
  ])('refuses %j: %s', (raw, reason) => {
    expect(checkLink(raw, policy)).toEqual({ ok: false, reason });
  });

  it('allows http only when configured', () => {
    expect(checkLink('http://lab.example/junit.xml', { origins: [], linkOrigins: ['http://lab.example'], allowHttp: true })).toEqual({ ok: true, href: 'http://lab.example/junit.xml' });
  });

  it("allows same-site paths with 'self' (the embedded demo), but not paths a browser reads as another site", () => {
    const demo: UrlPolicy = { origins: [], linkOrigins: ["'self'"], allowHttp: false };
    expect(checkLink('/demo/artifacts/droidfarm-demo/smoke-nightly-x/junit.xml', demo)).toEqual({ ok: true, href: '/demo/artifacts/droidfarm-demo/smoke-nightly-x/junit.xml' });
    expect(checkLink('/\\evil.example/junit.xml', demo)).toEqual({ ok: false, reason: 'relative URLs must stay on this site' });
    expect(checkLink('https://artifacts.farm.example/junit.xml', demo)).toMatchObject({ ok: false });
  });

  it('links nothing when no link origin is configured (the default outside the demo)', () => {
    expect(checkLink('https://artifacts.farm.example/junit.xml', { origins: ['https://artifacts.farm.example'], allowHttp: false })).toMatchObject({ ok: false });
  });
});
