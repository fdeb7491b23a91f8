// The embedded demo serves its sessions' artifacts itself: every artifact link on the page
// of a finished demo session downloads a file of the listed size and a fitting type.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { SessionView } from '../../src/farm/types.js';
import { DEMO_NAMESPACE, startDemo, type Demo } from '../../src/sim/demo.js';
import { waitFor } from '../helpers/cluster.js';

/** What each kind of artifact must be, by its Content-Type and first bytes. */
const EXPECTED: Record<string, { type: RegExp; starts: (body: Buffer) => boolean }> = {
  junit: { type: /^application\/xml/, starts: (b) => b.toString('utf8').startsWith('<?xml') && b.includes('<testsuites') },
  logcat: { type: /^text\/plain; charset=utf-8$/, starts: (b) => b.toString('utf8').includes('logcat') },
  screenshot: { type: /^image\/png$/, starts: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  video: { type: /^video\/mp4$/, starts: (b) => b.subarray(4, 8).toString('ascii') === 'ftyp' },
};

describe('the embedded demo serves its artifacts', () => {
  let demo: Demo;
  let app: FastifyInstance;

  beforeAll(async () => {
    // A fast farm, so sessions finish (and some fail) within seconds.
    demo = await startDemo({ seed: 7, speed: 120 });
    app = await buildApp(loadConfig({ argv: ['--demo', '--log-level', 'silent'], env: {} })!, { cluster: demo.cluster });
    await app.ready();
  });
  afterAll(async () => {
    demo?.stop();
    await app?.close();
  });

  const finished = (): SessionView[] => [...app.farm.store.allSessions()].filter((s) => (s.phase === 'Succeeded' || s.phase === 'Failed') && s.artifacts.length > 0);

  it('answers every artifact link of finished sessions with 200, the listed size and a plausible type', async () => {
    // A failed session lists all four kinds (its screenshot too).
    await waitFor('a failed and a succeeded demo session', () => finished().some((s) => s.phase === 'Failed') && finished().some((s) => s.phase === 'Succeeded'), { timeoutMs: 60_000 });
    const sessions = [finished().find((s) => s.phase === 'Failed')!, finished().find((s) => s.phase === 'Succeeded')!];
    const kinds = new Set<string>();
    for (const s of sessions) {
      const page = await app.inject({ method: 'GET', url: `/sessions/${s.namespace}/${s.name}` });
      expect(page.statusCode).toBe(200);
      // The links as the page shows them: every listed artifact has one.
      const links = [...page.body.matchAll(/<a href="([^"]+)"[^>]*\bdownload\b[^>]*>([^<]+)<\/a>/g)].map((m) => ({ href: m[1]!.replace(/&amp;/g, '&'), name: m[2]! }));
      expect(links.map((l) => l.name).sort(), s.name).toEqual(s.artifacts.map((a) => a.name).sort());
      expect(page.body).not.toContain('No download link');
      for (const link of links) {
        const artifact = s.artifacts.find((a) => a.name === link.name)!;
        expect(link.href).toBe(`/demo/artifacts/${DEMO_NAMESPACE}/${s.name}/${artifact.name}`);
        const res = await app.inject({ method: 'GET', url: link.href });
        expect(res.statusCode, link.href).toBe(200);
        const expected = EXPECTED[artifact.kind]!;
        expect(res.headers['content-type'], link.href).toMatch(expected.type);
        expect(expected.starts(res.rawPayload), link.href).toBe(true);
        expect(res.rawPayload.length, `${link.href}: the size the page lists`).toBe(artifact.sizeBytes);
        expect(res.headers['content-disposition']).toBe(`attachment; filename="${artifact.name}"`);
        expect(res.headers['content-security-policy']).toContain('sandbox');
        kinds.add(artifact.kind);
      }
    }
    expect([...kinds].sort()).toEqual(['junit', 'logcat', 'screenshot', 'video']);
  });

  it("refuses a file the session does not list, and an unknown session, with the dashboard's 404", async () => {
    const s = finished().find((x) => x.phase === 'Succeeded')!;
    for (const url of [`/demo/artifacts/${DEMO_NAMESPACE}/${s.name}/failure.png`, `/demo/artifacts/${DEMO_NAMESPACE}/${s.name}/..%2F..%2Fpackage.json`, `/demo/artifacts/${DEMO_NAMESPACE}/no-such-session/junit.xml`]) {
      const res = await app.inject({ method: 'GET', url, headers: { accept: 'application/json' } });
      expect(res.statusCode, url).toBe(404);
      expect(res.json(), url).toMatchObject({ error: { code: 'DF_ERR_NOT_FOUND' } });
    }
  });
});
