// Helpers for test files that use the control plane started by test/cluster/global-setup.ts.
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import type { ClusterInfo } from '../cluster/global-setup.js';
import { waitFor } from '../cluster/control-plane.js';
import { tailOfLog } from '../cluster/processes.js';

export type { ClusterInfo } from '../cluster/global-setup.js';
export { waitFor, type WaitForOptions } from '../cluster/control-plane.js';

/** The running control plane's coordinates (inject('cluster')). */
export function clusterInfo(): ClusterInfo {
  const info = inject('cluster');
  if (!info) {
    throw new Error("no 'cluster' provided: run the tests with vitest.config.ts (globalSetup test/cluster/global-setup.ts)");
  }
  return info;
}

/** A kubeconfig for the test apiserver that authenticates with a bearer token. */
export function kubeConfigWithToken(user: string, token: string): KubeConfig {
  const { server, caData } = clusterInfo();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'droidfarm-test', server, caData }],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: 'droidfarm-test', user }],
    currentContext: user,
  });
  return kc;
}

/** A client-node KubeConfig for user "admin" (system:masters). */
export function adminKubeConfig(): KubeConfig {
  return kubeConfigWithToken('admin', clusterInfo().adminToken);
}

/** A client-node KubeConfig for a token user without RBAC ("alice", "bob"). */
export function kubeConfigFor(user: string): KubeConfig {
  const u = clusterInfo().users[user];
  if (!u) throw new Error(`no test user "${user}"; known: ${Object.keys(clusterInfo().users).join(', ')}`);
  return kubeConfigWithToken(user, u.token);
}

/**
 * Creates a namespace named `<prefix>-<random>` and returns its name. Namespaces never
 * finish deleting on a bare control plane (no namespace controller), so tests leave them.
 */
export async function freshNamespace(prefix = 'test'): Promise<string> {
  const base = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'test';
  const name = `${base}-${randomBytes(4).toString('hex')}`;
  await adminKubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name, labels: { 'droidfarm.io/test-namespace': 'true' } } } });
  return name;
}

async function control(op: string, body: unknown = {}): Promise<Record<string, unknown>> {
  const { url, token } = clusterInfo().control;
  const res = await fetch(`${url}/${op}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`control plane ${op} failed: ${String(json.error ?? res.status)}`);
  return json;
}

/**
 * Stops kube-apiserver (SIGTERM: open watches get a clean end of stream) and starts it again
 * on the same port and etcd; resolves when it is ready. With expireWatches, etcd is compacted
 * while it is down, so clients that resume a watch get 410 Gone. It affects every test file
 * running at the same time.
 */
export async function restartApiserver(opts: { expireWatches?: boolean } = {}): Promise<void> {
  await control('restart-apiserver', opts);
}

/** Stops kube-apiserver until startApiserver() (for "cluster unreachable" tests). */
export async function stopApiserver(): Promise<void> {
  await control('stop-apiserver');
}

export async function startApiserver(): Promise<void> {
  await control('start-apiserver');
}

/**
 * Compacts etcd so every resourceVersion handed out before the call is expired; returns the
 * compaction revision. Without the watch cache (the default, ClusterInfo.watchCache false),
 * a watch or an exact-RV list from an older resourceVersion then fails with 410 Gone.
 */
export async function compactEtcd(): Promise<number> {
  return Number((await control('compact')).revision);
}

function clusterLogsName(namespace: string, pod: string, container: string): string {
  return `${namespace}.${pod}.${container}`;
}

/**
 * Makes kwok serve the log of one container from a file and returns the file's path: append
 * CRI lines to it (appendPodLog) and `pods/log` returns them, `follow=true` included. Works
 * before the pod exists; the pod needs spec.nodeName = clusterInfo().kwokNode. Resolves once
 * kwok has picked up the ClusterLogs object this creates.
 */
export async function podLogFile(namespace: string, pod: string, container: string): Promise<string> {
  const { logDir, kwokURL } = clusterInfo();
  const file = path.join(logDir, `${namespace}_${pod}_${container}.log`);
  await fsp.appendFile(file, ''); // kwok fails the request when the file is missing
  const name = clusterLogsName(namespace, pod, container);
  try {
    await adminKubeConfig()
      .makeApiClient(CustomObjectsApi)
      .createClusterCustomObject({
        group: 'kwok.x-k8s.io',
        version: 'v1alpha1',
        plural: 'clusterlogs',
        body: {
          apiVersion: 'kwok.x-k8s.io/v1alpha1',
          kind: 'ClusterLogs',
          metadata: { name },
          spec: {
            selector: { matchNamespaces: [namespace], matchNames: [pod] },
            logs: [{ containers: [container], logsFile: file, follow: true }],
          },
        },
      });
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err; // already set up: same file
  }
  // kwok reads ClusterLogs through a watch; ask its kubelet endpoint directly until it knows.
  await waitFor(
    `kwok to serve the log of ${namespace}/${pod}/${container} (ClusterLogs ${name})`,
    async () => {
      const res = await fetch(`${kwokURL}/containerLogs/${namespace}/${pod}/${container}`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.status !== 200) throw new Error(`kwok answered ${res.status}`);
      return true;
    },
    // kwok's log says whether its ClusterLogs watch was down (one such timeout, kwok answering
    // 400 "no logs found" for 10 s, was seen once in CI and could not be explained afterwards).
    { timeoutMs: 10_000, intervalMs: 50, detail: () => tailOfLog(clusterInfo().kwokLog, 'kwok') },
  );
  return file;
}

/**
 * Appends lines to a pod log file in the CRI format kwok reads
 * (`<RFC3339Nano time> <stdout|stderr> F <line>`).
 */
export async function appendPodLog(
  file: string,
  lines: string | string[],
  opts: { stream?: 'stdout' | 'stderr'; time?: Date } = {},
): Promise<void> {
  const stream = opts.stream ?? 'stdout';
  const time = (opts.time ?? new Date()).toISOString();
  const text = (Array.isArray(lines) ? lines : [lines]).map((l) => `${time} ${stream} F ${l}\n`).join('');
  await fsp.appendFile(file, text);
}
