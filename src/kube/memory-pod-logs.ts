// The in-memory cluster's pod logs: the demo's stand-in for a kubelet. Lines are appended
// as the demo's runners "run" (each already starts with its time), kept up to 5,000 a pod,
// and streamed to followers until the container exits, the follower aborts or the
// cluster closes.
import { PassThrough, type Writable } from 'node:stream';
import { ClusterError } from './errors.js';
import type { LogOptions } from './types.js';

const MAX_LINES = 5_000;

export class MemoryPodLogs {
  private readonly logs = new Map<string, { lines: string[]; followers: Set<PassThrough> }>();

  async read(namespace: string, pod: string, out: Writable, options: LogOptions = {}): Promise<void> {
    const log = this.logs.get(`${namespace}/${pod}`);
    if (!log) throw new ClusterError(404, 'NotFound', `pods "${pod}" not found`);
    // The demo's runners never restart; its lines already start with their time.
    if (options.previous) throw new ClusterError(400, 'BadRequest', `previous terminated container "runner" in pod "${pod}" not found`);
    const start = options.tailLines !== undefined ? Math.max(0, log.lines.length - options.tailLines) : 0;
    for (const line of log.lines.slice(start)) out.write(`${line}\n`);
    if (!options.follow) {
      out.end();
      return;
    }
    const follower = new PassThrough();
    log.followers.add(follower);
    follower.pipe(out);
    await new Promise<void>((resolve) => {
      const done = () => {
        log.followers.delete(follower);
        follower.end();
        resolve();
      };
      options.signal?.addEventListener('abort', done, { once: true });
      follower.on('end', done);
    });
  }

  append(namespace: string, pod: string, line: string): void {
    const k = `${namespace}/${pod}`;
    let log = this.logs.get(k);
    if (!log) this.logs.set(k, (log = { lines: [], followers: new Set() }));
    log.lines.push(line);
    if (log.lines.length > MAX_LINES) log.lines.splice(0, log.lines.length - MAX_LINES);
    for (const f of log.followers) f.write(`${line}\n`);
  }

  /** The container exited: followers see the end of the stream. */
  end(namespace: string, pod: string): void {
    const log = this.logs.get(`${namespace}/${pod}`);
    for (const f of log?.followers ?? []) f.end();
    log?.followers.clear();
  }

  delete(namespace: string, pod: string): void {
    this.end(namespace, pod);
    this.logs.delete(`${namespace}/${pod}`);
  }

  /** Ends every follower. */
  close(): void {
    for (const log of this.logs.values()) for (const f of log.followers) f.end();
  }
}
