// prestart: `npm run build` (TypeScript, CSS, vendored htmx), skipped when nothing it reads
// changed since the last successful build, and nothing it wrote changed since. Files are
// hashed by content, not by time: a checkout that touches files without changing them
// rebuilds nothing, and any change to src/ (which Tailwind also scans for class names),
// views/, the lock file (tool and htmx versions) or the build's own configuration rebuilds
// everything. Outputs are hashed too, so a `npm run build` or `npm run dev` in between (which
// write them without a stamp) is noticed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const INPUTS = ['src', 'views', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/vendor-assets.mjs', 'scripts/build-if-changed.mjs'];
const OUTPUTS = ['dist', 'public/app.css', 'public/vendor'];
const STAMP = join(root, 'dist', '.build-stamp');

function files(path) {
  if (!existsSync(path)) return [];
  try {
    return readdirSync(path, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch (err) {
    if (err.code === 'ENOTDIR') return [path];
    throw err;
  }
}

/** One hash over the paths and contents of every file under `paths`. */
function hashOf(paths) {
  const hash = createHash('sha256');
  const all = paths.flatMap((p) => files(join(root, p))).filter((f) => f !== STAMP).sort();
  for (const file of all) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

const inputs = hashOf(INPUTS);
const stamp = existsSync(STAMP) ? readFileSync(STAMP, 'utf8') : '';
if (stamp && stamp === JSON.stringify({ inputs, outputs: hashOf(OUTPUTS) })) {
  console.log('build: up to date (no change in src/, views/ or the build setup); `npm run build` forces one');
  process.exit(0);
}
// A build that fails half-way must not leave an older stamp that could match again.
rmSync(STAMP, { force: true });
const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
writeFileSync(STAMP, JSON.stringify({ inputs, outputs: hashOf(OUTPUTS) }));
