// /insights in Chromium at desktop and phone widths, light and dark: checked after its
// stream's snapshot and a live update (a session finishing moves the figures), with charts
// that carry a title, a description and a data table, no horizontal overflow, no serious
// accessibility violation and no CSP complaint.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { launchBrowser, newPage, type TestPage } from '../helpers/browser.js';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate, setDevices, setSessionStatus } from '../helpers/farm.js';

const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900, colorScheme: 'light' as const },
  { name: 'phone', width: 390, height: 844, colorScheme: 'dark' as const },
];

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('the insights page in Chromium, after its snapshot and a live update', () => {
  let namespace: string;
  let app: FastifyInstance;
  let browser: Browser | undefined;
  let base: string;
  const open: TestPage[] = [];

  beforeAll(async () => {
    namespace = await freshNamespace('e2e-insights');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 3);
    await setDevices(namespace, 'alpha', [
      { name: 'alpha-0', state: 'Idle' },
      { name: 'alpha-1', state: 'Busy', session: 'long' },
      { name: 'alpha-2', state: 'Unhealthy', message: '<img src=x onerror=alert(1)>' },
    ]);
    await createSession(namespace, 'done', { pool: 'alpha', labels: { 'droidfarm.io/suite': 'smoke' } });
    for (const viewport of VIEWPORTS) await createSession(namespace, `queued-${viewport.name}`, { pool: 'alpha' });
    await createSession(namespace, 'long', { pool: 'alpha' });
    app = await startDashboard({ namespaces: [namespace] });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    await waitFor('the sessions in the store', () => app.farm.store.syncStatus().synced && app.farm.store.getSession(namespace, 'long') !== undefined);
    const c = app.farm.store.getSession(namespace, 'done')!.createdAt!;
    await setSessionStatus(namespace, 'done', { phase: 'Failed', reason: 'InstrumentationCrash', message: '<b>boom</b>', device: { name: 'alpha-0' }, assignedAt: iso(c), startTime: iso(c), completionTime: iso(c + 1000), results: { passed: 3, failed: 1, skipped: 0 } });
    await setSessionStatus(namespace, 'long', { phase: 'Running', device: { name: 'alpha-1' }, assignedAt: iso(c), startTime: iso(c) });
    await waitFor('the statuses in the store', () => app.farm.store.getSession(namespace, 'long')?.phase === 'Running' && Date.now() > c + 2000);
    browser = await launchBrowser();
  });

  afterEach(async () => {
    for (const t of open.splice(0)) {
      expect(t.problems, 'console errors, page errors, CSP violations or crashes').toEqual([]);
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

  async function sseCount(page: Page, atLeast: number): Promise<number> {
    await page.waitForFunction((n) => (globalThis as unknown as { __dfSse: number }).__dfSse >= n, atLeast);
    return page.evaluate(() => (globalThis as unknown as { __dfSse: number }).__dfSse);
  }

  const finishedTile = (page: Page) => page.locator('dl > div').filter({ hasText: 'Sessions finished' }).locator('dd').first();

  for (const viewport of VIEWPORTS) {
    it(`shows figures, charts and tables and follows a finished session at ${viewport.width}×${viewport.height} (${viewport.colorScheme})`, async () => {
      const t = await newPage(browser!, { viewport, colorScheme: viewport.colorScheme });
      open.push(t);
      const { page } = t;
      await t.context.addInitScript(() => {
        const g = globalThis as unknown as { __dfSse: number; document: { addEventListener(t: string, f: () => void): void } };
        g.__dfSse = 0;
        g.document.addEventListener('htmx:sseMessage', () => g.__dfSse++);
      });
      const response = await page.goto(`${base}/insights?window=1h&namespace=${namespace}`);
      expect(response?.status()).toBe(200);
      const seen = await sseCount(page, 1);
      const before = Number(await finishedTile(page).textContent());

      // A queued session runs and succeeds: the page's figures follow without a reload.
      const name = `queued-${viewport.name}`;
      const c = app.farm.store.getSession(namespace, name)!.createdAt!;
      await setSessionStatus(namespace, name, { phase: 'Succeeded', device: { name: 'alpha-0' }, assignedAt: iso(c + 1000), startTime: iso(c + 1000), completionTime: iso(Math.min(Date.now() - 500, c + 2000)) });
      await sseCount(page, seen + 1);
      await page.waitForFunction(
        ([n]) => Number((globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector('dl > div dd')?.textContent) === n,
        [before + 1],
      );

      for (const id of ['chart-phases', 'chart-wait', 'chart-util']) {
        const svg = page.locator(`svg[aria-labelledby="${id}-title ${id}-desc"]`);
        await expect(svg.getAttribute('role')).resolves.toBe('img');
        await expect(svg.locator('title').first().textContent()).resolves.not.toBe('');
        await expect(svg.locator('desc').textContent()).resolves.not.toBe('');
        const box = await svg.boundingBox();
        expect(box!.width, `${id} fits the screen`).toBeLessThanOrEqual(viewport.width);
        expect(box!.height).toBeGreaterThan(50);
      }
      await page.getByText("The charts' numbers as a table").click();
      await expect(page.getByRole('table', { name: /per time slot/ }).locator('tbody tr').count()).resolves.toBeGreaterThan(0);
      await expect(page.locator('[data-reason="InstrumentationCrash"]').textContent()).resolves.toContain('done');
      await expect(page.locator('[data-verdict="healthy"][data-pool="alpha"]').isVisible()).resolves.toBe(true);

      const { scroll, inner } = await page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document;
        return { scroll: doc.documentElement.scrollWidth, inner: doc.documentElement.clientWidth };
      });
      expect(scroll, 'the page is wider than the screen').toBeLessThanOrEqual(inner);
      expect(await seriousViolations(page), 'serious or critical accessibility violations (axe-core)').toEqual([]);
    });
  }
});
