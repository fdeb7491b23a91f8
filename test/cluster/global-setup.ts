// vitest global setup: provisions the binaries, starts one control plane for the whole
// `vitest run`, hands its coordinates to the test workers (inject('cluster')) and stops it
// afterwards. Test workers are separate processes, so restarting the apiserver or compacting
// etcd goes through a small HTTP endpoint on loopback that this setup serves.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { buildAssets } from './assets.js';
import { runProvisionScript } from './provision.js';
import { startControlPlane, type Binaries, type ControlPlane, type Versions } from './control-plane.js';

/** What test workers get from inject('cluster'). Plain data: it crosses process boundaries. */
export interface ClusterInfo {
  /** https://127.0.0.1:<port> */
  server: string;
  /** base64 PEM CA of the apiserver's serving certificate (kubeconfig certificate-authority-data). */
  caData: string;
  /** Bearer token of user "admin" (group system:masters). */
  adminToken: string;
  /** Kubeconfig file for the admin (kubectl --kubeconfig, kwok, the dashboard under test). */
  adminKubeconfig: string;
  /** Path of kubectl matching the apiserver. */
  kubectl: string;
  /** Token users with no RBAC at all ("alice", "bob"). */
  users: Record<string, { token: string; kubeconfig: string }>;
  /** Name of the kwok node: pods with spec.nodeName set to it become Running. */
  kwokNode: string;
  /** kwok's kubelet stand-in, http://127.0.0.1:<port>. */
  kwokURL: string;
  /** kwok's own log, quoted when a test times out waiting for it. */
  kwokLog: string;
  /** Folder for pod log files (see podLogFile in test/helpers/cluster.ts). */
  logDir: string;
  /** etcd client URL (JSON gateway at /v3/...). */
  etcdURL: string;
  /** Whether kube-apiserver runs with its watch cache (see ControlPlaneOptions.watchCache). */
  watchCache: boolean;
  versions: Versions;
  /** Control endpoint: POST {url}/restart-apiserver, /stop-apiserver, /start-apiserver, /compact with Authorization: Bearer {token}. */
  control: { url: string; token: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs scripts/provision-control-plane.sh and returns the paths it printed. */
async function provision(): Promise<Binaries> {
  const out = await runProvisionScript('provision-control-plane.sh');
  return { etcd: out.get('ETCD'), kubeApiserver: out.get('KUBE_APISERVER'), kubectl: out.get('KUBECTL'), kwok: out.get('KWOK') };
}

function startControlServer(cp: ControlPlane): Promise<{ url: string; token: string; close(): Promise<void> }> {
  const token = randomBytes(16).toString('hex');
  const expected = Buffer.from(`Bearer ${token}`);
  const routes: Record<string, (body: Record<string, unknown>) => Promise<unknown>> = {
    '/restart-apiserver': async (b) => {
      await cp.restartApiserver({ expireWatches: b.expireWatches === true });
      return {};
    },
    '/stop-apiserver': async () => {
      await cp.stopApiserver();
      return {};
    },
    '/start-apiserver': async () => {
      await cp.startApiserver();
      return {};
    },
    '/compact': async () => ({ revision: await cp.compact() }),
  };
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) return send(401, { error: 'bad token' });
    const route = req.method === 'POST' ? routes[req.url ?? ''] : undefined;
    if (!route) return send(404, { error: `unknown ${req.method} ${req.url}; known: POST ${Object.keys(routes).join(', ')}` });
    let raw = '';
    req.setEncoding('utf8').on('data', (d: string) => (raw += d));
    req.on('end', () => {
      let body: Record<string, unknown>;
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        return send(400, { error: 'body is not JSON' });
      }
      route(body).then(
        (result) => send(200, result),
        (err: unknown) => send(500, { error: err instanceof Error ? err.message : String(err) }),
      );
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        token,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  const say = (m: string) => console.log(`[control-plane] ${m}`);
  // The CSS and vendored htmx, built while the binaries are checked (or built).
  const [binaries] = await Promise.all([provision(), buildAssets()]);
  const provisioned = performance.now();
  // DROIDFARM_WATCH_CACHE=true runs the apiserver with its watch cache (bookmarks, replay
  // of recent history); the default serves watches from etcd so compaction expires them.
  const watchCache = /^(1|true|on)$/i.test(process.env.DROIDFARM_WATCH_CACHE ?? '');
  const cp = await startControlPlane({ binaries, crdDirs: [path.join(root, 'deploy/crds')], watchCache, log: say });
  let control: Awaited<ReturnType<typeof startControlServer>>;
  try {
    control = await startControlServer(cp);
  } catch (err) {
    await cp.stop();
    throw err;
  }
  project.provide('cluster', {
    server: cp.server,
    caData: cp.caData,
    adminToken: cp.adminToken,
    adminKubeconfig: cp.adminKubeconfig,
    kubectl: cp.kubectl,
    users: cp.users,
    kwokNode: cp.kwokNode,
    kwokURL: cp.kwokURL,
    kwokLog: cp.logs.kwok,
    logDir: cp.logDir,
    etcdURL: cp.etcdURL,
    watchCache: cp.watchCache,
    versions: cp.versions,
    control: { url: control.url, token: control.token },
  });
  say(
    `global setup took ${Math.round(performance.now() - started)} ms ` +
      `(provision check and assets ${Math.round(provisioned - started)} ms); kubectl --kubeconfig=${cp.adminKubeconfig}`,
  );
  return async () => {
    await control.close();
    await cp.stop();
  };
}
