// `npm install && npm start` on a machine with no cluster: the README's first command. This
// runs the real `npm start` (build included) in a home without a kubeconfig and checks that
// the embedded demo farm is served, said so, and alive.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/cluster.js';
import { freePort } from '../helpers/process.js';
import { openStream } from '../helpers/sse.js';

const root = join(import.meta.dirname, '..', '..');
const DEMO_POOLS = ['regression', 'smoke', 'tablets'];


describe('npm start with no cluster', () => {
  let child: ChildProcess;
  let output = '';
  let base: string;
  let listeningAt: number;
  const home = mkdtempSync(join(tmpdir(), 'df-demo-home-'));

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // No kubeconfig anywhere: an empty HOME, no KUBECONFIG, not in a pod.
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, PORT: String(port), HOST: '127.0.0.1' };
    for (const name of ['KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT', 'DROIDFARM_DEMO', 'NODE_OPTIONS']) delete env[name];
    child = spawn('npm', ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
    // The build (prestart) takes a while on a cold, loaded machine; the 10 s below start
    // once the server says it listens.
    await waitFor('npm start to listen', () => output.includes(`open ${base}`), { timeoutMs: 240_000, detail: () => output.slice(-2000) });
    listeningAt = Date.now();
  }, 300_000);

  afterAll(async () => {
    // npm runs node as a child: signal the whole process group, and wait for it to go.
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        process.kill(-child.pid, 'SIGTERM');
        await exited;
      } catch {
        // already gone
      }
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('first says what runs and the URL to open, as JSON when not on a terminal', () => {
    // npm's own lines and the build come first; the server's first record is the one to act on.
    const records = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(records[0]).toMatchObject({ level: 30, msg: `DroidFarm dashboard — embedded demo — open ${base}` });
    // Bound to 127.0.0.1 only: no warning that the network can reach it.
    expect(output).not.toContain('anyone who can reach');
  });

  it('says in the terminal that it runs the embedded demo, and why', async () => {
    // Logged once listening; the demo's first list (a day of history) may come in between.
    await waitFor('the demo warning', () => output.includes('EMBEDDED DEMO'), { timeoutMs: 10_000, detail: () => output.slice(-2000) });
    expect(output).toContain('EMBEDDED DEMO');
    expect(output).toContain('no kubeconfig or in-cluster service account was found');
  });

  it('serves the demo farm on every page and JSON endpoint within 10 seconds', async () => {
    await waitFor(
      'pages and JSON with the demo farm',
      async () => {
        const pools = (await (await fetch(`${base}/api/v1/pools`)).json()) as { items?: Array<{ name: string; devices: number }> };
        const sessions = (await (await fetch(`${base}/api/v1/sessions`)).json()) as { items?: unknown[] };
        return (
          pools.items?.map((p) => p.name).sort().join(',') === DEMO_POOLS.join(',') &&
          pools.items.every((p) => p.devices > 0) &&
          (sessions.items?.length ?? 0) > 0
        );
      },
      { timeoutMs: Math.max(1, 10_000 - (Date.now() - listeningAt)) },
    );

    for (const path of ['/', '/pools', '/sessions', '/pools/droidfarm-demo/smoke']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      const html = await res.text();
      expect(html, path).toContain('Embedded demo:');
      expect(html, path).toMatch(/smoke/);
    }
    const templates = (await (await fetch(`${base}/api/v1/templates`)).json()) as { items: Array<{ name: string }> };
    expect(templates.items.length).toBe(3);
    const devices = (await (await fetch(`${base}/api/v1/pools/droidfarm-demo/regression/devices`)).json()) as { items: unknown[] };
    expect(devices.items.length).toBe(40);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('carries the simulated changes on the event stream', async () => {
    const stream = await openStream(`${base}/api/v1/events`);
    try {
      expect(stream.status).toBe(200);
      const change = await stream.next((e) => e.event === 'session' || e.event === 'device', { timeoutMs: 20_000 });
      const data = JSON.parse(change.data) as { type: string; namespace?: string };
      expect(['added', 'modified', 'deleted']).toContain(data.type);
      expect(change.id).not.toBe('');
    } finally {
      stream.close();
    }
  });
});
