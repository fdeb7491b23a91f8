// The server runs as compiled JavaScript, as in production (`node dist/server.js`), not under
// tsx: tsx's loader thread and source maps add some 60 MB to a process's RSS, which would be
// charged to the dashboard. This compiles src/ and the bench's server with the project's
// own tsc into a temporary folder laid out like the repository (views, public and
// node_modules linked), so ROOT and every import resolve as they do in dist/.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BENCH_DIR } from './proc.js';

const ROOT = resolve(BENCH_DIR, '..', '..');

export interface CompiledServer {
  /** The compiled bench server script. */
  script: string;
  /** Type errors tsc reported (it still emits); empty when none. */
  diagnostics: string;
  remove(): void;
}

export async function compileServer(timeoutMs = 180_000): Promise<CompiledServer> {
  const dir = mkdtempSync(join(tmpdir(), 'droidfarm-bench-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', remove);
  try {
    // BENCH_VIEWS=<dir> tries changed templates without touching the tree.
    const views = process.env.BENCH_VIEWS ? resolve(process.env.BENCH_VIEWS) : join(ROOT, 'views');
    symlinkSync(views, join(dir, 'views'));
    for (const name of ['public', 'node_modules']) symlinkSync(join(ROOT, name), join(dir, name));
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    const tsconfig = join(dir, 'tsconfig.bench.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.json'),
        compilerOptions: { rootDir: ROOT, outDir: dir, sourceMap: false, declaration: false, incremental: false },
        files: [join(BENCH_DIR, 'server.ts')],
        include: [],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const { code, output } = await new Promise<{ code: number | null; output: string }>((done, fail) => {
      const child = spawn(process.execPath, [tsc, '-p', tsconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(new Error(`tsc did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('error', fail);
      child.on('exit', (code) => {
        clearTimeout(timer);
        done({ code, output });
      });
    });
    const script = join(dir, 'test', 'bench', 'server.js');
    // tsc emits despite type errors (exit code 2); anything else, or no output, is a failure.
    if ((code !== 0 && code !== 2) || !existsSync(script)) throw new Error(`compiling the server failed (tsc exit ${code}):\n${output}`);
    return { script, diagnostics: code === 0 ? '' : output.trim(), remove };
  } catch (err) {
    remove();
    throw err;
  }
}
