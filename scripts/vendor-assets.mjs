// Copies htmx and its SSE extension from node_modules (pinned by package-lock.json) into
// public/vendor, so the browser loads them from the dashboard itself: no CDN.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'public', 'vendor');
mkdirSync(out, { recursive: true });
for (const [from, to] of [
  ['node_modules/htmx.org/dist/htmx.min.js', 'htmx.min.js'],
  ['node_modules/htmx-ext-sse/dist/sse.js', 'sse.js'],
]) {
  copyFileSync(join(root, from), join(out, to));
}
