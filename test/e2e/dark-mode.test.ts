// Dark mode follows the viewer's prefers-color-scheme: in Chromium emulating a dark
// system, the pages have a dark background, light main text and every text at WCAG AA
// contrast; with a light system they stay light.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage } from '../helpers/browser.js';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { contrastProblems } from '../helpers/contrast.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate, devices, setDevices, setSessionStatus } from '../helpers/farm.js';

/** Relative luminance (WCAG) of a computed CSS colour, read through a canvas (Tailwind 4 colours are oklch). */
async function luminance(page: Page, selector: string, property: 'color' | 'backgroundColor'): Promise<number> {
  // A string, not a function: the DOM is not in this project's types, and the transpiler's helpers are not in the page.
  return page.evaluate(`(() => {
    const css = getComputedStyle(document.querySelector(${JSON.stringify(selector)}))[${JSON.stringify(property)}];
    const ctx = document.createElement('canvas').getContext('2d', { willReadFrequently: true });
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b] = [...ctx.getImageData(0, 0, 1, 1).data].map((v) => (v / 255 <= 0.04045 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  })()`);
}

describe('dark mode', () => {
  let namespace: string;
  let app: FastifyInstance | undefined;
  let browser: Browser | undefined;
  let url: string;

  beforeAll(async () => {
    namespace = await freshNamespace('e2e-dark');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 4);
    await setDevices(namespace, 'alpha', [...devices('alpha', 2), { name: 'alpha-2', state: 'Busy', session: 'run-1' }, { name: 'alpha-3', state: 'Unhealthy', message: 'adb offline' }]);
    await createSession(namespace, 'run-1', { pool: 'alpha', labels: { team: 'payments' } });
    await setSessionStatus(namespace, 'run-1', {
      phase: 'Failed',
      reason: 'TestsFailed',
      message: '2 of 8 tests failed.',
      device: { name: 'alpha-2' },
      assignedAt: '2026-11-23T10:00:00Z',
      startTime: '2026-11-23T10:00:05Z',
      completionTime: '2026-11-23T10:03:05Z',
      progress: { completed: 8, total: 8 },
      results: { passed: 6, failed: 2, skipped: 0 },
      artifacts: [{ name: 'junit.xml', kind: 'junit', url: 'https://elsewhere.example/junit.xml', sizeBytes: 2048 }],
    });
    app = await startDashboard({ namespaces: [namespace] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    await waitFor('the pool and the session in the store', () => app!.farm.store.getSession(namespace, 'run-1')?.phase === 'Failed' && app!.farm.store.getPool(namespace, 'alpha')?.devices.length === 4);
  });
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await app?.close();
    }
  });

  const pages = () => [
    { name: 'the farm', path: '/', ready: `a[href="/pools/${namespace}/alpha"]` },
    { name: 'a session', path: `/sessions/${namespace}/run-1`, ready: '[data-session-phase]' },
    { name: 'insights', path: `/insights?window=7d&namespace=${namespace}`, ready: '[data-verdict]' },
  ];

  it('is dark with light, legible text when the system is dark', async () => {
    const { page, problems } = await newPage(browser!, { colorScheme: 'dark' });
    for (const { name, path, ready } of pages()) {
      await page.goto(`${url}${path}`);
      await page.locator(ready).first().waitFor();
      await page.locator('#live-badge[data-state="live"]').waitFor();
      expect(await luminance(page, 'body', 'backgroundColor'), `${name}: body background`).toBeLessThan(0.05);
      expect(await luminance(page, 'body', 'color'), `${name}: body text`).toBeGreaterThan(0.7);
      expect(await luminance(page, 'main h1, main h2', 'color'), `${name}: heading`).toBeGreaterThan(0.7);
      // Cards stay dark too: a light card would keep light text unreadable.
      expect(await luminance(page, 'main .bg-white', 'backgroundColor'), `${name}: a card`).toBeLessThan(0.05);
      expect(await contrastProblems(page), `${name}: texts under 4.5:1`).toEqual([]);
    }
    expect(problems).toEqual([]);
  });

  it('stays light, and as legible, when the system is light', async () => {
    const { page } = await newPage(browser!, { colorScheme: 'light' });
    for (const { name, path, ready } of pages()) {
      await page.goto(`${url}${path}`);
      await page.locator(ready).first().waitFor();
      expect(await luminance(page, 'body', 'backgroundColor'), `${name}: body background`).toBeGreaterThan(0.9);
      expect(await luminance(page, 'body', 'color'), `${name}: body text`).toBeLessThan(0.05);
      expect(await contrastProblems(page), `${name}: texts under 4.5:1`).toEqual([]);
    }
  });
});
