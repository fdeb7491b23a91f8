// The real cluster: plain REST calls to the Kubernetes API, authenticated and TLS-configured
// by @kubernetes/client-node's KubeConfig. One generic path per verb keeps every resource
// on the same code, and failures come back as ClusterError with the server's own Status.
import { createInterface } from 'node:readline';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { fetch, type Response } from 'undici';
import { ClusterError, type KubeStatus } from './errors.js';
import { resourcePath, type ResourceName } from './resources.js';
import type { Cluster, KubeObject, NewKubeObject, ListOptions, ListResult, LogOptions, WatchEvent, WatchHandle, WatchOptions, WriteOptions } from './types.js';

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
  private readonly closing = new AbortController();

  constructor(private readonly kc: KubeConfig) {
    this.server = kc.getCurrentCluster()!.server;
    this.description = this.server;
  }

  async list(resource: ResourceName, namespace: string | undefined, options: ListOptions = {}): Promise<ListResult> {
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
    options: WriteOptions & { subresource?: 'status' } = {},
  ): Promise<KubeObject> {
    return (await this.json({
      method: HttpMethod.PATCH,
      path: resourcePath(resource, namespace, name, options.subresource),
      query: { dryRun: options.dryRun ? 'All' : undefined, fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' },
      body: patch,
      contentType: 'application/merge-patch+json',
    })) as KubeObject;
  }

  async delete(resource: ResourceName, namespace: string, name: string, options: WriteOptions & { gracePeriodSeconds?: number } = {}): Promise<void> {
    await this.json({
      method: HttpMethod.DELETE,
      path: resourcePath(resource, namespace, name),
      query: { dryRun: options.dryRun ? 'All' : undefined, gracePeriodSeconds: options.gracePeriodSeconds },
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
      response = await fetch(url, {
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
}

/** A watch stream line that is not a watch event (truncated JSON, an unknown type). */
export class WatchLineError extends Error {
  constructor(reason: string, line: string) {
    super(`unreadable watch line (${reason}): ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`);
    this.name = 'WatchLineError';
  }
}

/** One line of a watch response as an event; throws WatchLineError when it is not one. */
export function decodeWatchLine(line: string): WatchEvent {
  let data: { type?: unknown; object?: unknown };
  try {
    data = JSON.parse(line);
  } catch {
    throw new WatchLineError('not JSON', line);
  }
  const object = data !== null && typeof data === 'object' && data.object !== null && typeof data.object === 'object' ? (data.object as Record<string, unknown>) : undefined;
  if (!object) throw new WatchLineError('no object', line);
  switch (data.type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      return { type: data.type, object: object as unknown as KubeObject };
    case 'BOOKMARK':
      return { type: 'BOOKMARK', resourceVersion: String((object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? '') };
    case 'ERROR': {
      const status = object as KubeStatus;
      return { type: 'ERROR', code: status.code ?? 500, reason: status.reason ?? '', message: status.message ?? 'watch error' };
    }
    default:
      throw new WatchLineError(`unknown event type ${JSON.stringify(data.type)}`, line);
  }
}

function toClusterError(err: unknown, server: string): ClusterError {
  if (err instanceof ClusterError) return err;
  return ClusterError.unreachable(server, err);
}
