// The runner pod's log of a TestSession against the real API server, with kwok serving pod
// logs from files: the plain-text endpoint (whole, tail, follow), its clear refusals, and
// the session page's live log panel over the page's one event stream: a snapshot, then
// exactly the new lines, escaped, from one upstream follow shared by every viewer.
import type { AddressInfo } from 'node:net';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppOptions } from '../../src/app.js';
import { launchBrowser, newPage, recordDialogs } from '../helpers/browser.js';
import { adminKubeConfig, appendPodLog, clusterInfo, freshNamespace, podLogFile, waitFor } from '../helpers/cluster.js';
import { startDashboard, type DashboardOptions } from '../helpers/dashboard.js';
import { createSession, setSessionStatus } from '../helpers/farm.js';
import { openStream, type SseEvent, type SseStream } from '../helpers/sse.js';

const CONTAINER = 'runner';
const LOG_LIMITS: AppOptions['logs'] = { intervalMs: 50, endGraceMs: 300, retry: { initialMs: 100, maxMs: 400 } };

async function startApp(options: DashboardOptions): Promise<{ app: FastifyInstance; base: string }> {
  const app = await startDashboard({ logs: LOG_LIMITS, ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

/** A runner pod on the kwok node whose log kwok serves from a file; resolves when it runs. */
async function runnerPod(namespace: string, pod: string, lines: string[] = [], { withLog = true } = {}): Promise<string> {
  const file = withLog ? await podLogFile(namespace, pod, CONTAINER) : '';
  if (lines.length) await appendPodLog(file, lines);
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespacedPod({
    namespace,
    body: { metadata: { name: pod }, spec: { nodeName: clusterInfo().kwokNode, containers: [{ name: CONTAINER, image: 'example.invalid/runner:1' }] } },
  });
  await waitFor(`pod ${pod} to run`, async () => (await core.readNamespacedPod({ name: pod, namespace })).status?.phase === 'Running');
  return file;
}

/** A session the operator has started, with its runner pod. */
async function runningSession(namespace: string, name: string, lines: string[]): Promise<string> {
  const file = await runnerPod(namespace, `${name}-runner`, lines);
  await createSession(namespace, name, { pool: 'alpha' });
  await setSessionStatus(namespace, name, { phase: 'Running', podName: `${name}-runner` });
  return file;
}

const ids = (namespace: string, name: string) => ({
  panel: `session-log__${namespace}__${name}`,
  status: `session-log-status__${namespace}__${name}`,
  lines: `session-log-lines__${namespace}__${name}`,
});

function unescapeHtml(html: string): string {
  return html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

// A span of lines carries them as read too (data-raw, for the log viewer page): the panel shows the text.
const spanText = (html: string) => [...html.matchAll(/<span(?: data-raw="[^"]*")?>(.*?)<\/span>/gs)].map((m) => unescapeHtml(m[1]!)).join('');

/** Log chunks in an event: [swap, text], in order. */
function chunks(e: SseEvent, linesId: string): Array<[string, string]> {
  const re = new RegExp(`<div id="[^"]+" hx-swap-oob="(beforeend|innerHTML):#${linesId}">(.*?)</div>`, 'gs');
  return [...e.data.matchAll(re)].map((m) => [m[1]!, spanText(m[2]!)]);
}

/** What a browser's log panel shows after these events: the snapshot's lines, then each chunk applied. */
function panelText(events: SseEvent[], linesId: string): string {
  let text = '';
  const re = new RegExp(`<pre id="${linesId}"[^>]*>(.*?)</pre>|<div id="[^"]+" hx-swap-oob="(beforeend|innerHTML):#${linesId}">(.*?)</div>`, 'gs');
  for (const e of events) {
    for (const m of e.data.matchAll(re)) {
      if (m[1] !== undefined) text = spanText(m[1]);
      else if (m[2] === 'innerHTML') text = spanText(m[3]!);
      else text += spanText(m[3]!);
    }
  }
  return text;
}

const statusOf = (e: SseEvent, statusId: string) => e.data.match(new RegExp(`<p id="${statusId}"[^>]*data-state="([a-z]+)"[^>]*>(.*?)</p>`, 's'))?.slice(1, 3);

describe('runner logs from the real API server and kwok', () => {
  let namespace: string;
  let app: FastifyInstance;
  let base: string;
  const streams: SseStream[] = [];
  const open = async (path: string, headers?: Record<string, string>) => {
    const s = await openStream(base + path, headers);
    streams.push(s);
    return s;
  };
  /** The page's own event stream URL, as its layout names it. */
  const pageStream = async (name: string) => {
    const page = await app.inject(`/sessions/${namespace}/${name}`);
    expect(page.statusCode).toBe(200);
    const url = page.body.match(/sse-connect="([^"]+)"/)?.[1];
    expect(url).toBeDefined();
    return { page: page.body, url: unescapeHtml(url!) };
  };
  const logsUrl = (name: string, query = '') => `/api/v1/sessions/${namespace}/${name}/logs${query}`;

  beforeAll(async () => {
    namespace = await freshNamespace('session-logs');
    await runningSession(namespace, 'run-1', ['boot completed', 'tests starting']);
    await createSession(namespace, 'queued', { pool: 'alpha' });
    ({ app, base } = await startApp({ namespaces: [namespace] }));
    await waitFor('the sessions in the store', () => app.farm.store.syncStatus().synced && app.farm.store.getSession(namespace, 'run-1')?.podName === 'run-1-runner' && app.farm.store.getSession(namespace, 'queued'));
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    // Nothing may be left open once every client has gone.
    await waitFor('every log follow and upstream request to close', () => {
      const stats = app.farm.logs.stats();
      return stats.follows === 0 && stats.upstreams === 0;
    });
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await app?.close();
  });

  it('serves the runner log as plain text, whole or its tail', async () => {
    const whole = await app.inject(logsUrl('run-1'));
    expect(whole.statusCode).toBe(200);
    expect(whole.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(whole.body).toBe('boot completed\ntests starting\n');
    const tail = await app.inject(logsUrl('run-1', '?tailLines=1'));
    expect(tail.body).toBe('tests starting\n');
    expect((await app.inject(logsUrl('run-1', '?tailLines=0&follow=false'))).body).toBe('');
  });

  it('streams lines appended after a follow request, and a client that goes closes the upstream request', async () => {
    const file = await runningSession(namespace, 'follow', ['first']);
    await waitFor('the session in the store', () => app.farm.store.syncStatus().synced && app.farm.store.getSession(namespace, 'follow')?.podName);
    const abort = new AbortController();
    const res = await fetch(base + logsUrl('follow', '?follow=true'), { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    let text = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
      } catch {
        // aborted below
      }
    })();
    await waitFor('the existing line', () => text === 'first\n');
    expect(app.farm.logs.stats().upstreams).toBe(1);
    await appendPodLog(file, ['second', 'third']);
    await waitFor('the appended lines on the open response', () => text === 'first\nsecond\nthird\n', { timeoutMs: 5_000 });
    abort.abort();
    await reading;
    await waitFor('the upstream request to close with the client', () => app.farm.logs.stats().upstreams === 0);
  });

  it('shows the log live on the session page: a snapshot, then exactly the new lines, escaped, from one shared follow', async () => {
    const id = ids(namespace, 'run-1');
    const { page, url } = await pageStream('run-1');
    // One stream for the page, subscribed to the session and to its log.
    expect(url).toBe(`/live?topic=${encodeURIComponent(`session:${namespace}/run-1`)}&topic=${encodeURIComponent(`log:${namespace}/run-1`)}`);
    expect(page.match(/sse-connect=/g)).toHaveLength(1);
    expect(page).toContain(`id="${id.panel}"`);
    expect(page).toContain(`href="/api/v1/sessions/${namespace}/run-1/logs"`);
    expect(page).not.toContain('<script>');
    expect(page).not.toMatch(/\sstyle="/);

    const first = await open(url);
    expect(first.status).toBe(200);
    const snapshot = await first.next((e) => e.data.includes(`id="${id.panel}"`));
    expect(first.events.find((e) => e.event === 'update')).toBe(snapshot);
    expect(snapshot.data).toContain(`id="session__${namespace}__run-1"`);
    await waitFor('the log on the first page', () => panelText(first.events, id.lines) === 'boot completed\ntests starting\n');
    await first.next((e) => statusOf(e, id.status)?.[0] === 'following');

    // A second viewer gets the tail in its snapshot, and shares the one upstream follow.
    const second = await open(url);
    const snap2 = await second.next((e) => e.data.includes(`id="${id.panel}"`));
    expect(panelText([snap2], id.lines)).toBe('boot completed\ntests starting\n');
    expect(statusOf(snap2, id.status)).toEqual(['following', 'Live: the log of runner pod run-1-runner.']);
    expect(app.farm.logs.stats()).toEqual({ follows: 1, upstreams: 1 });

    const from1 = first.events.length;
    const from2 = second.events.length;
    const file = `${clusterInfo().logDir}/${namespace}_run-1-runner_${CONTAINER}.log`;
    await appendPodLog(file, '<script>alert(1)</script> & done');
    for (const [viewer, from] of [[first, from1], [second, from2]] as const) {
      const update = await viewer.next((e) => chunks(e, id.lines).length > 0, { from });
      expect(chunks(update, id.lines)).toEqual([['beforeend', '<script>alert(1)</script> & done\n']]);
      expect(update.data).toMatch(/<span data-raw="\[&quot;\d{4}-\d\d-\d\dT[0-9:.]+Z &lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; done&quot;\]">&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; done\n<\/span>/);
      expect(update.data).not.toContain('<script>');
      expect(panelText(viewer.events, id.lines)).toBe('boot completed\ntests starting\n<script>alert(1)</script> & done\n');
    }
    // The chunks went to both viewers as the same event.
    expect(first.events.slice(from1).map((e) => e.id)).toEqual(second.events.slice(from2).map((e) => e.id));

    // Control sequences never reach the page; a line each.
    await appendPodLog(file, ['\u001b[31mred\u001b[0m text', 'progress 10%\rprogress 100%']);
    await waitFor('the cleaned lines', () => panelText(first.events, id.lines).endsWith('red text\nprogress 100%\n'));
  });

  it('gives a page that comes back after nobody watched a fresh snapshot, with what was written meanwhile', async () => {
    const id = ids(namespace, 'gap');
    const file = await runningSession(namespace, 'gap', ['before']);
    await waitFor('the session in the store', () => app.farm.store.syncStatus().synced && app.farm.store.getSession(namespace, 'gap')?.podName);
    const { url } = await pageStream('gap');
    const first = await open(url);
    await waitFor('the log on the page', () => panelText(first.events, id.lines) === 'before\n');
    const lastId = first.events.at(-1)!.id;
    first.close();
    await waitFor('the follow to stop with its last viewer', () => app.farm.logs.stats().follows === 0);

    await appendPodLog(file, 'while away');
    const back = await open(url, { 'last-event-id': lastId });
    const snapshot = await back.next((e) => e.event === 'update');
    expect(snapshot.data).toContain(`id="${id.panel}"`);
    await waitFor('the whole log on the page that came back', () => panelText(back.events, id.lines) === 'before\nwhile away\n');
  });

  it('caps what a chatty pod sends: bounded chunks at a bounded rate, and a notice for what was skipped', async () => {
    const id = ids(namespace, 'chatty');
    const file = await runningSession(namespace, 'chatty', ['quiet start']);
    await waitFor('the session in the store', () => app.farm.store.syncStatus().synced && app.farm.store.getSession(namespace, 'chatty')?.podName);
    const stream = await open((await pageStream('chatty')).url);
    await waitFor('the first line', () => panelText(stream.events, id.lines) === 'quiet start\n');
    const from = stream.events.length;
    const started = Date.now();
    // 5,000 lines of 100 bytes: about 500 KB at once.
    await appendPodLog(file, Array.from({ length: 5_000 }, (_, i) => `burst ${String(i).padStart(4, '0')} ${'x'.repeat(80)}`));
    await waitFor('the last line of the burst', () => panelText(stream.events, id.lines).endsWith(`burst 4999 ${'x'.repeat(80)}\n`));
    const elapsed = Date.now() - started;
    const sent = stream.events.slice(from).flatMap((e) => chunks(e, id.lines));
    expect(sent.length).toBeGreaterThan(0);
    // At most one chunk per interval (50 ms here), each at most 16 KiB plus the notice.
    expect(sent.length).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 1);
    for (const [swap, text] of sent) {
      expect(swap).toBe('beforeend');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(16 * 1024 + 300);
    }
    expect(sent.map(([, text]) => text).join('')).toMatch(/^\[dashboard\] … \d+ lines not shown: the log grows faster than this page shows it\. The whole log: \/api\/v1\/sessions\/.+\/chatty\/logs$/m);
    // A new viewer's snapshot holds the bounded tail only: the last 500 lines at most.
    const late = await open((await pageStream('chatty')).url);
    const snapshot = await late.next((e) => e.data.includes(`id="${id.panel}"`));
    const tail = panelText([snapshot], id.lines).split('\n').filter(Boolean);
    expect(tail.length).toBeLessThanOrEqual(500);
    expect(tail.at(-1)).toBe(`burst 4999 ${'x'.repeat(80)}`);
  });

  it('says plainly when there is no runner pod yet, and starts the log once there is one', async () => {
    const id = ids(namespace, 'queued');
    const api = await app.inject(logsUrl('queued'));
    expect(api.statusCode).toBe(409);
    expect(api.json()).toEqual({
      error: {
        code: 'DF_ERR_NO_RUNNER_POD',
        message: 'No runner pod yet: the session is Pending. Its log can be read once the operator has started the runner (status.podName); try again then.',
      },
    });
    const { page, url } = await pageStream('queued');
    expect(page).toContain('No runner pod yet: the session is Pending.');
    const stream = await open(url);
    const snapshot = await stream.next((e) => e.data.includes(`id="${id.panel}"`));
    expect(statusOf(snapshot, id.status)).toEqual(['waiting', 'No runner pod yet: the session is Pending. Its log appears here once the runner starts.']);
    expect(app.farm.logs.stats()).toEqual({ follows: 1, upstreams: 0 });

    await runnerPod(namespace, 'queued-runner', ['runner up']);
    await setSessionStatus(namespace, 'queued', { phase: 'Running', podName: 'queued-runner' });
    await stream.next((e) => statusOf(e, id.status)?.[0] === 'following');
    await waitFor('the new pod log on the open page', () => panelText(stream.events, id.lines) === 'runner up\n');
    expect((await app.inject(logsUrl('queued'))).body).toBe('runner up\n');
  });

  it('closes the follow of a finished session and says the log ended', async () => {
    const id = ids(namespace, 'done');
    const file = await runningSession(namespace, 'done', ['running']);
    await waitFor('the session in the store', () => app.farm.store.syncStatus().synced && app.farm.store.getSession(namespace, 'done')?.podName);
    const stream = await open((await pageStream('done')).url);
    await stream.next((e) => statusOf(e, id.status)?.[0] === 'following');
    await appendPodLog(file, 'all tests passed');
    await waitFor('the last line', () => panelText(stream.events, id.lines) === 'running\nall tests passed\n');
    await setSessionStatus(namespace, 'done', { phase: 'Succeeded' });
    const ended = await stream.next((e) => statusOf(e, id.status)?.[0] === 'ended');
    expect(statusOf(ended, id.status)?.[1]).toBe('The log of runner pod done-runner has ended.');
    await waitFor('the upstream follow to close', () => app.farm.logs.stats().upstreams === 0);
    expect(app.farm.logs.stats().follows).toBe(1);
  });

  it('maps what the API server refuses to clear errors, on the page and in the API', async () => {
    // status.podName names a pod that does not exist (any more).
    await createSession(namespace, 'ghost', { pool: 'alpha' });
    await setSessionStatus(namespace, 'ghost', { phase: 'Running', podName: 'ghost-runner' });
    // A pod whose container has no log (kwok serves none for it).
    await runnerPod(namespace, 'mute-runner', [], { withLog: false });
    await createSession(namespace, 'mute', { pool: 'alpha' });
    await setSessionStatus(namespace, 'mute', { phase: 'Running', podName: 'mute-runner' });
    await waitFor('the sessions in the store', () => app.farm.store.syncStatus().synced && app.farm.store.getSession(namespace, 'ghost')?.podName && app.farm.store.getSession(namespace, 'mute')?.podName);

    const gone = await app.inject(logsUrl('ghost', '?follow=true'));
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('DF_ERR_KUBE_NOT_FOUND');
    expect(gone.json().error.message).toBe(`Could not read the log of runner pod ${namespace}/ghost-runner: it does not exist (any more). (pods "ghost-runner" not found)`);

    const mute = await app.inject(logsUrl('mute'));
    expect(mute.statusCode).toBe(400);
    expect(mute.json().error.code).toBe('DF_ERR_KUBE_BAD_REQUEST');
    expect(mute.json().error.message).toContain('mute-runner');
    expect(mute.json().error.message).toContain('may not have started yet');

    const id = ids(namespace, 'ghost');
    const stream = await open((await pageStream('ghost')).url);
    const failed = await stream.next((e) => statusOf(e, id.status)?.[0] === 'failed');
    expect(statusOf(failed, id.status)?.[1]).toMatch(/^Could not read the log of runner pod ghost-runner: it does not exist \(any more\)\..* Retrying in a moment\.$/);

    // Once the pod exists, the retry finds it and the panel follows it.
    await runnerPod(namespace, 'ghost-runner', ['late start']);
    await stream.next((e) => statusOf(e, id.status)?.[0] === 'following', { timeoutMs: 10_000 });
    await waitFor('the log after the retry', () => panelText(stream.events, id.lines) === 'late start\n');
  });

  it('refuses bad parameters and unknown sessions with coded errors', async () => {
    for (const query of ['?tailLines=-1', '?tailLines=abc', '?tailLines=1.5', '?tailLines=99999999', '?tailLines=1&tailLines=2']) {
      const res = await app.inject(logsUrl('run-1', query));
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code, query).toBe('DF_ERR_BAD_REQUEST');
      expect(res.json().error.message, query).toMatch(/tailLines/);
    }
    const follow = await app.inject(logsUrl('run-1', '?follow=sometimes'));
    expect(follow.statusCode).toBe(400);
    expect(follow.json().error.message).toBe('follow must be true or false.');
    expect((await app.inject(logsUrl('run-1', '?container=Not_A_Name'))).statusCode).toBe(400);
    const missing = await app.inject(logsUrl('nope'));
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'DF_ERR_NOT_FOUND', message: `TestSession ${namespace}/nope was not found.` } });
    expect((await app.inject(`/live?topic=${encodeURIComponent('log:nope')}`)).statusCode).toBe(400);
  });
});

describe('runner logs when the dashboard may read sessions but not pod logs', () => {
  let app: FastifyInstance | undefined;

  afterAll(async () => {
    await app?.close();
  });

  it('answers 403 with the permission that is missing, and says so on the page', async () => {
    const namespace = await freshNamespace('session-logs-rbac');
    await runningSession(namespace, 'run-1', ['secret']);
    const rbac = adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'farm-reader' },
        rules: [
          { apiGroups: ['droidfarm.io'], resources: ['devicetemplates', 'devicepools', 'testsessions'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'alice-reads-the-farm' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'farm-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
      },
    });
    const started = await startApp({ namespaces: [namespace], user: 'alice', sync: { backoff: { initialMs: 50, maxMs: 200 } } });
    app = started.app;
    // Every watch listed (the API answers 503 until then), the session among what it read.
    await waitFor('the session in the store (RBAC takes effect a moment later)', () => app!.farm.store.syncStatus().synced && app!.farm.store.getSession(namespace, 'run-1')?.podName, { timeoutMs: 15_000 });

    const res = await app.inject(`/api/v1/sessions/${namespace}/run-1/logs`);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('DF_ERR_KUBE_FORBIDDEN');
    expect(res.json().error.message).toMatch(/^Not allowed to read the log of runner pod .*run-1-runner: the dashboard's RBAC role lacks this permission\./);
    expect(res.json().error.message).toContain('pods/log');

    const id = ids(namespace, 'run-1');
    const stream = await openStream(`${started.base}/live?topic=${encodeURIComponent(`log:${namespace}/run-1`)}`);
    try {
      const failed = await stream.next((e) => statusOf(e, id.status)?.[0] === 'failed');
      expect(statusOf(failed, id.status)?.[1]).toMatch(/^Not allowed to read the log of runner pod run-1-runner/);
      expect(panelText(stream.events, id.lines)).toBe('');
    } finally {
      stream.close();
    }
  });
});

describe('runner log panel in Chromium', () => {
  let app: FastifyInstance | undefined;
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows the tail, appends new lines as text at the bottom, and stays within the CSP', async () => {
    const namespace = await freshNamespace('session-logs-browser');
    const file = await runningSession(namespace, 'run-1', ['one', 'two']);
    const started = await startApp({ namespaces: [namespace] });
    app = started.app;
    await waitFor('the session in the store', () => app!.farm.store.syncStatus().synced && app!.farm.store.getSession(namespace, 'run-1')?.podName);
    browser = await launchBrowser();
    const { page, problems, close } = await newPage(browser);
    const dialogs = recordDialogs(page);
    const id = ids(namespace, 'run-1');
    const lines = page.locator(`#${id.lines}`);
    const text = () => lines.evaluate((el) => el.textContent ?? '');
    try {
      await page.goto(`${started.base}/sessions/${namespace}/run-1`);
      await waitFor('the tail in the panel', async () => (await text()) === 'one\ntwo\n');
      await page.locator(`#${id.status}[data-state="following"]`).waitFor();

      await appendPodLog(file, '<img src=x onerror=alert(1)> three');
      await waitFor('the new line in the panel', async () => (await text()) === 'one\ntwo\n<img src=x onerror=alert(1)> three\n');
      expect(await lines.locator('img').count()).toBe(0);

      // Many lines: the newest stays in view at the bottom of the scrolled panel.
      await appendPodLog(file, Array.from({ length: 200 }, (_, i) => `line ${i}`));
      await waitFor('the last of many lines', async () => (await text()).endsWith('line 199\n'));
      const inView = await lines.evaluate((el) => {
        const scroller = el.parentElement!;
        const box = scroller.getBoundingClientRect();
        const last = el.lastElementChild!.getBoundingClientRect();
        return scroller.scrollHeight > scroller.clientHeight && last.bottom <= box.bottom && last.bottom > box.top;
      });
      expect(inView).toBe(true);
      expect(dialogs).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
    await waitFor('the follow to stop once the page is gone', () => app!.farm.logs.stats().follows === 0);
  });
});
