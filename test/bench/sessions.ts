// The sessions list benchmark (issue 5): GET /api/v1/sessions for one pool holding 50,000
// TestSessions, against the same list straight from the apiserver with kubectl. A real
// control plane (etcd + kube-apiserver, test/cluster/control-plane.ts) holds the sessions;
// the dashboard watches it from this process, as it would in a cluster.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startControlPlane } from '../cluster/control-plane.js';
import { runProvisionScript } from '../cluster/provision.js';
import { summarise, type Summary } from './stats.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const NAMESPACE = 'bench';
const POOL = 'farm';
const PLURAL_PATH = `/apis/droidfarm.io/v1alpha1/namespaces/${NAMESPACE}/testsessions`;

export interface SessionsOptions {
  sessions: number;
  /** Requests in flight while creating them. */
  concurrency: number;
  repeats: number;
  log: (line: string) => void;
}

export interface SessionsResult {
  sessions: number;
  createSeconds: number;
  syncSeconds: number;
  versions: { kubeApiserver: string; etcd: string };
  /** One page of 500, newest first for the dashboard (its default order), the apiserver's order for kubectl. */
  dashboardPage: Summary;
  apiserverPage: Summary;
  kubectlPage: Summary;
  /** Every session, page by page (500 a page) for the dashboard; `kubectl get -o json` (chunks of 500). */
  dashboardAll: Summary;
  kubectlAll: Summary;
  dashboardAllCount: number;
  kubectlAllCount: number;
}

export async function runSessions(o: SessionsOptions): Promise<SessionsResult> {
  const provisioned = await runProvisionScript('provision-control-plane.sh');
  const binaries = { etcd: provisioned.get('ETCD'), kubeApiserver: provisioned.get('KUBE_APISERVER'), kubectl: provisioned.get('KUBECTL'), kwok: provisioned.get('KWOK') };
  const cp = await startControlPlane({ binaries, crdDirs: [join(ROOT, 'deploy/crds')], log: (m) => o.log(`  ${m}`) });
  const home = mkdtempSync(join(tmpdir(), 'droidfarm-bench-sessions-'));
  try {
    const kubectl = (args: string[]) => run(cp.kubectl, ['--kubeconfig', cp.adminKubeconfig, ...args], { maxBuffer: 1 << 30, env: { ...process.env, HOME: home } });
    await kubectl(['create', 'namespace', NAMESPACE]);
    const agent = new Agent({ connections: o.concurrency, connect: { ca: Buffer.from(cp.caData, 'base64').toString('utf8') } });
    const headers = { authorization: `Bearer ${cp.adminToken}`, 'content-type': 'application/json' };

    o.log(`  creating ${o.sessions} TestSessions in pool ${POOL} (${o.concurrency} at a time)…`);
    const createStart = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < o.sessions) {
        const i = next++;
        const body = JSON.stringify({
          apiVersion: 'droidfarm.io/v1alpha1',
          kind: 'TestSession',
          metadata: { name: `run-${String(i).padStart(6, '0')}`, labels: { team: i % 3 === 0 ? 'payments' : 'search' } },
          spec: { poolRef: { name: POOL }, apps: [{ packageName: 'com.example.shop', apkURL: 'https://artifacts.example.com/shop.apk' }] },
        });
        const res = await request(`${cp.server}${PLURAL_PATH}`, { method: 'POST', headers, body, dispatcher: agent });
        const text = await res.body.text();
        if (res.statusCode !== 201) throw new Error(`creating session ${i}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    const createSeconds = (performance.now() - createStart) / 1000;
    o.log(`  created in ${createSeconds.toFixed(0)} s`);

    const config = loadConfig({ argv: ['--kubeconfig', cp.adminKubeconfig, '--namespace', NAMESPACE, '--log-level', 'silent'], env: { NODE_ENV: 'production' } })!;
    const syncStart = performance.now();
    const app = await buildApp(config);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    while (app.farm.store.sessionCount() < o.sessions || !app.farm.store.syncStatus().synced) await new Promise((r) => setTimeout(r, 50));
    const syncSeconds = (performance.now() - syncStart) / 1000;
    o.log(`  the dashboard listed them in ${syncSeconds.toFixed(1)} s`);

    try {
      const time = async (fn: () => Promise<unknown>) => {
        const t = performance.now();
        await fn();
        return performance.now() - t;
      };
      const get = async (url: string, extra: Record<string, string> = {}) => {
        const res = await request(url, { headers: extra, dispatcher: url.startsWith('https') ? agent : undefined });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
        return JSON.parse(text) as { items: unknown[]; continue?: string | null; metadata?: { continue?: string } };
      };
      const page = `${base}/api/v1/sessions?namespace=${NAMESPACE}&pool=${POOL}&limit=500`;
      const apiserverPage = `${cp.server}${PLURAL_PATH}?limit=500`;
      for (let i = 0; i < 5; i++) await get(page); // warm-up
      const samples = { dashboardPage: [] as number[], apiserverPage: [] as number[], kubectlPage: [] as number[], dashboardAll: [] as number[], kubectlAll: [] as number[] };
      for (let i = 0; i < o.repeats * 10; i++) samples.dashboardPage.push(await time(() => get(page)));
      for (let i = 0; i < o.repeats * 10; i++) samples.apiserverPage.push(await time(() => get(apiserverPage, { authorization: headers.authorization })));
      for (let i = 0; i < o.repeats * 2; i++) samples.kubectlPage.push(await time(() => kubectl(['get', '--raw', `${PLURAL_PATH}?limit=500`])));
      let dashboardAllCount = 0;
      for (let i = 0; i < o.repeats; i++) {
        samples.dashboardAll.push(
          await time(async () => {
            let token: string | null | undefined;
            dashboardAllCount = 0;
            do {
              const body = await get(`${page}${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
              dashboardAllCount += body.items.length;
              token = body.continue;
            } while (token);
          }),
        );
      }
      let kubectlAllCount = 0;
      for (let i = 0; i < o.repeats; i++) {
        samples.kubectlAll.push(
          await time(async () => {
            const { stdout } = await kubectl(['get', 'testsessions', '-n', NAMESPACE, '-o', 'json']);
            kubectlAllCount = (JSON.parse(stdout) as { items: unknown[] }).items.length;
          }),
        );
      }
      return {
        sessions: o.sessions,
        createSeconds,
        syncSeconds,
        versions: { kubeApiserver: cp.versions.kubeApiserver, etcd: cp.versions.etcd },
        dashboardPage: summarise(samples.dashboardPage),
        apiserverPage: summarise(samples.apiserverPage),
        kubectlPage: summarise(samples.kubectlPage),
        dashboardAll: summarise(samples.dashboardAll),
        kubectlAll: summarise(samples.kubectlAll),
        dashboardAllCount,
        kubectlAllCount,
      };
    } finally {
      await app.close();
      await agent.close();
    }
  } finally {
    await cp.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
