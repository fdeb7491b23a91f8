// Every page as an operator sees it: opened in Chromium against the real dashboard and
// kube-apiserver, at desktop and phone widths. Each live page is checked only after its
// stream's snapshot AND a live update have arrived (the moment the first round's pages went
// wrong), then again after reload and Back/Forward. Cluster text holds the hostile corpus
// (CR, CRLF, `retry:` lines, NUL, bidi marks, markup): the pages stay whole and live.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage, recordDialogs, type TestPage } from '../helpers/browser.js';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate, recordEvent, scalePool, setDevices, setPoolConditions, setSessionStatus, type TestDevice } from '../helpers/farm.js';
import { seriousViolations } from '../helpers/axe.js';
import { HOSTILE_ALL, HOSTILE_TEXTS } from '../helpers/hostile.js';

/** What the selection checks use of the page's window (this project's TypeScript has no DOM types). */
interface BrowserWindow {
  document: { createRange(): { selectNodeContents(node: unknown): void } };
  getSelection(): { removeAllRanges(): void; addRange(range: unknown): void; toString(): string; rangeCount: number; anchorNode: { isConnected: boolean } | null };
}

/** The little of the DOM these checks read (the tests' tsconfig has no DOM library). */
interface DomElement {
  tagName: string;
  id: string;
  className: string;
  children: { length: number };
  getBoundingClientRect(): { right: number };
}
interface DomDocument {
  documentElement: { scrollWidth: number; clientWidth: number };
  querySelectorAll(selector: string): Iterable<DomElement>;
}

const WIDTHS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** alpha's devices: one of each state, the Unhealthy one with adb shell output and a `retry:` line in its message. */
function alphaDevices(flip: 'Idle' | 'Busy'): TestDevice[] {
  return [
    { name: 'alpha-0', state: 'Idle' },
    { name: 'alpha-1', state: 'Busy', session: 'run-live' },
    { name: 'alpha-2', state: 'Unhealthy', message: `${HOSTILE_TEXTS.adbShell}${HOSTILE_TEXTS.retry}${HOSTILE_TEXTS.doubleCr}` },
    { name: 'alpha-3', state: flip },
    { name: 'alpha-4', state: 'Booting', message: HOSTILE_ALL },
  ];
}

describe('every page in Chromium, after its snapshot and a live update', () => {
  let namespace: string;
  let app: FastifyInstance;
  let browser: Browser | undefined;
  let base: string;
  const open: TestPage[] = [];
  /** gamma's replicas: every farm or pools test scales it once more, a change those pages show. */
  let gammaReplicas = 1;
  let progress = 0;

  beforeAll(async () => {
    namespace = await freshNamespace('e2e-pages');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 5);
    await setDevices(namespace, 'alpha', alphaDevices('Idle'));
    await createPool(namespace, 'beta', 2);
    await setDevices(namespace, 'beta', [
      { name: 'beta-0', state: 'Idle' },
      { name: 'beta-1', state: 'Idle' },
    ]);
    await createPool(namespace, 'gamma', gammaReplicas);
    await createSession(namespace, 'run-live', { pool: 'alpha', labels: { team: 'payments' } });
    await setSessionStatus(namespace, 'run-live', { phase: 'Running', device: { name: 'alpha-1' }, startTime: '2026-11-23T10:00:00Z', progress: { completed: 0, total: 40 } });
    await createSession(namespace, 'run-done', { pool: 'beta' });
    await setSessionStatus(namespace, 'run-done', { phase: 'Succeeded', startTime: '2026-11-23T10:00:00Z', completionTime: '2026-11-23T10:05:00Z', results: { passed: 12, failed: 0, skipped: 1 } });
    await createSession(namespace, 'run-hostile', { pool: 'beta' });
    await setSessionStatus(namespace, 'run-hostile', {
      phase: 'Failed',
      reason: 'TestsFailed',
      message: HOSTILE_ALL,
      startTime: '2026-11-23T10:00:00Z',
      completionTime: '2026-11-23T10:01:00Z',
      artifacts: [{ name: `logcat ${HOSTILE_TEXTS.crlf} ${HOSTILE_TEXTS.bidi}`, kind: 'logcat', url: 'https://artifacts.invalid/logcat.txt', sizeBytes: 10 }],
    });
    await setPoolConditions(namespace, 'alpha', [{ type: 'Ready', status: 'False', reason: 'DevicesUnhealthy', message: HOSTILE_ALL, lastTransitionTime: new Date().toISOString() }]);
    await createSession(namespace, 'run-queued', { pool: 'alpha' });
    await recordEvent(namespace, 'run-hostile.hostile', { kind: 'TestSession', object: 'run-hostile', reason: 'RunnerOutput', message: `runner said: ${HOSTILE_ALL}`, type: 'Warning' });
    app = await startDashboard({ namespaces: [namespace] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const [launched, ready] = await Promise.allSettled([
      launchBrowser(),
      waitFor('the dashboard to have the test farm', () => app.farm.store.syncStatus().synced && app.farm.store.getSession(namespace, 'run-queued') !== undefined && app.farm.store.getPool(namespace, 'alpha')?.devices.length === 5 && app.farm.store.eventsFor('TestSession', namespace, 'run-hostile').length === 1),
    ]);
    if (launched.status === 'fulfilled') browser = launched.value;
    for (const result of [launched, ready]) if (result.status === 'rejected') throw result.reason;
  });

  afterEach(async () => {
    for (const t of open.splice(0)) {
      expect(t.problems, 'console errors, page errors or crashes').toEqual([]);
      await t.close();
    }
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await app?.close();
    }
  });

  /** Opens a page counting the stream's messages (htmx:sseMessage), and waits for its snapshot. */
  async function openLive(path: string, viewport: { width: number; height: number }, live = true): Promise<{ page: Page; dialogs: string[] }> {
    const t = await newPage(browser!, { viewport });
    open.push(t);
    await t.context.addInitScript(() => {
      const g = globalThis as unknown as { __dfSse: number; document: { addEventListener(t: string, f: () => void): void } };
      g.__dfSse = 0;
      g.document.addEventListener('htmx:sseMessage', () => g.__dfSse++);
    });
    const dialogs = recordDialogs(t.page);
    const response = await t.page.goto(base + path);
    expect(response?.status(), path).toBe(200);
    if (live) await sseCount(t.page, 1);
    return { page: t.page, dialogs };
  }

  async function sseCount(page: Page, atLeast: number): Promise<number> {
    await page.waitForFunction((n) => (globalThis as unknown as { __dfSse: number }).__dfSse >= n, atLeast);
    return page.evaluate(() => (globalThis as unknown as { __dfSse: number }).__dfSse);
  }

  /** Makes a change in the cluster and waits until the page has had a live message and shows `shows` (attached, when hidden by a filter). */
  async function liveUpdate(page: Page, change: () => Promise<void>, shows: Locator, state: 'visible' | 'attached' = 'visible'): Promise<void> {
    const before = await page.evaluate(() => (globalThis as unknown as { __dfSse: number }).__dfSse);
    await change();
    await sseCount(page, before + 1);
    await shows.waitFor({ state });
  }

  async function expectNoHorizontalOverflow(page: Page): Promise<void> {
    const { scroll, inner, widest } = await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: DomDocument }).document;
      const inner = doc.documentElement.clientWidth;
      // The innermost elements that stick out, for the failure message.
      const widest = [...doc.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > inner + 1 && el.children.length === 0)
        .slice(0, 3)
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className}`);
      return { scroll: doc.documentElement.scrollWidth, inner, widest };
    });
    expect(scroll, `the page is wider than the screen: ${widest.join(', ')}`).toBeLessThanOrEqual(inner);
    expect(await seriousViolations(page), 'serious or critical accessibility violations (axe-core)').toEqual([]);
  }

  async function apiNames(path: string): Promise<string[]> {
    const body = (await (await fetch(base + path)).json()) as { items: Array<{ name: string }> };
    return body.items.map((i) => i.name);
  }

  const isFocused = (locator: Locator) => locator.evaluate((el) => el === (el.ownerDocument as unknown as { activeElement: unknown }).activeElement);
  const tile = (page: Page, device: string) => page.locator(`#device-view a.tile[href$="/devices/${device}"]`);

  for (const viewport of WIDTHS) {
    describe(`at ${viewport.width}×${viewport.height}`, () => {
      it('the farm shows every pool and follows a change', async () => {
        const { page } = await openLive('/', viewport);
        const next = ++gammaReplicas;
        await liveUpdate(page, () => scalePool(namespace, 'gamma', next), page.locator('[id$="__gamma"]').getByText(`/${next} devices`));
        for (const name of await apiNames(`/api/v1/pools?namespace=${namespace}`)) {
          await expect(page.locator('#farm-pools').getByRole('link', { name, exact: true }).isVisible()).resolves.toBe(true);
        }
        // What needs a look, without hovering: the unhealthy device with its reason, the waiting session.
        const attention = page.getByRole('region', { name: 'Needs attention' });
        await expect(attention.textContent()).resolves.toMatch(/alpha-2\s*\(Starting: Intent/);
        await expect(attention.textContent()).resolves.toMatch(/1\s*session waits for pool\s*alpha/);
        await expectNoHorizontalOverflow(page);
      });

      it('the pools list shows a row for every pool after a live update', async () => {
        const { page } = await openLive('/pools', viewport);
        const next = ++gammaReplicas;
        await liveUpdate(page, () => scalePool(namespace, 'gamma', next), page.locator('#pools-table tr').filter({ hasText: 'gamma' }).getByText(`/${next}`));
        const names = await apiNames(`/api/v1/pools?namespace=${namespace}`);
        expect(names.sort()).toEqual(['alpha', 'beta', 'gamma']);
        for (const name of names) await expect(page.locator('#pools-table tbody tr').filter({ hasText: name }).isVisible()).resolves.toBe(true);
        expect(await page.locator('#pools-table template').count(), 'rows left inert in <template>').toBe(0);
        await expectNoHorizontalOverflow(page);
      });

      it('a pool shows every device, live, whatever its messages hold', async () => {
        const { page, dialogs } = await openLive(`/pools/${namespace}/alpha`, viewport);
        const state = (await tile(page, 'alpha-3').getAttribute('data-state')) === 'Idle' ? 'Busy' : 'Idle';
        await liveUpdate(page, () => setDevices(namespace, 'alpha', alphaDevices(state)), tile(page, 'alpha-3').and(page.locator(`[data-state="${state}"]`)));
        for (const name of await apiNames(`/api/v1/pools/${namespace}/alpha/devices`)) await expect(tile(page, name).isVisible(), name).resolves.toBe(true);
        // The Unhealthy device's message (adb output with CRs and a retry: line) is shown whole, as text.
        await expect(tile(page, 'alpha-2').getAttribute('title')).resolves.toContain('Status: ok');
        await expect(tile(page, 'alpha-2').locator('.tile-reason').textContent()).resolves.toContain('Starting: Intent');
        // The pool's condition message holds the whole corpus: shown as text, the header intact.
        await expect(page.locator('.pool-header').getByText(/DevicesUnhealthy/).first().isVisible()).resolves.toBe(true);
        expect(dialogs).toEqual([]);
        await expectNoHorizontalOverflow(page);
      });

      it('a pool filtered by the URL keeps its filter through the snapshot, live updates, reload and Back/Forward', async () => {
        const { page } = await openLive(`/pools/${namespace}/alpha?state=Idle`, viewport);
        const visibleTiles = () => page.locator('#device-view a.tile:visible').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-state')));
        const state = (await tile(page, 'alpha-3').getAttribute('data-state')) === 'Idle' ? 'Busy' : 'Idle';
        await liveUpdate(page, () => setDevices(namespace, 'alpha', alphaDevices(state)), tile(page, 'alpha-3').and(page.locator(`[data-state="${state}"]`)), 'attached');
        expect(new Set(await visibleTiles())).toEqual(new Set(['Idle']));
        await expect(page.getByRole('button', { name: /^Idle/ }).getAttribute('aria-pressed')).resolves.toBe('true');
        await expect(page.getByRole('button', { name: /^Busy/ }).getAttribute('aria-pressed')).resolves.toBe('false');
        // The chip counts what the pool has in that state, live.
        const idle = (await apiNames(`/api/v1/pools/${namespace}/alpha/devices?state=Idle`)).length;
        await expect(page.getByRole('button', { name: /^Idle/ }).textContent()).resolves.toContain(String(idle));

        await page.getByRole('button', { name: /^Busy/ }).click();
        await page.waitForURL(/state=Idle&state=Busy$/);
        expect(new Set(await visibleTiles())).toEqual(new Set(['Idle', 'Busy']));
        // The grid follows in a popstate handler: waited for, not read at once.
        await page.goBack();
        await page.waitForURL(/\?state=Idle$/);
        await expect.poll(async () => new Set(await visibleTiles())).toEqual(new Set(['Idle']));
        await page.goForward();
        await page.waitForURL(/state=Idle&state=Busy$/);
        await expect.poll(async () => new Set(await visibleTiles())).toEqual(new Set(['Idle', 'Busy']));

        await page.reload();
        await sseCount(page, 1);
        expect(new Set(await visibleTiles())).toEqual(new Set(['Idle', 'Busy']));
        await expectNoHorizontalOverflow(page);
      });

      it('a device shows its facts and follows a change', async () => {
        const { page } = await openLive(`/pools/${namespace}/beta/devices/beta-1`, viewport);
        const word = `ticket-${viewport.name}`;
        await liveUpdate(
          page,
          () => setDevices(namespace, 'beta', [{ name: 'beta-0', state: 'Idle' }, { name: 'beta-1', state: 'Unhealthy', message: `${word}\r\nretry: 86400000\r\rnext` }]),
          page.locator('aside').getByText(word),
        );
        await expect(page.locator('aside').getByText('Unhealthy').first().isVisible()).resolves.toBe(true);
        await expectNoHorizontalOverflow(page);
      });

      it('the session list shows every session, updates rows in place and keeps focus', async () => {
        const { page } = await openLive(`/sessions?namespace=${namespace}`, viewport);
        const names = await apiNames(`/api/v1/sessions?namespace=${namespace}`);
        for (const name of names) await expect(page.locator('#sessions-rows').getByRole('link', { name, exact: true }).isVisible(), name).resolves.toBe(true);
        // Focus on a link in the list, then change that very row: focus and the element stay.
        const link = page.locator('#sessions-rows').getByRole('link', { name: 'run-live', exact: true });
        await link.focus();
        const done = ++progress;
        await liveUpdate(page, () => setSessionStatus(namespace, 'run-live', { progress: { completed: done, total: 40 } }), page.locator('#sessions-rows tr').filter({ hasText: 'run-live' }).getByText(`${done}/40`));
        await expect(isFocused(link)).resolves.toBe(true);
        // A new session while the viewer is in the list waits behind a button.
        const fresh = `run-new-${viewport.name}`;
        await createSession(namespace, fresh, { pool: 'beta' });
        await page.getByRole('button', { name: /1 new session/ }).waitFor();
        await expect(page.locator('#sessions-rows').getByRole('link', { name: fresh }).count()).resolves.toBe(0);
        await expect(isFocused(link)).resolves.toBe(true);
        await page.getByRole('button', { name: /1 new session/ }).click();
        await page.locator('#sessions-rows').getByRole('link', { name: fresh }).waitFor();
        await expect(page.getByRole('status').filter({ hasText: /1 new session/ }).isVisible()).resolves.toBe(true);
        // Text selected in a cell survives a change of that cell: the cell waits (its row's
        // other cells update) until the selection goes, then shows the change.
        const row = page.locator('#sessions-rows tr').filter({ hasText: 'run-live' });
        const selected = await row.locator('td[data-label="Progress"] span.tabular-nums').evaluate((cell) => {
          const w = globalThis as unknown as BrowserWindow;
          const range = w.document.createRange();
          range.selectNodeContents(cell);
          w.getSelection().removeAllRanges();
          w.getSelection().addRange(range);
          return w.getSelection().toString();
        });
        expect(selected).toBe(`${done}/40`);
        const again = ++progress;
        await liveUpdate(page, () => setSessionStatus(namespace, 'run-live', { progress: { completed: again, total: 40 }, results: { passed: again, failed: 0, skipped: 0 } }), row.getByText(`${again} passed`));
        const stillSelected = () =>
          page.evaluate(() => {
            const selection = (globalThis as unknown as BrowserWindow).getSelection();
            return selection.rangeCount > 0 && selection.anchorNode?.isConnected ? selection.toString() : '(lost)';
          });
        await expect(stillSelected()).resolves.toBe(`${done}/40`);
        await page.evaluate(() => (globalThis as unknown as BrowserWindow).getSelection().removeAllRanges());
        await row.getByText(`${again}/40`).waitFor();
        await expectNoHorizontalOverflow(page);
      });

      it('a filtered session list shows only what matches, and rows enter and leave it live', async () => {
        const { page } = await openLive(`/sessions?namespace=${namespace}&phase=Running`, viewport);
        await page.locator('#sessions-rows').getByRole('link', { name: 'run-live', exact: true }).waitFor();
        await expect(page.locator('#sessions-rows tr').count()).resolves.toBe((await apiNames(`/api/v1/sessions?namespace=${namespace}&phase=Running`)).length);
        await liveUpdate(page, () => setSessionStatus(namespace, 'run-queued', { phase: 'Running', startTime: '2026-11-23T11:00:00Z' }), page.locator('#sessions-rows').getByRole('link', { name: 'run-queued', exact: true }));
        await setSessionStatus(namespace, 'run-queued', { phase: 'Pending' });
        await page.locator('#sessions-rows').getByRole('link', { name: 'run-queued', exact: true }).waitFor({ state: 'detached' });
        await expectNoHorizontalOverflow(page);
      });

      it('the new-session form', async () => {
        const { page } = await openLive(`/sessions/new?namespace=${namespace}&pool=alpha`, viewport, false);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await expect(page.locator('form button[type="submit"]').first().isVisible()).resolves.toBe(true);
        await expectNoHorizontalOverflow(page);
      });

      it('a running session follows its progress', async () => {
        const { page } = await openLive(`/sessions/${namespace}/run-live`, viewport);
        const done = ++progress;
        await liveUpdate(page, () => setSessionStatus(namespace, 'run-live', { progress: { completed: done, total: 40 } }), page.getByText(`${done}/40`).first());
        await expect(page.getByText('Running').first().isVisible()).resolves.toBe(true);
        await expectNoHorizontalOverflow(page);
      });

      it('a finished session whose message holds hostile text keeps its facts and buttons', async () => {
        const { page, dialogs } = await openLive(`/sessions/${namespace}/run-hostile`, viewport);
        await liveUpdate(page, () => setSessionStatus(namespace, 'run-hostile', { reason: `TestsFailed${viewport.name}` }), page.getByText(`TestsFailed${viewport.name}`).first());
        await expect(page.getByText('Status: ok').first().isVisible()).resolves.toBe(true);
        await expect(page.getByRole('region', { name: 'Timeline' }).getByText(/runner said:/).isVisible()).resolves.toBe(true);
        await expect(page.getByRole('region', { name: 'Facts' }).first().isVisible()).resolves.toBe(true);
        await expect(page.getByRole('region', { name: 'Artifacts' }).getByText(/logcat first line/).isVisible()).resolves.toBe(true);
        await expect(page.getByRole('button', { name: /Retry/ }).isVisible()).resolves.toBe(true);
        expect(dialogs).toEqual([]);
        await expectNoHorizontalOverflow(page);
      });

      it('a page that does not exist says so', async () => {
        const t = await newPage(browser!, { viewport });
        open.push(t);
        const response = await t.page.goto(`${base}/pools/${namespace}/nope`);
        expect(response?.status()).toBe(404);
        await t.page.getByText('DevicePool', { exact: false }).first().waitFor();
        t.problems.splice(0); // Chromium logs the 404 of the document itself
        await expectNoHorizontalOverflow(t.page);
      });
    });
  }
  it('a session list and a filtered pool page stay true across a dashboard restart, with the cluster changed meanwhile', async () => {
    const viewport = WIDTHS[0];
    const list = await openLive(`/sessions?namespace=${namespace}`, viewport);
    const pool = await openLive(`/pools/${namespace}/alpha?state=Busy`, viewport);
    const port = Number(new URL(base).port);
    // The next process has read the cluster before the old one goes: the outage is the browsers' own reconnect.
    await app.close();
    await list.page.locator('#live-badge[data-state="reconnecting"]').waitFor();
    await createSession(namespace, 'run-while-away', { pool: 'beta' });
    await setSessionStatus(namespace, 'run-done', { phase: 'Succeeded', reason: 'AllPassedWhileAway' });
    await setDevices(namespace, 'alpha', alphaDevices('Busy'));
    app = await startDashboard({ namespaces: [namespace] });
    await waitFor('the new process to read the changes', () => app.farm.store.getSession(namespace, 'run-while-away') !== undefined && app.farm.store.getSession(namespace, 'run-done')?.reason === 'AllPassedWhileAway');
    await app.listen({ host: '127.0.0.1', port });

    // The snapshot on reconnect brings both pages up to date, without a reload.
    await list.page.locator('#sessions-rows').getByRole('link', { name: 'run-while-away', exact: true }).waitFor();
    await list.page.locator('#sessions-rows tr').filter({ hasText: 'run-done' }).getByText('AllPassedWhileAway').waitFor();
    const rows = await list.page.locator('#sessions-rows tr').evaluateAll((trs) => trs.map((tr) => tr.querySelector('a')?.textContent));
    expect(rows.sort()).toEqual((await apiNames(`/api/v1/sessions?namespace=${namespace}`)).sort());
    await tile(pool.page, 'alpha-3').and(pool.page.locator('[data-state="Busy"]')).waitFor();
    const shown = await pool.page.locator('#device-view a.tile:visible').evaluateAll((tiles) => tiles.map((t) => t.getAttribute('data-state')));
    expect(new Set(shown)).toEqual(new Set(['Busy']));
    await pool.page.locator('#live-badge[data-state="live"]').waitFor();
    // While the dashboard was away, the only complaints are the refused reconnects to /live.
    for (const t of open) t.problems.splice(0, t.problems.length, ...t.problems.filter((p) => !/^console error: \[object Event\]|^console error: Failed to load resource: .*\/live\?/.test(p)));
  });
});
