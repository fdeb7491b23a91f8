// Every read of a pod's log goes through here: the runner-log panels' follows and the API's
// log streams alike. One place counts the open upstream requests (pods/log), caps them, and
// ends them all at shutdown, so a closed client always closes its request to the apiserver.
import { Writable } from 'node:stream';
import { LimitError } from '../http/limits.js';
import type { Cluster, LogOptions } from './types.js';

export class PodLogReader {
  private open = 0;
  private refusedCount = 0;
  /** Aborted on shutdown: ends the API's open log streams, which would hold up app.close(). */
  private readonly closing = new AbortController();

  constructor(
    private readonly cluster: Cluster,
    /** Upstream pods/log requests open at once. */
    private readonly maxOpen: number,
  ) {}

  /** Open upstream requests. */
  get upstreams(): number {
    return this.open;
  }

  /** Requests refused because `maxOpen` were open (for /metrics). */
  get refused(): number {
    return this.refusedCount;
  }

  close(): void {
    this.closing.abort();
  }

  /** Fails with a ClusterError when the API will not serve this pod's log (a cheap request that reads nothing). */
  async checkReadable(namespace: string, pod: string, options: Pick<LogOptions, 'container' | 'signal'> = {}): Promise<void> {
    await this.read(namespace, pod, discard(), { tailLines: 0, ...options });
  }

  /** A pod's log, until it ends, the reader's `signal` aborts or the dashboard shuts down. */
  async read(namespace: string, pod: string, out: Writable, options: LogOptions): Promise<void> {
    // A page follow that is refused shows the message and retries with its backoff; the API answers 503.
    if (this.open >= this.maxOpen) {
      this.refusedCount++;
      throw new LimitError(503, 'DF_ERR_LOG_FOLLOWS_FULL', `The dashboard is reading as many runner logs as it may (${this.maxOpen}) from the API server; try again in a minute.`, 30);
    }
    this.open++;
    try {
      const signal = options.signal ? AbortSignal.any([options.signal, this.closing.signal]) : this.closing.signal;
      await this.cluster.podLog(namespace, pod, out, { ...options, signal });
    } finally {
      this.open--;
    }
  }
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}
