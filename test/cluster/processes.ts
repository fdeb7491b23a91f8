// Child processes of the control plane. Every process we start is recorded here, so that
// nothing outlives the test run: an 'exit' hook kills them synchronously, and a small reaper
// process (which ignores Ctrl-C like vitest's own watchdog) kills them if the test runner is
// SIGKILLed.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type net from 'node:net';
import { errorText, FatalWaitError } from './wait.js';

/** pid → the control plane that started it */
const live = new Map<number, ProcessGroup>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of live.keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of liveDirs) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort: the reaper retries
      }
    }
  });
}

const REAPER_SCRIPT = `
trap '' INT TERM HUP
pids=
while IFS= read -r line; do pids=$line; done
if [ -n "$pids" ]; then
  kill -TERM $pids 2>/dev/null
  for _ in $(seq 50); do
    alive=
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.1
  done
  kill -KILL $pids 2>/dev/null
fi
rm -rf -- "$@"
`;

/** The processes and folders of one control plane, plus its reaper. */
export class ProcessGroup {
  private readonly reaper: ChildProcess;
  private closed = false;

  constructor(private readonly dirs: string[]) {
    installExitHook();
    for (const dir of dirs) liveDirs.add(dir);
    // The reaper reads the current pid list line by line; EOF on stdin means our process
    // is gone (however it died), so it stops the children and removes the folders.
    this.reaper = spawn('bash', ['-c', REAPER_SCRIPT, 'droidfarm-reaper', ...dirs], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.reaper.unref();
    (this.reaper.stdin as unknown as net.Socket).unref();
    this.reaper.on('error', () => {
      // bash missing: the exit hook still covers normal exits
    });
  }

  spawn(name: string, command: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): Proc {
    if (this.closed) throw new Error(`control plane is stopping; not starting ${name}`);
    fs.appendFileSync(logFile, `\n==== ${new Date().toISOString()} starting ${name}\n`);
    const fd = fs.openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio: ['ignore', fd, fd], detached: false, env: env ?? process.env });
    } finally {
      fs.closeSync(fd);
    }
    const proc = new Proc(name, child, logFile);
    if (child.pid !== undefined) {
      const pid = child.pid;
      live.set(pid, this);
      this.syncReaper();
      child.once('exit', () => {
        live.delete(pid);
        this.syncReaper();
      });
    }
    return proc;
  }

  private syncReaper(): void {
    if (this.closed || !this.reaper.stdin?.writable) return;
    const pids = [...live].filter(([, owner]) => owner === this).map(([pid]) => pid);
    this.reaper.stdin.write(`${pids.join(' ')}\n`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const dir of this.dirs) {
      await fsp.rm(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    }
    this.reaper.stdin?.end('\n');
  }
}

export class Proc {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private spawnError: Error | undefined;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        this.spawnError = err;
        this.exitInfo ??= { code: null, signal: null };
        resolve(this.exitInfo);
      });
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get running(): boolean {
    return this.exitInfo === undefined && this.spawnError === undefined;
  }

  /** Throws (for waitFor) when the process is gone, with the tail of its log. */
  assertRunning(): void {
    if (this.running) return;
    const how = this.spawnError
      ? `could not be started: ${this.spawnError.message}`
      : `exited with ${this.exitInfo?.signal ? `signal ${this.exitInfo.signal}` : `code ${this.exitInfo?.code}`} before it was ready`;
    // The temp folder is removed on failure, so the log tail goes into the error itself.
    throw new FatalWaitError(new Error(`${this.name} ${how}\n${tailOfLog(this.logFile, this.name)}`));
  }

  /** SIGTERM, then SIGKILL after timeoutMs. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export function tailOfLog(file: string, name: string, lines = 40): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `--- last ${lines} lines of ${name} log (${file}) ---\n${text}\n--- end of ${name} log ---`;
  } catch (err) {
    return `(no ${name} log at ${file}: ${errorText(err)})`;
  }
}
