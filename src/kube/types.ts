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

/** Which objects a list or watch returns: Kubernetes' own selectors, evaluated by the server. */
export interface SelectorOptions {
  labelSelector?: string;
  /** Equality only (`a.b=c,d!=e`), as the apiserver supports per kind (Events: involvedObject.*). */
  fieldSelector?: string;
}

export interface WatchOptions {
  namespace: string | undefined;
  resourceVersion: string;
  fieldSelector?: string;
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

/**
 * Optimistic concurrency for a write: the apiserver refuses it with 409 Conflict when the
 * object is no longer the one read (another uid: deleted and re-created; another
 * resourceVersion: changed meanwhile).
 */
export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
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

/** A person as Kubernetes knows them: what impersonation and access reviews are about. */
export interface Subject {
  user: string;
  groups: readonly string[];
}

/** What a SubjectAccessReview asks: may the subject `verb` `resource` (in `namespace`)? */
export interface AccessQuestion {
  verb: string;
  group: string;
  resource: string;
  /** Undefined: cluster-wide. */
  namespace?: string | undefined;
}

export interface AccessDecision {
  allowed: boolean;
  /** The authorizer's reason, when it gave one (RBAC says who granted it). */
  reason: string;
}

/** A TokenReview's answer: who the token belongs to, or why it does not count. */
export type TokenOwner = { authenticated: true; user: string; groups: string[] } | { authenticated: false; error: string };

export interface Cluster {
  /** Shown in logs and on the page: the API server URL, or "embedded demo". */
  readonly description: string;
  list(resource: ResourceName, namespace: string | undefined, options?: SelectorOptions): Promise<ListResult>;
  watch(resource: ResourceName, options: WatchOptions): WatchHandle;
  get(resource: ResourceName, namespace: string, name: string): Promise<KubeObject>;
  create(resource: ResourceName, namespace: string, object: NewKubeObject, options?: WriteOptions): Promise<KubeObject>;
  /** A JSON merge patch (RFC 7386) of the object or of its status subresource. */
  patch(
    resource: ResourceName,
    namespace: string,
    name: string,
    patch: Record<string, unknown>,
    options?: WriteOptions & { subresource?: 'status'; preconditions?: Preconditions },
  ): Promise<KubeObject>;
  delete(resource: ResourceName, namespace: string, name: string, options?: WriteOptions & { gracePeriodSeconds?: number; preconditions?: Preconditions }): Promise<void>;
  /** Streams a pod's log into `out` (which is ended when the log ends or is aborted). */
  podLog(namespace: string, pod: string, out: Writable, options?: LogOptions): Promise<void>;
  /**
   * The same cluster, acting as `subject` (Impersonate-User / Impersonate-Group on every
   * request), so Kubernetes RBAC decides and its audit log names the person.
   */
  as(subject: Subject): Cluster;
  /** Who a bearer token belongs to (authentication.k8s.io TokenReview). */
  reviewToken(token: string): Promise<TokenOwner>;
  /** Whether `subject` may do something (authorization.k8s.io SubjectAccessReview). */
  reviewAccess(subject: Subject, question: AccessQuestion): Promise<AccessDecision>;
  /** Ends every open watch and request; the cluster is unusable afterwards. */
  close(): Promise<void>;
}
