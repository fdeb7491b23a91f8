// A real Kubernetes control plane for the tests: etcd + kube-apiserver + kwok, started as
// child processes on loopback ports (see /work/shared/design/TEST-CONTROL-PLANE.md).
// Pure library: no vitest imports, so it can also be used from a script.
// The pieces: wait.ts (waitFor), processes.ts (child processes that never outlive the run),
// transport.ts (ports, HTTPS, kubeconfigs), crds.ts (manifests), kwok.ts (the fake node).
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { applyManifests } from './crds.js';
import { startKwok } from './kwok.js';
import { ProcessGroup, tailOfLog, type Proc } from './processes.js';
import { caFromCertDir, freePort, httpsRequest, kubeconfigFor, type HttpResult } from './transport.js';
import { FatalWaitError, waitFor } from './wait.js';

export { FatalWaitError, waitFor, type WaitForOptions } from './wait.js';

const execFileAsync = promisify(execFile);

export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubectl: string;
  kwok: string;
}

export interface ControlPlaneOptions {
  /** Paths of the binaries; each defaults to the env var ETCD, KUBE_APISERVER, KUBECTL, KWOK. */
  binaries?: Partial<Binaries>;
  /** Folders of manifests applied with `kubectl apply --server-side`; missing or empty ones are skipped. */
  crdDirs?: string[];
  /**
   * kube-apiserver's watch cache. Off by default: watches are then served by etcd, so
   * `compact()` makes a watch from an older resourceVersion fail with 410 Gone, and a
   * restart without compaction lets watches resume. The price: no periodic BOOKMARK events
   * (only the watch cache sends them). On, a watch from an old RV is replayed from the
   * cache whatever etcd compacted; only `restartApiserver({ expireWatches: true })` forces 410.
   */
  watchCache?: boolean;
  /** Token users without any group besides system:authenticated (for RBAC tests). */
  users?: string[];
  /** Name of the fake kwok node. */
  kwokNode?: string;
  /** How long kube-apiserver may take to become ready (a busy 2-core machine needs more than 10 s). */
  readyTimeoutMs?: number;
  /** Progress lines (versions, timings). */
  log?: (message: string) => void;
}

export interface ControlPlaneUser {
  token: string;
  /** Path of a kubeconfig file that authenticates as this user. */
  kubeconfig: string;
}

export interface Versions {
  etcd: string;
  kubeApiserver: string;
  kwok: string;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** base64 of the PEM CA that signed the apiserver's serving certificate (as in a kubeconfig). */
  caData: string;
  adminToken: string;
  adminKubeconfig: string;
  users: Record<string, ControlPlaneUser>;
  kubectl: string;
  versions: Versions;
  /** http://127.0.0.1:<port> (etcd's client URL, JSON gateway under /v3/). */
  etcdURL: string;
  /** http://127.0.0.1:<port>: kwok's kubelet stand-in (plain HTTP and HTTPS on one port). */
  kwokURL: string;
  kwokNode: string;
  /** Folder for pod log files served by kwok. */
  logDir: string;
  /** Temp folder holding credentials, kubeconfigs and the processes' logs. */
  dir: string;
  watchCache: boolean;
  /** Log files of the processes, for diagnosing failures. */
  logs: { etcd: string; kubeApiserver: string; kwok: string };
  stopApiserver(): Promise<void>;
  startApiserver(): Promise<void>;
  /**
   * Stops and starts kube-apiserver on the same port and etcd. With expireWatches, etcd is
   * compacted while it is down, so every client resuming a watch gets 410 Gone (with or
   * without the watch cache).
   */
  restartApiserver(opts?: { expireWatches?: boolean }): Promise<void>;
  /** Compacts etcd so that every resourceVersion handed out before the call is expired; returns the compaction revision. */
  compact(): Promise<number>;
  /** Stops exactly the processes it started and removes its folders. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------

function binariesFrom(opts: ControlPlaneOptions): Binaries {
  const given = opts.binaries ?? {};
  const pick = (key: keyof Binaries, env: string): string => {
    const value = given[key] ?? process.env[env];
    if (!value) {
      throw new Error(`no path for ${env}: pass binaries.${key} or set ${env} (bash scripts/provision-control-plane.sh prints the paths)`);
    }
    try {
      fs.accessSync(value, fs.constants.X_OK);
    } catch {
      throw new Error(`${env}=${value} is not an executable file; run bash scripts/provision-control-plane.sh`);
    }
    return value;
  };
  return {
    etcd: pick('etcd', 'ETCD'),
    kubeApiserver: pick('kubeApiserver', 'KUBE_APISERVER'),
    kubectl: pick('kubectl', 'KUBECTL'),
    kwok: pick('kwok', 'KWOK'),
  };
}

async function versionOf(binary: string, args: string[], pattern: RegExp): Promise<string> {
  const { stdout } = await execFileAsync(binary, args, { timeout: 10_000 });
  return pattern.exec(stdout)?.[1] ?? stdout.trim().split('\n')[0] ?? 'unknown';
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const bin = binariesFrom(opts);
  const crdDirs = opts.crdDirs ?? [path.resolve('deploy/crds')];
  const watchCache = opts.watchCache ?? false;
  const userNames = opts.users ?? ['alice', 'bob'];
  const kwokNode = opts.kwokNode ?? 'kwok-node-0';
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;

  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'droidfarm-cp-'));
  // etcd has no --unsafe-no-fsync in 3.4: keep its data on tmpfs so fsyncs cost nothing.
  const shmRoot = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const etcdDir = await fsp.mkdtemp(path.join(shmRoot, 'droidfarm-etcd-'));
  const group = new ProcessGroup([dir, etcdDir]);
  const logs = {
    etcd: path.join(dir, 'etcd.log'),
    kubeApiserver: path.join(dir, 'kube-apiserver.log'),
    kwok: path.join(dir, 'kwok.log'),
  };
  const certDir = path.join(dir, 'pki');
  const logDir = path.join(dir, 'pod-logs');
  await Promise.all([fsp.mkdir(certDir), fsp.mkdir(logDir), fsp.mkdir(path.join(dir, 'kwok-home'))]);

  const procs: { etcd?: Proc; apiserver?: Proc; kwok?: Proc } = {};
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // Reverse start order: kwok and the apiserver still talk to etcd while stopping.
      await procs.kwok?.stop();
      await procs.apiserver?.stop();
      await procs.etcd?.stop();
      await group.close();
    })());

  try {
    const [etcdClientPort, etcdPeerPort, apiPort, kwokPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const etcdURL = `http://127.0.0.1:${etcdClientPort}`;
    const etcdPeerURL = `http://127.0.0.1:${etcdPeerPort}`;
    const server = `https://127.0.0.1:${apiPort}`;
    const kwokURL = `http://127.0.0.1:${kwokPort}`;

    // 1. etcd
    procs.etcd = group.spawn(
      'etcd',
      bin.etcd,
      [
        '--name=default',
        `--data-dir=${etcdDir}`,
        `--listen-client-urls=${etcdURL}`,
        `--advertise-client-urls=${etcdURL}`,
        `--listen-peer-urls=${etcdPeerURL}`,
        `--initial-advertise-peer-urls=${etcdPeerURL}`,
        `--initial-cluster=default=${etcdPeerURL}`,
        '--initial-cluster-state=new',
        // A single member has nobody to wait for: a short election makes it ready in ~60 ms
        // instead of ~700 ms.
        '--heartbeat-interval=10',
        '--election-timeout=100',
        '--logger=zap',
        '--log-outputs=stderr',
        '--log-level=warn',
      ],
      logs.etcd,
    );
    const etcdProc = procs.etcd;
    const versionsPending = Promise.all([
      versionOf(bin.etcd, ['--version'], /etcd Version:\s*(\S+)/),
      versionOf(bin.kwok, ['--version'], /kwok version (\S+)/),
    ]);
    versionsPending.catch(() => {}); // awaited below; don't let an early failure go unhandled

    // 2. credentials, while etcd starts
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    const saPub = path.join(dir, 'sa.pub');
    const saKey = path.join(dir, 'sa.key');
    const tokensFile = path.join(dir, 'tokens.csv');
    const newToken = (): string => randomBytes(24).toString('hex');
    const adminToken = newToken();
    const userTokens = Object.fromEntries(userNames.map((u) => [u, newToken()]));
    await Promise.all([
      fsp.writeFile(saPub, publicKey, { mode: 0o600 }),
      fsp.writeFile(saKey, privateKey, { mode: 0o600 }),
      fsp.writeFile(
        tokensFile,
        // token,user,uid,"groups": the admin is in system:masters, the others in no group at all.
        [`${adminToken},admin,uid-admin,"system:masters"`, ...userNames.map((u) => `${userTokens[u]},${u},uid-${u}`)].join('\n') + '\n',
        { mode: 0o600 },
      ),
    ]);

    await waitFor(
      `etcd to answer ${etcdURL}/health`,
      async () => {
        etcdProc.assertRunning();
        const res = await fetch(`${etcdURL}/health`, { signal: AbortSignal.timeout(2_000) });
        return res.ok && ((await res.json()) as { health?: string }).health === 'true';
      },
      { timeoutMs: 20_000, intervalMs: 25, detail: () => tailOfLog(logs.etcd, 'etcd') },
    );
    log(`etcd ready after ${Math.round(performance.now() - t0)} ms`);

    // 3. kube-apiserver
    const apiserverArgs = kubeApiserverArgs({ etcdURL, apiPort, certDir, tokensFile, server, saPub, saKey, watchCache });
    let caPem: string | undefined;
    const startApiserver = async (): Promise<void> => {
      const started = performance.now();
      const proc = group.spawn('kube-apiserver', bin.kubeApiserver, apiserverArgs, logs.kubeApiserver);
      procs.apiserver = proc;
      await waitFor(
        `kube-apiserver to answer ${server}/readyz with 200`,
        async () => {
          proc.assertRunning();
          try {
            caPem ??= caFromCertDir(certDir);
          } catch (err) {
            throw new FatalWaitError(err as Error); // a bad certificate does not fix itself
          }
          if (!caPem) return false;
          const res = await httpsRequest(`${server}/readyz`, { token: adminToken, ca: caPem, timeoutMs: 5_000 });
          if (res.status !== 200) throw new Error(`/readyz answered ${res.status}: ${res.body.slice(0, 2_000)}`);
          return true;
        },
        { timeoutMs: readyTimeoutMs, intervalMs: 200, detail: () => tailOfLog(logs.kubeApiserver, 'kube-apiserver') },
      );
      // /readyz can pass a moment before the bootstrap controller has made "default".
      await waitFor(
        'the default namespace',
        async () => {
          proc.assertRunning();
          return (await httpsRequest(`${server}/api/v1/namespaces/default`, { token: adminToken, ca: caPem })).status === 200;
        },
        { timeoutMs: 20_000, detail: () => tailOfLog(logs.kubeApiserver, 'kube-apiserver') },
      );
      log(`kube-apiserver ready in ${Math.round(performance.now() - started)} ms`);
    };
    await startApiserver();
    const ca = caPem as string;
    const caData = Buffer.from(ca).toString('base64');
    const api = (method: string, p: string, body?: unknown): Promise<HttpResult> =>
      httpsRequest(`${server}${p}`, { method, token: adminToken, ca, body });

    const versionRes = await api('GET', '/version');
    const kubeApiserverVersion = (JSON.parse(versionRes.body) as { gitVersion: string }).gitVersion;
    const [etcdVersion, kwokVersion] = await versionsPending;
    const versions: Versions = { etcd: etcdVersion, kubeApiserver: kubeApiserverVersion, kwok: kwokVersion };
    log(`versions: etcd ${versions.etcd}, kube-apiserver ${versions.kubeApiserver}, kwok ${versions.kwok}`);

    // 4. kubeconfigs
    const adminKubeconfig = path.join(dir, 'admin.kubeconfig');
    await fsp.writeFile(adminKubeconfig, kubeconfigFor(server, caData, 'admin', adminToken), { mode: 0o600 });
    const users: Record<string, ControlPlaneUser> = {};
    for (const u of userNames) {
      const file = path.join(dir, `${u}.kubeconfig`);
      await fsp.writeFile(file, kubeconfigFor(server, caData, u, userTokens[u] as string), { mode: 0o600 });
      users[u] = { token: userTokens[u] as string, kubeconfig: file };
    }

    // 5. the project's CRDs and kwok, side by side (they do not depend on each other)
    const results = await Promise.allSettled([
      applyManifests(api, { kubectl: bin.kubectl, adminKubeconfig, dir, crdDirs, log }),
      startKwok({ api, group, bin, dir, adminKubeconfig, kwokPort, kwokURL, kwokNode, logFile: logs.kwok, log, started: (proc) => (procs.kwok = proc) }),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    // --- operations for tests
    let opChain: Promise<unknown> = Promise.resolve();
    // One restart/compaction at a time, even if several test files ask at once.
    const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
      const next = opChain.then(fn, fn);
      opChain = next.catch(() => {});
      return next;
    };

    const etcdPost = async (p: string, body: unknown): Promise<EtcdResponse> => {
      const res = await fetch(`${etcdURL}${p}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
      const json = (await res.json()) as EtcdResponse;
      if (!res.ok || json.error) throw new Error(`etcd ${p} failed: HTTP ${res.status} ${json.error ?? ''}`);
      return json;
    };
    const compactNow = async (): Promise<number> => {
      // Two writes first: a client that saw revision r resumes its watch at r+1, and etcd
      // refuses a start revision below the compaction revision, so the compaction revision
      // must be at least r+2 for every r handed out before this call.
      const key = Buffer.from('/droidfarm-test-harness/compaction-marker').toString('base64');
      await etcdPost('/v3/kv/put', { key, value: Buffer.from('1').toString('base64') });
      const put = await etcdPost('/v3/kv/put', { key, value: Buffer.from('2').toString('base64') });
      const revision = Number(put.header.revision);
      await etcdPost('/v3/kv/compaction', { revision, physical: true });
      return revision;
    };
    const stopApiserverNow = async (): Promise<void> => {
      await procs.apiserver?.stop();
    };
    const startApiserverNow = async (): Promise<void> => {
      if (procs.apiserver?.running) return;
      await startApiserver();
    };

    const cp: ControlPlane = {
      server,
      caData,
      adminToken,
      adminKubeconfig,
      users,
      kubectl: bin.kubectl,
      versions,
      etcdURL,
      kwokURL,
      kwokNode,
      logDir,
      dir,
      watchCache,
      logs,
      stopApiserver: () => serialized(stopApiserverNow),
      startApiserver: () => serialized(startApiserverNow),
      restartApiserver: (o = {}) =>
        serialized(async () => {
          await stopApiserverNow();
          if (o.expireWatches) await compactNow();
          await startApiserver();
        }),
      compact: () => serialized(compactNow),
      stop,
    };
    log(`control plane up in ${Math.round(performance.now() - t0)} ms (${dir})`);
    return cp;
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}



/** kube-apiserver's flags: RBAC with token users, no compaction but the tests', and quick stops. */
function kubeApiserverArgs(o: { etcdURL: string; apiPort: number; certDir: string; tokensFile: string; server: string; saPub: string; saKey: string; watchCache: boolean }): string[] {
  const { etcdURL, apiPort, certDir, tokensFile, server, saPub, saKey, watchCache } = o;
  return [
    `--etcd-servers=${etcdURL}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1', // machines without a default route need it
    `--secure-port=${apiPort}`,
    `--cert-dir=${certDir}`, // it writes a self-signed serving cert + CA there (kept on restart)
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    `--token-auth-file=${tokensFile}`,
    `--service-account-issuer=${server}`,
    `--service-account-key-file=${saPub}`,
    `--service-account-signing-key-file=${saKey}`,
    '--disable-admission-plugins=ServiceAccount', // no controller makes default service accounts
    '--allow-privileged=true', // emulator pods may ask for it
    // Only the tests compact etcd (compact()), so expired resourceVersions are deterministic.
    '--etcd-compaction-interval=0',
    `--watch-cache=${watchCache}`,
    // kwok's node has the Hostname address "kwok-node-0", which does not resolve: reach it by IP.
    '--kubelet-preferred-address-types=InternalIP',
    // The "kubernetes" service cannot point at a loopback address; skip its endpoints
    // instead of logging a failed sync every 10 s.
    '--endpoint-reconciler-type=none',
    // Graceful stop waits for in-flight requests only, then gives open watches 2 s after
    // GOAWAY (instead of up to 60 s), so a restart under a running watch stays quick.
    '--shutdown-send-retry-after=true',
    '--profiling=false',
    // With the watch cache, watch-list streams need etcd's RequestWatchProgress (etcd >=
    // 3.4.31). On 3.4.23 the cacher refuses them, and kwok's client-go informers retry the
    // stream with backoff for seconds: pods took 2-10 s to become Running. With the gate
    // off, such requests are refused up front and client-go lists at once.
    ...(watchCache ? ['--feature-gates=WatchList=false'] : []),
  ];
}

interface EtcdResponse {
  header: { revision: string };
  error?: string;
}
