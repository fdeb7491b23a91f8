// A real Kubernetes control plane for the tests: etcd + kube-apiserver + kwok, started as
// child processes on loopback ports (see /work/shared/design/TEST-CONTROL-PLANE.md).
// Pure library: no vitest imports, so it can also be used from a script.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

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
// Polling

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Extra text for the timeout error (for example the tail of a log). */
  detail?: () => string;
}

/**
 * Polls `probe` until it returns a value other than undefined/false/null and returns it.
 * A probe that throws counts as "not yet"; its last error is part of the timeout message.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  opts: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      lastError = undefined;
    } catch (err) {
      if (err instanceof FatalWaitError) throw err.cause;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const last = lastError === undefined ? '' : `; last error: ${errorText(lastError)}`;
      const detail = opts.detail ? `\n${opts.detail()}` : '';
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** Thrown from a waitFor probe to stop waiting at once (e.g. the process died). */
export class FatalWaitError extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

// ---------------------------------------------------------------------------------------
// Child processes. Every process we start is recorded here, so that nothing outlives the
// test run: an 'exit' hook kills them synchronously, and a small reaper process (which
// ignores Ctrl-C like vitest's own watchdog) kills them if the test runner is SIGKILLed.

/** pid → the control plane that started it */
const live = new Map<number, ProcessGroup>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of live.keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of liveDirs) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort: the reaper retries
      }
    }
  });
}

const REAPER_SCRIPT = `
trap '' INT TERM HUP
pids=
while IFS= read -r line; do pids=$line; done
if [ -n "$pids" ]; then
  kill -TERM $pids 2>/dev/null
  for _ in $(seq 50); do
    alive=
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  kill -KILL $pids 2>/dev/null
fi
rm -rf -- "$@"
`;

/** The processes and folders of one control plane, plus its reaper. */
class ProcessGroup {
  private readonly reaper: ChildProcess;
  private closed = false;

  constructor(private readonly dirs: string[]) {
    installExitHook();
    for (const dir of dirs) liveDirs.add(dir);
    // The reaper reads the current pid list line by line; EOF on stdin means our process
    // is gone (however it died), so it stops the children and removes the folders.
    this.reaper = spawn('bash', ['-c', REAPER_SCRIPT, 'droidfarm-reaper', ...dirs], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.reaper.unref();
    (this.reaper.stdin as unknown as net.Socket).unref();
    this.reaper.on('error', () => {
      // bash missing: the exit hook still covers normal exits
    });
  }

  spawn(name: string, command: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): Proc {
    if (this.closed) throw new Error(`control plane is stopping; not starting ${name}`);
    fs.appendFileSync(logFile, `\n==== ${new Date().toISOString()} starting ${name}\n`);
    const fd = fs.openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio: ['ignore', fd, fd], detached: false, env: env ?? process.env });
    } finally {
      fs.closeSync(fd);
    }
    const proc = new Proc(name, child, logFile);
    if (child.pid !== undefined) {
      const pid = child.pid;
      live.set(pid, this);
      this.syncReaper();
      child.once('exit', () => {
        live.delete(pid);
        this.syncReaper();
      });
    }
    return proc;
  }

  private syncReaper(): void {
    if (this.closed || !this.reaper.stdin?.writable) return;
    const pids = [...live].filter(([, owner]) => owner === this).map(([pid]) => pid);
    this.reaper.stdin.write(`${pids.join(' ')}\n`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const dir of this.dirs) {
      await fsp.rm(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    }
    this.reaper.stdin?.end('\n');
  }
}

class Proc {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private spawnError: Error | undefined;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        this.spawnError = err;
        this.exitInfo ??= { code: null, signal: null };
        resolve(this.exitInfo);
      });
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get running(): boolean {
    return this.exitInfo === undefined && this.spawnError === undefined;
  }

  /** Throws (for waitFor) when the process is gone, with the tail of its log. */
  assertRunning(): void {
    if (this.running) return;
    const how = this.spawnError
      ? `could not be started: ${this.spawnError.message}`
      : `exited with ${this.exitInfo?.signal ? `signal ${this.exitInfo.signal}` : `code ${this.exitInfo?.code}`} before it was ready`;
    // The temp folder is removed on failure, so the log tail goes into the error itself.
    throw new FatalWaitError(new Error(`${this.name} ${how}\n${tailOfLog(this.logFile, this.name)}`));
  }

  /** SIGTERM, then SIGKILL after timeoutMs. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

function tailOfLog(file: string, name: string, lines = 40): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `--- last ${lines} lines of ${name} log (${file}) ---\n${text}\n--- end of ${name} log ---`;
  } catch (err) {
    return `(no ${name} log at ${file}: ${errorText(err)})`;
  }
}

// ---------------------------------------------------------------------------------------
// Small helpers

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

interface HttpResult {
  status: number;
  body: string;
}

function httpsRequest(
  url: string,
  opts: { method?: string; token?: string; ca?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['Content-Type'] = 'application/json';
    }
    const req = https.request(url, { method: opts.method ?? 'GET', headers, ca: opts.ca, timeout: opts.timeoutMs ?? 5_000 });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * kube-apiserver writes <cert-dir>/apiserver.crt as "serving cert, then its self-signed CA".
 * Returns the CA PEM after checking that the serving cert is valid for 127.0.0.1.
 */
function caFromCertDir(certDir: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(certDir, 'apiserver.crt'), 'utf8');
  } catch {
    return undefined; // not written yet
  }
  const certs = splitPem(text).map((pem) => ({ pem, x509: new X509Certificate(pem) }));
  const leaf = certs.find((c) => !c.x509.ca);
  const ca = certs.find((c) => c.x509.ca);
  if (!leaf || !ca) return undefined; // partially written
  if (!leaf.x509.checkIP('127.0.0.1')) {
    throw new Error(`kube-apiserver's serving certificate (${certDir}/apiserver.crt) is not valid for 127.0.0.1: ${leaf.x509.subjectAltName}`);
  }
  if (!leaf.x509.verify(ca.x509.publicKey)) {
    throw new Error(`kube-apiserver's serving certificate is not signed by the CA next to it in ${certDir}/apiserver.crt`);
  }
  return `${ca.pem}\n`;
}

function kubeconfigFor(server: string, caData: string, user: string, token: string): string {
  // JSON is valid YAML; kubectl, kwok and client-node all read it.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'droidfarm-test', cluster: { server, 'certificate-authority-data': caData } }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: user, context: { cluster: 'droidfarm-test', user } }],
      'current-context': user,
    },
    null,
    2,
  );
}

// kwok needs stages to act at all. These are minimal versions of kwok's "fast" stages:
// a node becomes Ready at once (with our kubelet port, so the apiserver can reach kwok for
// pods/log), a pod bound to it becomes Running with all containers ready, and a pod being
// deleted is removed at once. Nothing else happens unless a test patches the status itself.
const KWOK_STAGES = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-initialize
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $now | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
      addresses:
      - address: {{ NodeIP | Quote }}
        type: InternalIP
      - address: {{ NodeName | Quote }}
        type: Hostname
      daemonEndpoints:
        kubeletEndpoint:
          Port: {{ NodePort }}
      allocatable: {cpu: '32', memory: 256Gi, pods: '110'}
      capacity: {cpu: '32', memory: 256Gi, pods: '110'}
      nodeInfo:
        architecture: amd64
        operatingSystem: linux
        kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
        containerRuntimeVersion: {{ printf "kwok-%s" Version | Quote }}
        kernelVersion: ''
        kubeProxyVersion: ''
        bootID: ''
        machineID: ''
        osImage: ''
        systemUUID: ''
      phase: Running
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: DoesNotExist
    - key: '.status.phase'
      operator: In
      values: ['Pending']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Ready}
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: ContainersReady}
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: PodScheduled}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      initContainerStatuses:
      {{ range .spec.initContainers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
      phase: Running
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: Exists
  next:
    delete: true
`;

// kwok reads ClusterLogs objects from the cluster (--enable-crds=ClusterLogs), so tests can
// add a log file per pod container at run time. The schema follows kwok's v1alpha1 type.
const CLUSTER_LOGS_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'clusterlogs.kwok.x-k8s.io' },
  spec: {
    group: 'kwok.x-k8s.io',
    scope: 'Cluster',
    names: { kind: 'ClusterLogs', listKind: 'ClusterLogsList', plural: 'clusterlogs', singular: 'clusterlogs' },
    versions: [
      {
        name: 'v1alpha1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  selector: {
                    type: 'object',
                    properties: {
                      matchNamespaces: { type: 'array', items: { type: 'string' } },
                      matchNames: { type: 'array', items: { type: 'string' } },
                    },
                  },
                  logs: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        containers: { type: 'array', items: { type: 'string' } },
                        logsFile: { type: 'string' },
                        previousLogsFile: { type: 'string' },
                        follow: { type: 'boolean' },
                      },
                    },
                  },
                },
              },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

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
    const apiserverArgs = [
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

    const waitForCRD = async (name: string): Promise<void> => {
      const crd = await waitFor(
        `CRD ${name} to be Established`,
        async () => {
          const res = await api('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
          if (res.status !== 200) throw new Error(`GET CRD ${name}: ${res.status} ${res.body.slice(0, 500)}`);
          const obj = JSON.parse(res.body) as CRD;
          const cond = (t: string) => obj.status?.conditions?.find((c) => c.type === t);
          if (cond('NamesAccepted')?.status === 'False') {
            throw new FatalWaitError(new Error(`CRD ${name}: names not accepted: ${cond('NamesAccepted')?.message}`));
          }
          return cond('Established')?.status === 'True' ? obj : false;
        },
        { timeoutMs: 30_000 },
      );
      for (const v of crd.spec.versions.filter((x) => x.served)) {
        const gv = `${crd.spec.group}/${v.name}`;
        await waitFor(
          `${crd.spec.names.plural} to be served in discovery under /apis/${gv}`,
          async () => {
            const res = await api('GET', `/apis/${gv}`);
            if (res.status !== 200) return false;
            return (JSON.parse(res.body) as { resources: { name: string }[] }).resources.some((r) => r.name === crd.spec.names.plural);
          },
          { timeoutMs: 30_000 },
        );
      }
    };

    // 5. the project's CRDs and kwok, side by side (they do not depend on each other)
    const applyProjectCRDs = async (): Promise<void> => {
      const started = performance.now();
      const dirs = crdDirs.filter((d) => {
        try {
          return fs.readdirSync(d).some((f) => /\.(ya?ml|json)$/.test(f));
        } catch {
          return false;
        }
      });
      for (const d of crdDirs.filter((x) => !dirs.includes(x))) log(`no manifests in ${d}; nothing applied from there`);
      if (dirs.length === 0) return;
      let stdout = '';
      for (const d of dirs) {
        // A folder with a kustomization file is applied as a kustomization (-k), as a user would.
        const isKustomization = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].some((f) => fs.existsSync(path.join(d, f)));
        const source = isKustomization ? ['-k', d] : ['-f', d];
        try {
          const res = await execFileAsync(
            bin.kubectl,
            [
              'apply',
              '--server-side',
              '--field-manager=droidfarm-test-harness',
              '-o',
              'name',
              `--kubeconfig=${adminKubeconfig}`,
              // a discovery cache of its own: ~/.kube/cache may hold another run's on the same port
              `--cache-dir=${path.join(dir, 'kubectl-cache')}`,
              ...source,
            ],
            { timeout: 60_000 },
          );
          stdout += res.stdout;
        } catch (err) {
          const e = err as { stderr?: string; message: string };
          throw new Error(`kubectl apply --server-side ${source.join(' ')} failed; fix the manifests:\n${e.stderr?.trim() || e.message}`);
        }
      }
      const crdNames = stdout
        .split('\n')
        .filter((l) => l.startsWith('customresourcedefinition.apiextensions.k8s.io/'))
        .map((l) => l.slice(l.indexOf('/') + 1).trim());
      await Promise.all(crdNames.map(waitForCRD));
      log(`applied ${dirs.join(', ')} (${crdNames.length} CRDs established and served) in ${Math.round(performance.now() - started)} ms`);
    };

    const startKwok = async (): Promise<void> => {
      const started = performance.now();
      const created = await api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', CLUSTER_LOGS_CRD);
      if (created.status !== 201) throw new Error(`creating kwok's ClusterLogs CRD failed: ${created.status} ${created.body}`);
      await waitForCRD(CLUSTER_LOGS_CRD.metadata.name);
      const config = path.join(dir, 'kwok.yaml');
      await fsp.writeFile(config, KWOK_STAGES);
      const proc = group.spawn(
        'kwok',
        bin.kwok,
        [
          `--kubeconfig=${adminKubeconfig}`,
          `--config=${config}`,
          '--manage-all-nodes=true',
          '--node-ip=127.0.0.1',
          `--node-port=${kwokPort}`,
          `--server-address=127.0.0.1:${kwokPort}`,
          '--cidr=10.244.0.0/16',
          '--enable-crds=ClusterLogs',
        ],
        logs.kwok,
        {
          ...process.env,
          // kwok also reads ~/.kwok/kwok.yaml; point its work dir at our temp folder instead.
          KWOK_WORKDIR: path.join(dir, 'kwok-home'),
        },
      );
      procs.kwok = proc;
      await waitFor(
        `kwok to answer ${kwokURL}/healthz`,
        async () => {
          proc.assertRunning();
          return (await fetch(`${kwokURL}/healthz`, { signal: AbortSignal.timeout(2_000) })).ok;
        },
        { timeoutMs: 30_000, detail: () => tailOfLog(logs.kwok, 'kwok') },
      );
      const node = await api('POST', '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: kwokNode,
          annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: { 'kubernetes.io/hostname': kwokNode, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
        },
      });
      if (node.status !== 201) throw new Error(`creating node ${kwokNode} failed: ${node.status} ${node.body}`);
      await waitFor(
        `kwok to make node ${kwokNode} Ready with kubelet port ${kwokPort}`,
        async () => {
          proc.assertRunning();
          const res = await api('GET', `/api/v1/nodes/${kwokNode}`);
          const n = JSON.parse(res.body) as NodeLike;
          return (
            n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
            n.status?.daemonEndpoints?.kubeletEndpoint?.Port === kwokPort
          );
        },
        { timeoutMs: 30_000, detail: () => tailOfLog(logs.kwok, 'kwok') },
      );
      log(`kwok ready with node ${kwokNode} in ${Math.round(performance.now() - started)} ms`);
    };

    const results = await Promise.allSettled([applyProjectCRDs(), startKwok()]);
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

interface CRD {
  spec: { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

interface NodeLike {
  status?: {
    conditions?: { type: string; status: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}

interface EtcdResponse {
  header: { revision: string };
  error?: string;
}
