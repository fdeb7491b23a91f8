// Child processes for the bench: the dashboard and the SSE clients each run in their own
// Node process (so the server's RSS and event loop are its own), with the open-file limit
// raised to the hard limit, a request/reply channel over IPC with timeouts, and a kill that
// always runs, whatever way the bench ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
/** tsx's loader, by URL: children run TypeScript whatever the working directory. */
const TSX = import.meta.resolve('tsx');

/** A monotonic clock in ms that every process on the machine shares (CLOCK_MONOTONIC). */
export const clockMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface Request {
  id: number;
  cmd: string;
  args?: unknown;
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** A message a child sends of its own accord (not a reply). */
export interface Notice {
  notice: string;
  [key: string]: unknown;
}

const children = new Set<ChildProcess>();

/** Kills every child still running: on normal exit, on a signal and on a crash. */
export function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}
process.on('exit', killChildren);

/**
 * Environment of the server process. Its NODE_OPTIONS are the Deployment's own (the heap
 * limits of deploy/base/deployment.yaml), so RSS is measured as the dashboard runs in a
 * cluster; BENCH_SERVER_NODE_OPTIONS adds to them, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'.
 */
export function serverEnv(env: Record<string, string>): Record<string, string> {
  const options = [process.env.NODE_OPTIONS, deployedNodeOptions(), process.env.BENCH_SERVER_NODE_OPTIONS].filter(Boolean).join(' ');
  return options ? { ...env, NODE_OPTIONS: options } : env;
}

/** The NODE_OPTIONS value the Deployment sets, read from its manifest. */
export function deployedNodeOptions(): string {
  const manifest = readFileSync(join(import.meta.dirname, '..', '..', 'deploy', 'base', 'deployment.yaml'), 'utf8');
  return /- name: NODE_OPTIONS\n\s+value: "?([^"\n]+)"?/.exec(manifest)?.[1]?.trim() ?? '';
}

export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly noticeWaiters: Array<{ notice: string; resolve: (n: Notice) => void }> = [];
  private readonly notices: Notice[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    process.on('message', (msg: Reply | Notice) => {
      if ('notice' in msg) {
        const i = this.noticeWaiters.findIndex((w) => w.notice === msg.notice);
        if (i >= 0) this.noticeWaiters.splice(i, 1)[0]!.resolve(msg);
        else this.notices.push(msg);
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(`${this.name}: ${msg.error}`));
    });
    this.exited = new Promise((resolve) => {
      process.on('exit', (code, signal) => {
        children.delete(process);
        for (const [, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before answering`));
        }
        this.pending.clear();
        resolve({ code, signal });
      });
    });
  }

  /**
   * Starts `script` (a path: TypeScript runs under tsx, JavaScript as it is) with the same
   * Node, through a shell that first raises the soft open-file limit to the hard one:
   * 10,000 sockets need more than the usual soft limit of 1,024.
   */
  static start(name: string, script: string, env: Record<string, string> = {}): Child {
    const shell = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 1048576 2>/dev/null || true; exec "$@"';
    const node = script.endsWith('.ts') ? [process.execPath, '--import', TSX, script] : [process.execPath, script];
    const child = spawn('/bin/sh', ['-c', shell, 'sh', ...node], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
      serialization: 'advanced',
    });
    children.add(child);
    return new Child(name, child);
  }

  get pid(): number {
    return this.process.pid!;
  }

  call<T>(cmd: string, args?: unknown, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!this.process.connected) {
        reject(new Error(`${this.name} is not running`));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: '${cmd}' got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.process.send({ id, cmd, args } satisfies Request);
    });
  }

  /** Resolves with the first notice of that name (also one that came before the call). */
  notice(notice: string, timeoutMs: number): Promise<Notice> {
    const early = this.notices.findIndex((n) => n.notice === notice);
    if (early >= 0) return Promise.resolve(this.notices.splice(early, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = { notice, resolve: (n: Notice) => (clearTimeout(timer), resolve(n)) };
      const timer = setTimeout(() => {
        this.noticeWaiters.splice(this.noticeWaiters.indexOf(waiter), 1);
        reject(new Error(`${this.name}: no '${notice}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.noticeWaiters.push(waiter);
      void this.exited.then(({ code, signal }) => reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before '${notice}'`)));
    });
  }

  /** Asks the child to exit, then kills it if it has not within the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    try {
      await this.call('exit', undefined, graceMs).catch(() => undefined);
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The child side: answers the parent's requests with the given handlers, and exits when the
 * parent goes away (so a killed bench never leaves a server or 10,000 sockets behind).
 */
export function serve(handlers: Record<string, (args: never) => unknown>): void {
  if (!process.send) throw new Error('this script is started by test/bench/run.ts (it needs an IPC channel)');
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (msg: Request) => {
    const reply = (r: Reply) => process.connected && process.send!(r);
    if (msg.cmd === 'exit') {
      reply({ id: msg.id, ok: true, result: null });
      setImmediate(() => process.exit(0));
      return;
    }
    const handler = handlers[msg.cmd];
    if (!handler) {
      reply({ id: msg.id, ok: false, error: `unknown command ${msg.cmd}` });
      return;
    }
    try {
      reply({ id: msg.id, ok: true, result: await handler(msg.args as never) });
    } catch (err) {
      reply({ id: msg.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  });
}

export function sendNotice(notice: Notice): void {
  if (process.connected) process.send!(notice);
}

/** Open-file limit of this process, from /proc (Node has no getrlimit). */
export function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined ? NaN : soft === 'unlimited' ? Infinity : Number(soft);
}

export interface Memory {
  /** Resident set size now, MB. */
  rssMB: number;
  /** Peak resident set size since the process started, MB. */
  peakMB: number;
}

/** A process's RSS read from outside it (/proc/<pid>/status): no cooperation needed. */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The child side of BENCH_PROFILE_DIR: handlers that start and stop a CPU profile of this
 * process, so the parent can profile only the measured part of a run.
 */
export function profilerHandlers(): { profileStart: () => Promise<boolean>; profileStop: (args: { name: string }) => Promise<string> } {
  const profiler = new Session();
  return {
    profileStart: async () => {
      if (!process.env.BENCH_PROFILE_DIR) return false;
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      return true;
    },
    profileStop: async ({ name }) => {
      const { profile } = await profiler.post('Profiler.stop');
      const file = join(process.env.BENCH_PROFILE_DIR!, `${name}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      profiler.disconnect();
      return file;
    },
  };
}
