// Copies htmx and its SSE extension from node_modules (pinned by package-lock.json) into
// public/vendor, so the browser loads them from the dashboard itself: no CDN.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

// The SSE extension reopens a stream the browser gave up on (a non-200 answer, such as a
// proxy's 502 while the dashboard restarts) after 0.5, 1, 2, 4 … 64 s, and resets only
// after a successful open: a restart behind a proxy could leave a page offline for a
// minute. Cap its step at 1 s (retryCount 2 × 500 ms), the same as the browser's own
// retry after a network error (the server's 1 s `retry:` hint), so a restarted dashboard is
// picked up within ~2 s behind a proxy too; a 502 costs a proxy next to nothing. Fails the
// build if a new version of the extension changed the line.
const ssePath = join(out, 'sse.js');
const backoffLine = 'retryCount = Math.max(Math.min(retryCount * 2, 128), 1)';
const sse = readFileSync(ssePath, 'utf8');
if (!sse.includes(backoffLine)) {
  throw new Error(`scripts/vendor-assets.mjs: htmx-ext-sse no longer has "${backoffLine}"; re-check its reconnect delays and update this patch`);
}
writeFileSync(ssePath, sse.replace(backoffLine, 'retryCount = Math.max(Math.min(retryCount * 2, 2), 1) // capped at 1 s by scripts/vendor-assets.mjs'));
