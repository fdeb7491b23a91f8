// The narrow boundary between the dashboard and a cluster. Two implementations: the real
// Kubernetes API (kube-cluster.ts) and the in-memory cluster of the embedded demo. The
// store, the writer and the farm simulator only ever talk to this interface.
import type { Writable } from 'node:stream';
import type { ResourceName } from './resources.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generateName?: string;
  [key: string]: unknown;
}

/** A Kubernetes object as JSON: what the API sends and accepts. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** What create() accepts: the server fills in name (from generateName), uid and versions. */
export interface NewKubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: Partial<ObjectMeta>;
  [key: string]: unknown;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
}

export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }
  | { type: 'BOOKMARK'; resourceVersion: string }
  /** The server ended the watch with a Status (410 Gone when the resourceVersion is too old). */
  | { type: 'ERROR'; code: number; reason: string; message: string };

export interface WatchOptions {
  namespace: string | undefined;
  resourceVersion: string;
  /** Called once the server has accepted the watch (HTTP 200), before its first event. */
  onOpen?: () => void;
  /** Called for each event, in order. Must not throw. */
  onEvent: (event: WatchEvent) => void;
  /** Called once when the watch ends: undefined for a clean close, else the error. */
  onClose: (err?: Error) => void;
}

export interface WatchHandle {
  stop(): void;
}

export interface WriteOptions {
  /** Ask the server to validate and admit without persisting. */
  dryRun?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  /** Only `metadata.name=` and `metadata.namespace=` terms: what every kind supports. */
  fieldSelector?: string;
}

export interface LogOptions {
  container?: string;
  follow?: boolean;
  tailLines?: number;
  /** Each line starts with the apiserver's RFC 3339 timestamp. */
  timestamps?: boolean;
  /** The previous container's log (after a restart). */
  previous?: boolean;
  signal?: AbortSignal;
}

export interface Cluster {
  /** Shown in logs and on the page: the API server URL, or "embedded demo". */
  readonly description: string;
  list(resource: ResourceName, namespace: string | undefined, options?: ListOptions): Promise<ListResult>;
  watch(resource: ResourceName, options: WatchOptions): WatchHandle;
  get(resource: ResourceName, namespace: string, name: string): Promise<KubeObject>;
  create(resource: ResourceName, namespace: string, object: NewKubeObject, options?: WriteOptions): Promise<KubeObject>;
  /** A JSON merge patch (RFC 7386) of the object or of its status subresource. */
  patch(
    resource: ResourceName,
    namespace: string,
    name: string,
    patch: Record<string, unknown>,
    options?: WriteOptions & { subresource?: 'status' },
  ): Promise<KubeObject>;
  delete(resource: ResourceName, namespace: string, name: string, options?: WriteOptions & { gracePeriodSeconds?: number }): Promise<void>;
  /** Streams a pod's log into `out` (which is ended when the log ends or is aborted). */
  podLog(namespace: string, pod: string, out: Writable, options?: LogOptions): Promise<void>;
  /** Ends every open watch and request; the cluster is unusable afterwards. */
  close(): Promise<void>;
}
