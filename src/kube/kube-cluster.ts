// The real cluster: plain REST calls to the Kubernetes API, authenticated and TLS-configured
// by @kubernetes/client-node's KubeConfig. One generic path per verb keeps every resource
// on the same code, and failures come back as ClusterError with the server's own Status.
// About 300 lines: the Cluster interface's every verb against the real API, side by side.
import { createInterface } from 'node:readline';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { fetch, request as undiciRequest, Response } from 'undici';
import { ClusterError, type KubeStatus } from './errors.js';
import { resourcePath, type ResourceName } from './resources.js';
import { ACCESS_REVIEW_PATH, accessDecision, accessReviewBody, TOKEN_REVIEW_PATH, tokenOwner, tokenReviewBody } from './reviews.js';
import type { AccessDecision, AccessQuestion, Cluster, KubeObject, NewKubeObject, ListResult, LogOptions, Preconditions, SelectorOptions, Subject, TokenOwner, WatchHandle, WatchOptions, WriteOptions } from './types.js';
import { decodeWatchLine, WatchLineError } from './watch-line.js';

const REQUEST_TIMEOUT_MS = 30_000;
const FIELD_MANAGER = 'droidfarm-dashboard';

export interface KubeConfigSource {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  inCluster?: boolean;
}

/** Loads a kubeconfig the way kubectl does, but never falls back to http://localhost:8080. */
export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const kc = new KubeConfig();
  if (source.inCluster) {
    kc.loadFromCluster();
  } else if (source.kubeconfig) {
    const [first, ...rest] = source.kubeconfig.split(':').filter(Boolean);
    kc.loadFromFile(first!);
    for (const file of rest) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more, true);
    }
  } else {
    kc.loadFromDefault();
  }
  if (source.context) {
    if (!kc.getContextObject(source.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new ClusterError(400, 'BadRequest', `kubeconfig has no context ${JSON.stringify(source.context)}; it has: ${known.join(', ') || 'none'}`);
    }
    kc.setCurrentContext(source.context);
  }
  const server = kc.getCurrentCluster()?.server;
  if (!server || server === 'http://localhost:8080') {
    throw new ClusterError(400, 'BadRequest', 'the kubeconfig names no cluster server for its current context');
  }
  return kc;
}

interface RequestSpec {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal | undefined;
  /** Streams are long-lived: no overall timeout, only the caller's signal. */
  stream?: boolean;
}

export class KubeCluster implements Cluster {
  readonly description: string;
  private readonly server: string;
  private readonly closing: AbortController;

  constructor(
    private readonly kc: KubeConfig,
    /** Set on the clusters as() returns: every request impersonates this person. */
    private readonly subject?: Subject,
    closing?: AbortController,
  ) {
    this.server = kc.getCurrentCluster()!.server;
    this.description = this.server;
    this.closing = closing ?? new AbortController();
  }

  as(subject: Subject): Cluster {
    return new KubeCluster(this.kc, { user: subject.user, groups: [...subject.groups] }, this.closing);
  }

  async reviewToken(token: string): Promise<TokenOwner> {
    return tokenOwner(await this.json({ method: HttpMethod.POST, path: TOKEN_REVIEW_PATH, body: tokenReviewBody(token) }));
  }

  async reviewAccess(subject: Subject, question: AccessQuestion): Promise<AccessDecision> {
    return accessDecision(await this.json({ method: HttpMethod.POST, path: ACCESS_REVIEW_PATH, body: accessReviewBody(subject, question) }));
  }

  async list(resource: ResourceName, namespace: string | undefined, options: SelectorOptions = {}): Promise<ListResult> {
    const items: KubeObject[] = [];
    let resourceVersion = '';
    let continueToken: string | undefined;
    // Paged so a farm with tens of thousands of sessions never needs one giant response.
    do {
      const page = (await this.json({
        method: HttpMethod.GET,
        path: resourcePath(resource, namespace),
        query: { limit: 500, continue: continueToken, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector },
      })) as { items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } };
      items.push(...(page.items ?? []));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
    return { items, resourceVersion };
  }

  watch(resource: ResourceName, options: WatchOptions): WatchHandle {
    const abort = new AbortController();
    let closed = false;
    const close = (err?: Error) => {
      if (closed) return;
      closed = true;
      abort.abort();
      options.onClose(err);
    };
    void (async () => {
      try {
        const response = await this.request({
          method: HttpMethod.GET,
          path: resourcePath(resource, options.namespace),
          query: {
            watch: true,
            resourceVersion: options.resourceVersion,
            fieldSelector: options.fieldSelector,
            allowWatchBookmarks: true,
            // The server ends each watch after this; the informer resumes from the last version.
            timeoutSeconds: 240 + Math.floor(Math.random() * 120),
          },
          signal: abort.signal,
          stream: true,
        });
        if (!closed) options.onOpen?.();
        const lines = createInterface({ input: Readable.fromWeb(response.body as never), crlfDelay: Infinity });
        for await (const line of lines) {
          if (closed) break;
          if (!line.trim()) continue;
          // A line that cannot be read ends the watch with an error: the informer logs it
          // and resumes from the last resourceVersion it read whole, so nothing is lost.
          options.onEvent(decodeWatchLine(line));
        }
        close();
      } catch (err) {
        close(abort.signal.aborted && closed ? undefined : err instanceof WatchLineError ? err : toClusterError(err, this.server));
      }
    })();
    return { stop: () => close() };
  }

  async get(resource: ResourceName, namespace: string, name: string): Promise<KubeObject> {
    return (await this.json({ method: HttpMethod.GET, path: resourcePath(resource, namespace, name) })) as KubeObject;
  }

  async create(resource: ResourceName, namespace: string, object: NewKubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    return (await this.json({
      method: HttpMethod.POST,
      path: resourcePath(resource, namespace),
      query: { dryRun: options.dryRun ? 'All' : undefined, fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' },
      body: object,
    })) as KubeObject;
  }

  async patch(
    resource: ResourceName,
    namespace: string,
    name: string,
    patch: Record<string, unknown>,
    options: WriteOptions & { subresource?: 'status'; preconditions?: Preconditions } = {},
  ): Promise<KubeObject> {
    return (await this.json({
      method: HttpMethod.PATCH,
      path: resourcePath(resource, namespace, name, options.subresource),
      query: { dryRun: options.dryRun ? 'All' : undefined, fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' },
      body: withPreconditions(patch, options.preconditions),
      contentType: 'application/merge-patch+json',
    })) as KubeObject;
  }

  async delete(
    resource: ResourceName,
    namespace: string,
    name: string,
    options: WriteOptions & { gracePeriodSeconds?: number; preconditions?: Preconditions } = {},
  ): Promise<void> {
    await this.json({
      method: HttpMethod.DELETE,
      path: resourcePath(resource, namespace, name),
      query: { dryRun: options.dryRun ? 'All' : undefined, gracePeriodSeconds: options.gracePeriodSeconds },
      // DeleteOptions.preconditions: the apiserver checks them against the stored object.
      ...(options.preconditions ? { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: options.preconditions } } : {}),
    });
  }

  async podLog(namespace: string, pod: string, out: Writable, options: LogOptions = {}): Promise<void> {
    const response = await this.request({
      method: HttpMethod.GET,
      path: resourcePath('pods', namespace, pod, 'log'),
      query: { container: options.container, follow: options.follow || undefined, tailLines: options.tailLines, timestamps: options.timestamps || undefined, previous: options.previous || undefined },
      signal: options.signal,
      stream: true,
    });
    if (!response.body) {
      out.end();
      return;
    }
    try {
      await pipeline(Readable.fromWeb(response.body as never), out);
    } catch (err) {
      // An abort by the reader is the normal end of a followed log.
      if (!options.signal?.aborted) throw toClusterError(err, this.server);
      if (!out.writableEnded) out.end();
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
  }

  private async json(spec: RequestSpec): Promise<unknown> {
    const response = await this.request(spec);
    const text = await response.text();
    return text ? JSON.parse(text) : undefined;
  }

  private async request(spec: RequestSpec): Promise<Response> {
    const url = new URL(this.server.replace(/\/$/, '') + spec.path);
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    }
    const ctx = new RequestContext(url.toString(), spec.method);
    await this.kc.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), Accept: 'application/json' };
    if (spec.body !== undefined) headers['Content-Type'] = spec.contentType ?? 'application/json';
    const signals = [this.closing.signal];
    if (spec.signal) signals.push(spec.signal);
    if (!spec.stream) signals.push(AbortSignal.timeout(REQUEST_TIMEOUT_MS));

    let response: Response;
    try {
      response = this.subject
        ? await this.impersonated(url, spec, headers, ctx.getDispatcher(), AbortSignal.any(signals))
        : await fetch(url, {
        method: spec.method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        dispatcher: ctx.getDispatcher(),
        signal: AbortSignal.any(signals),
      });
    } catch (err) {
      throw toClusterError(err, this.server);
    }
    if (response.status >= 400) {
      const text = await response.text().catch(() => '');
      let status: KubeStatus | undefined;
      try {
        status = JSON.parse(text) as KubeStatus;
      } catch {
        status = undefined;
      }
      throw ClusterError.fromStatus(response.status, status, text.trim() || `HTTP ${response.status} from ${spec.method} ${spec.path}`);
    }
    return response;
  }

  /**
   * An impersonating request, sent with undici's request() over HTTP/1.1: fetch(), and
   * undici's HTTP/2 client, fold several Impersonate-Group headers into one "a, b" field,
   * which the apiserver reads as one group. Only plain calls impersonate (writes and the
   * reads that decide them), never streams.
   */
  private async impersonated(url: URL, spec: RequestSpec, headers: Record<string, string>, dispatcher: ReturnType<RequestContext['getDispatcher']>, signal: AbortSignal): Promise<Response> {
    if (spec.stream) throw new Error('impersonated streams are not supported');
    const raw: string[] = [];
    for (const [k, v] of Object.entries(headers)) raw.push(k, v);
    raw.push('Impersonate-User', this.subject!.user);
    for (const g of this.subject!.groups) raw.push('Impersonate-Group', g);
    const res = await undiciRequest(url, {
      method: spec.method as 'GET',
      headers: raw,
      body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
      ...(dispatcher ? { dispatcher: dispatcher as never } : {}),
      signal,
      // Read by undici's Agent per request: a connection that never negotiates HTTP/2.
      ...({ allowH2: false } as object),
    });
    const text = await res.body.text();
    return new Response([204, 205, 304].includes(res.statusCode) ? null : text, { status: res.statusCode });
  }
}

/**
 * A merge patch that carries metadata.uid / metadata.resourceVersion: the apiserver applies
 * it only to that very object and version, else answers 409 Conflict (a uid in a patch is
 * a precondition too, as kubectl's own patches use it).
 */
function withPreconditions(patch: Record<string, unknown>, preconditions: Preconditions | undefined): Record<string, unknown> {
  if (!preconditions || (!preconditions.uid && !preconditions.resourceVersion)) return patch;
  const metadata = { ...((patch.metadata as Record<string, unknown> | undefined) ?? {}) };
  if (preconditions.uid) metadata.uid = preconditions.uid;
  if (preconditions.resourceVersion) metadata.resourceVersion = preconditions.resourceVersion;
  return { ...patch, metadata };
}

function toClusterError(err: unknown, server: string): ClusterError {
  if (err instanceof ClusterError) return err;
  return ClusterError.unreachable(server, err);
}
