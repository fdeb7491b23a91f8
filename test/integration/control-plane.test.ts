// Proves that the test control plane is real: the built kube-apiserver answers, RBAC is
// enforced for token users, kwok runs pods and serves their logs from files. What stops,
// restarts or compacts the apiserver lives in test/disruptive/control-plane-restart.test.ts.
import { execFile } from 'node:child_process';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { ApiException, CoreV1Api, RbacAuthorizationV1Api, VersionApi } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { adminKubeConfig, appendPodLog, clusterInfo, freshNamespace, kubeConfigFor, podLogFile, waitFor } from '../helpers/cluster.js';

const run = promisify(execFile);

/** GET pods/log as the admin and collect the body as it streams in. */
async function followPodLog(namespace: string, pod: string, container: string, query: string) {
  const info = clusterInfo();
  let body = '';
  const req = https.get(`${info.server}/api/v1/namespaces/${namespace}/pods/${pod}/log?container=${container}&${query}`, {
    ca: Buffer.from(info.caData, 'base64'),
    headers: { Authorization: `Bearer ${info.adminToken}` },
  });
  const res = await new Promise<IncomingMessage>((resolve, reject) => req.once('response', resolve).once('error', reject));
  expect(res.statusCode).toBe(200);
  res.setEncoding('utf8').on('data', (d: string) => (body += d));
  res.on('error', () => {}); // destroy() below ends it on purpose
  return { text: () => body, close: () => req.destroy() };
}

function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

describe('test control plane', () => {
  it('is the kube-apiserver that was built (v1.34) on etcd 3.4', async () => {
    const info = clusterInfo();
    const version = await adminKubeConfig().makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.34\.\d+$/);
    expect(info.versions.kubeApiserver).toBe(version.gitVersion);
    expect(info.versions.etcd).toMatch(/^3\.4\./);
  });

  it('enforces RBAC for token users', async () => {
    const info = clusterInfo();
    const namespace = await freshNamespace('cp-rbac');
    const otherNamespace = await freshNamespace('cp-rbac-other');
    const alice = kubeConfigFor('alice').makeApiClient(CoreV1Api);

    // The kubeconfig file authenticates as alice, who is only in system:authenticated.
    const { stdout } = await run(info.kubectl, ['--kubeconfig', info.users.alice!.kubeconfig, 'auth', 'whoami', '-o', 'json']);
    expect(JSON.parse(stdout).status.userInfo).toMatchObject({ username: 'alice', groups: ['system:authenticated'] });

    await expect(alice.listNamespacedPod({ namespace }).catch(statusOf)).resolves.toBe(403);

    const rbac = adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'alice-reads-pods' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
      },
    });
    // The RBAC authorizer reads roles from an informer: the binding takes effect a moment later.
    const list = await waitFor('alice to be allowed to list pods', () => alice.listNamespacedPod({ namespace }), { timeoutMs: 5_000 });
    expect(list.items).toEqual([]);

    await expect(alice.listNamespacedPod({ namespace: otherNamespace }).catch(statusOf)).resolves.toBe(403);
    await expect(alice.deleteNamespacedPod({ namespace, name: 'x' }).catch(statusOf)).resolves.toBe(403);
    const bob = kubeConfigFor('bob').makeApiClient(CoreV1Api);
    await expect(bob.listNamespacedPod({ namespace }).catch(statusOf)).resolves.toBe(403);
  });

  it('runs pods on the kwok node and serves their logs from a file, follow included', async () => {
    const info = clusterInfo();
    const kc = adminKubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = await freshNamespace('cp-kwok');
    const file = await podLogFile(namespace, 'emulator', 'avd');
    await appendPodLog(file, ['boot started', 'boot completed']);

    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'emulator' },
        spec: {
          nodeName: info.kwokNode,
          containers: [
            { name: 'avd', image: 'example.invalid/avd:1' },
            { name: 'sidecar', image: 'example.invalid/sidecar:1' },
          ],
        },
      },
    });
    const pod = await waitFor('the pod to be Running and Ready', async () => {
      const p = await core.readNamespacedPod({ name: 'emulator', namespace });
      return p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && p;
    });
    expect(pod.status?.containerStatuses?.map((c) => [c.name, c.ready, !!c.state?.running])).toEqual([
      ['avd', true, true],
      ['sidecar', true, true],
    ]);
    expect(pod.status?.hostIP).toBe('127.0.0.1');

    const text = await core.readNamespacedPodLog({ name: 'emulator', namespace, container: 'avd' });
    expect(text).toBe('boot started\nboot completed\n');

    // A container without a ClusterLogs rule: kwok refuses, and the apiserver passes that on.
    await expect(core.readNamespacedPodLog({ name: 'emulator', namespace, container: 'sidecar' }).catch(statusOf)).resolves.toBeGreaterThanOrEqual(400);

    // follow=true: lines appended later arrive on the open stream. (Plain https rather than
    // client-node's Log class: its abort() leaves an unhandled AbortError on the response stream.)
    const follow = await followPodLog(namespace, 'emulator', 'avd', 'follow=true&tailLines=1');
    try {
      await waitFor('the tail line on the follow stream', () => follow.text() === 'boot completed\n');
      await appendPodLog(file, 'app installed', { stream: 'stderr' });
      await waitFor('the appended line on the follow stream', () => follow.text() === 'boot completed\napp installed\n', {
        timeoutMs: 5_000,
      });
    } finally {
      follow.close();
    }

    // kwok's pod-delete stage removes a deleted pod at once.
    await core.deleteNamespacedPod({ name: 'emulator', namespace });
    await waitFor('the pod to be gone', () => core.readNamespacedPod({ name: 'emulator', namespace }).then(() => false, (e) => statusOf(e) === 404));
  });
});
