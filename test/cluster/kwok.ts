// kwok, the kubelet stand-in: its stages (what happens to nodes and pods), the ClusterLogs
// CRD it reads pod log files from, and starting it with one Ready fake node.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { waitForCRD, type AdminApi } from './crds.js';
import type { Proc, ProcessGroup } from './processes.js';
import { tailOfLog } from './processes.js';
import { waitFor } from './wait.js';

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

export interface KwokContext {
  api: AdminApi;
  group: ProcessGroup;
  bin: { kwok: string };
  /** The control plane's temp folder (kwok's config and work dir go there). */
  dir: string;
  adminKubeconfig: string;
  kwokPort: number;
  kwokURL: string;
  kwokNode: string;
  logFile: string;
  log: (message: string) => void;
  /** Called as soon as the process exists, so a failed start still stops it. */
  started: (proc: Proc) => void;
}

interface NodeLike {
  status?: {
    conditions?: { type: string; status: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}

export async function startKwok(ctx: KwokContext): Promise<Proc> {
  const { api, group, bin, dir, adminKubeconfig, kwokPort, kwokURL, kwokNode, logFile, log } = ctx;
  const started = performance.now();
  const created = await api('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', CLUSTER_LOGS_CRD);
  if (created.status !== 201) throw new Error(`creating kwok's ClusterLogs CRD failed: ${created.status} ${created.body}`);
  await waitForCRD(api, CLUSTER_LOGS_CRD.metadata.name);
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
    logFile,
    {
      ...process.env,
      // kwok also reads ~/.kwok/kwok.yaml; point its work dir at our temp folder instead.
      KWOK_WORKDIR: path.join(dir, 'kwok-home'),
    },
  );
  ctx.started(proc);
  await waitFor(
    `kwok to answer ${kwokURL}/healthz`,
    async () => {
      proc.assertRunning();
      return (await fetch(`${kwokURL}/healthz`, { signal: AbortSignal.timeout(2_000) })).ok;
    },
    { timeoutMs: 30_000, detail: () => tailOfLog(logFile, 'kwok') },
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
    { timeoutMs: 30_000, detail: () => tailOfLog(logFile, 'kwok') },
  );
  log(`kwok ready with node ${kwokNode} in ${Math.round(performance.now() - started)} ms`);
  return proc;
}
