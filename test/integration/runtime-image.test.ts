// The Dockerfile's runtime stage, without a Docker engine: its production-only install in an
// empty folder, the built server copied in, then started as an unprivileged user (so the
// folder really is read-only to it) with NODE_ENV=production against the real apiserver.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterInfo, freshNamespace, waitFor } from '../helpers/cluster.js';
import { freePort } from '../helpers/process.js';
import { createPool, createTemplate, devices, setDevices } from '../helpers/farm.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const NOBODY = 65534;


/** Total size in bytes of a folder. */
async function du(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sb', dir]);
  return Number(stdout.split('\t')[0]);
}

describe('the runtime stage of the Dockerfile', () => {
  const work = mkdtempSync(join(tmpdir(), 'df-runtime-'));
  const build = join(work, 'build');
  const app = join(work, 'app');
  let child: ChildProcess | undefined;
  let output = '';
  let base: string;
  let namespace: string;
  let prodBytes = 0;

  beforeAll(async () => {
    // The build stage, from this checkout's installed dependencies: compiled code and assets.
    await run(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.build.json'), '--outDir', join(build, 'dist')], { cwd: root });
    // CSS and htmx come from `npm run build:assets`, which the global setup runs first.
    for (const asset of ['public/app.css', 'public/vendor/htmx.min.js']) {
      expect(statSync(join(root, asset), { throwIfNoEntry: false }), `${asset}: run npm run build:assets`).toBeDefined();
    }

    // The runtime stage: exactly its RUN line, in an empty folder.
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    const install = /^RUN (npm ci --omit=dev[^&\n]*?)\s*(&&|$)/m.exec(runtime)?.[1];
    expect(install).toBe('npm ci --omit=dev --ignore-scripts --no-audit --no-fund');
    cpSync(join(root, 'package.json'), join(app, 'package.json'));
    cpSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
    await run('sh', ['-c', install!], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
    prodBytes = await du(join(app, 'node_modules'));
    cpSync(join(build, 'dist'), join(app, 'dist'), { recursive: true });
    cpSync(join(root, 'views'), join(app, 'views'), { recursive: true });
    cpSync(join(root, 'public'), join(app, 'public'), { recursive: true });

    // Read-only to the server: owned by root, no write bits, and the server runs as nobody.
    await run('chmod', ['-R', 'a-w,a+rX', app]);
    chmodSync(work, 0o755);

    namespace = await freshNamespace('runtime');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 2);
    await setDevices(namespace, 'alpha', devices('alpha', 2));
    const kubeconfig = join(work, 'kubeconfig');
    writeFileSync(kubeconfig, readFileSync(clusterInfo().adminKubeconfig));
    chmodSync(kubeconfig, 0o444);

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Node 24 from this checkout (the image's node:24), as an unprivileged user like USER 1000.
    const node = join(root, 'node_modules/node/bin/node');
    child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', node, 'dist/server.js', '--kubeconfig', kubeconfig, '--namespace', namespace, '--host', '127.0.0.1', '--port', String(port)], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', HOME: '/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
    await waitFor('the production server ready', async () => (await fetch(`${base}/readyz`)).status === 200, { timeoutMs: 60_000, detail: () => output.slice(-3000) });
  }, 300_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('holds production dependencies only', () => {
    const installed = (name: string) => {
      try {
        return statSync(join(app, 'node_modules', name)).isDirectory();
      } catch {
        return false;
      }
    };
    expect(installed('fastify')).toBe(true);
    expect(installed('@kubernetes/client-node')).toBe(true);
    for (const dev of ['vitest', 'typescript', 'tailwindcss', 'playwright-core', 'tsx', 'node']) expect(installed(dev), dev).toBe(false);
    console.log(`[runtime] production node_modules: ${(prodBytes / 1024 / 1024).toFixed(1)} MiB`);
  });

  it('serves pages, assets and JSON as nobody from a read-only folder with NODE_ENV=production', async () => {
    // setpriv execs node in place: the server's process runs as nobody.
    const { stdout: who } = await run('ps', ['-o', 'uid=', '-p', String(child!.pid)]);
    expect(Number(who.trim())).toBe(NOBODY);
    const page = await fetch(`${base}/pools/${namespace}/alpha`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('alpha-0');
    const css = html.match(/href="(\/static\/app\.css\?v=[^"]+)"/)![1]!;
    expect((await fetch(`${base}${css}`)).status).toBe(200);
    expect((await fetch(`${base}/static/vendor/htmx.min.js`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const pools = (await (await fetch(`${base}/api/v1/pools`)).json()) as { items: Array<{ name: string }> };
    expect(pools.items.map((p) => p.name)).toEqual(['alpha']);
    expect(output).not.toMatch(/EACCES|EROFS/);
  });
});
