// `npm start`'s prestart (scripts/build-if-changed.mjs): a second start skips the build when
// nothing changed, and any change to what the build reads or wrote rebuilds. Run on a small
// stand-in project whose `npm run build` counts its runs, so each case takes a second.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const project = mkdtempSync(join(tmpdir(), 'df-build-'));

// The stand-in build writes the real build's outputs and notes each run.
const BUILD = `
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
if (process.env.FAIL_BUILD) process.exit(3);
mkdirSync('dist', { recursive: true });
mkdirSync('public/vendor', { recursive: true });
writeFileSync('dist/server.js', readFileSync('src/server.ts'));
writeFileSync('public/app.css', readFileSync('views/page.eta'));
writeFileSync('public/vendor/htmx.min.js', '');
appendFileSync('builds.log', 'x');
`;

async function start(env: NodeJS.ProcessEnv = {}): Promise<{ builds: number; said: string; code: number }> {
  let said = '';
  let code = 0;
  try {
    said = (await run(process.execPath, ['scripts/build-if-changed.mjs'], { cwd: project, env: { ...process.env, ...env } })).stdout;
  } catch (err) {
    code = (err as { code: number }).code;
  }
  const log = join(project, 'builds.log');
  return { builds: existsSync(log) ? readFileSync(log, 'utf8').length : 0, said, code };
}

describe('npm start builds only when something changed', () => {
  mkdirSync(join(project, 'scripts'));
  mkdirSync(join(project, 'src'));
  mkdirSync(join(project, 'views'));
  cpSync(join(root, 'scripts/build-if-changed.mjs'), join(project, 'scripts/build-if-changed.mjs'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'stand-in', private: true, type: 'module', scripts: { build: 'node build.mjs' } }));
  writeFileSync(join(project, 'build.mjs'), BUILD);
  writeFileSync(join(project, 'src/server.ts'), 'one');
  writeFileSync(join(project, 'views/page.eta'), '<p class="p-1">');

  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('builds the first time and skips the second', async () => {
    expect((await start()).builds).toBe(1);
    const second = await start();
    expect(second.builds).toBe(1);
    expect(second.said).toMatch(/build: up to date/);
  });

  it('skips when files are only touched (a checkout), rebuilds when src/ changes', async () => {
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(project, 'src/server.ts'), later, later);
    expect((await start()).builds).toBe(1);
    writeFileSync(join(project, 'src/server.ts'), 'two');
    expect((await start()).builds).toBe(2);
    expect(readFileSync(join(project, 'dist/server.js'), 'utf8')).toBe('two');
  });

  it('rebuilds when a view changes (Tailwind reads class names from views/)', async () => {
    writeFileSync(join(project, 'views/page.eta'), '<p class="p-2">');
    expect((await start()).builds).toBe(3);
    expect(readFileSync(join(project, 'public/app.css'), 'utf8')).toBe('<p class="p-2">');
  });

  it('rebuilds when an output was rewritten or removed since (npm run dev, a clean)', async () => {
    writeFileSync(join(project, 'public/app.css'), '/* unminified, from npm run dev */');
    expect((await start()).builds).toBe(4);
    rmSync(join(project, 'dist'), { recursive: true });
    expect((await start()).builds).toBe(5);
    expect((await start()).builds).toBe(5);
  });

  it('after a failed build, builds again next time', async () => {
    writeFileSync(join(project, 'src/server.ts'), 'three');
    const failed = await start({ FAIL_BUILD: '1' });
    expect(failed.code).toBe(3);
    writeFileSync(join(project, 'src/server.ts'), 'two');
    // The inputs are those of the last good build again, but the stamp went with the failure.
    expect((await start()).builds).toBe(6);
  });
});
