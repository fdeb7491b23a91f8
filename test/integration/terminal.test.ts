// The dashboard started by a person in a terminal: under a real pseudo-terminal (util-linux
// `script`), with the default --host (every interface) and no kubeconfig, it prints readable
// lines, the first naming the URL to open, warns that the network can reach it, and stops on
// Ctrl-C like a terminal program.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/cluster.js';
import { freePort } from '../helpers/process.js';

const root = join(import.meta.dirname, '..', '..');

describe('the dashboard in a terminal', () => {
  let child: ChildProcess;
  let output = '';
  let port: number;
  const home = mkdtempSync(join(tmpdir(), 'df-tty-home-'));
  const lines = () =>
    output
      .replace(/\r/g, '')
      .split('\n')
      .filter((l) => l.trim() !== '');

  beforeAll(async () => {
    port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, PORT: String(port), NO_COLOR: '1' };
    for (const name of ['KUBECONFIG', 'KUBERNETES_SERVICE_HOST', 'HOST', 'LOG_FORMAT', 'DROIDFARM_DEMO', 'NODE_OPTIONS']) delete env[name];
    // script gives the server a pseudo-terminal as stdin, stdout and stderr.
    // One process (no tsx wrapper in between), so Ctrl-C reaches the server itself.
    const server = `exec ${process.execPath} --import tsx src/server.ts`;
    child = spawn('script', ['-qefc', server, '/dev/null'], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
    await waitFor('the server to start in the terminal', () => /EMBEDDED DEMO/.test(output), { timeoutMs: 60_000, detail: () => output });
  }, 90_000);

  afterAll(async () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        process.kill(-child.pid, 'SIGKILL');
        await exited;
      } catch {
        // already gone
      }
    }
    rmSync(home, { recursive: true, force: true });
  });

  it('first prints the line to act on: what runs and the URL, with the real port', () => {
    expect(lines()[0]).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d DroidFarm dashboard — embedded demo — open http://localhost:${port}$`));
  });

  it('prints readable lines, not JSON, and warns that anyone on the network can reach it', () => {
    expect(lines().filter((l) => l.startsWith('{'))).toEqual([]);
    expect(output).toMatch(/WARN listening on every network interface \(0\.0\.0\.0\): anyone who can reach this machine can start, stop and delete test sessions; --host 127\.0\.0\.1 keeps it local/);
    expect(output).toMatch(/WARN running the EMBEDDED DEMO: a simulated farm in memory \(no kubeconfig/);
  });

  it('stops on Ctrl-C', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Ctrl-C typed into the terminal: the pty sends SIGINT to the server.
    child.stdin!.write('\x03');
    await waitFor('the server to say it shuts down', () => /shutting down {2}signal=SIGINT/.test(output), { timeoutMs: 15_000, detail: () => output });
    expect(await exited).toBe(0);
  });
});
