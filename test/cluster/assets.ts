// The dashboard's built assets (public/app.css, public/vendor/), which the app serves and the
// browser and runtime-image tests need. Built by the global setup, so that `npx vitest run
// <one file>` works right after `npm install`, as `npm test` does.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs `npm run build:assets` (about a second); its messages go to our stderr. */
export function buildAssets(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'build:assets'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`npm run build:assets failed (exit ${code ?? signal}); its messages are above`))));
  });
}
