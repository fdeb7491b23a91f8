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
// minute. Its schedule becomes the informers' (src/kube/backoff.ts): at most 1 s apart for
// the first ~30 attempts (about 30 s), so a restarted dashboard is picked up within ~2 s
// behind a proxy too, then doubling to 64 s, so a lasting refusal (a 403, or the live
// connection cap's 429/503) is not retried every second by every tab; jittered so tabs
// do not retry in lock-step. Fails the build if a new version of the extension changed.
const ssePath = join(out, 'sse.js');
const schedule = [
  '        retryCount = retryCount || 0\n',
  '        retryCount = Math.max(Math.min(retryCount * 2, 128), 1)\n',
  '        var timeout = retryCount * 500\n',
].join('');
const sse = readFileSync(ssePath, 'utf8');
if (!sse.includes(schedule)) {
  throw new Error('scripts/vendor-assets.mjs: htmx-ext-sse changed its reconnect schedule; re-check its delays and update this patch');
}
writeFileSync(
  ssePath,
  sse.replace(
    schedule,
    [
      '        // Patched by scripts/vendor-assets.mjs: retryCount counts attempts; <= 1 s apart for ~30 s, then up to 64 s.\n',
      '        retryCount = (retryCount || 0) + 1\n',
      '        var timeout = (retryCount <= 30 ? Math.min(retryCount, 2) * 500 : Math.min(1000 * Math.pow(2, retryCount - 30), 64000)) * (0.75 + Math.random() / 4)\n',
    ].join(''),
  ),
);
