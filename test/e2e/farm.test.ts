// The farm page in a real headless Chromium, served by the real dashboard (listening on
// loopback) against the test kube-apiserver holding the example pools.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage } from '../helpers/browser.js';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createExamplePools, examplePoolNames } from '../helpers/examples.js';
import { pngSize } from '../helpers/png.js';

describe('farm page in Chromium', () => {
  let namespace: string;
  let pools: string[];
  let app: FastifyInstance | undefined;
  let browser: Browser | undefined;
  let url: string;

  beforeAll(async () => {
    namespace = await freshNamespace('e2e-farm');
    pools = examplePoolNames();
    expect(pools.length).toBeGreaterThan(0);
    await createExamplePools(namespace);
    app = await startDashboard({ namespaces: [namespace] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    // Launch while the dashboard syncs; the page is rendered once, so open it after the sync.
    // allSettled: a launched browser is kept for afterAll even when the sync wait failed.
    const [launched, synced] = await Promise.allSettled([
      launchBrowser(),
      waitFor('dashboard ready with every example pool', async () => {
        const res = await fetch(`${url}/readyz`);
        return res.status === 200 && app!.farm.store.listPools().length === pools.length;
      }),
    ]);
    if (launched.status === 'fulfilled') browser = launched.value;
    for (const result of [launched, synced]) if (result.status === 'rejected') throw result.reason;
  });

  afterAll(async () => {
    // The browser first (it holds the event stream open), then the dashboard, even if the first fails.
    try {
      await browser?.close();
    } finally {
      await app?.close();
    }
  });

  it('shows every pool card, the live badge and htmx 2, with no console error or CSP violation', async () => {
    const { page, problems } = await newPage(browser!, { viewport: { width: 1280, height: 800 } });

    const response = await page.goto(`${url}/`);
    expect(response?.status()).toBe(200);
    // The page really is under the strict policy, so "no violations" below means something.
    const csp = (await response!.allHeaders())['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");

    // Cards are found by what a user sees (the pool's name as a link), not by their ids.
    const cards = page.locator('#farm-pools .pool-card');
    for (const name of pools) {
      const card = cards.filter({ has: page.getByRole('link', { name, exact: true }) });
      await card.waitFor({ state: 'visible' });
      expect(await card.count()).toBe(1);
      expect(await card.getByRole('link', { name, exact: true }).getAttribute('href')).toBe(`/pools/${namespace}/${name}`);
      expect(await card.textContent()).toContain(namespace);
    }
    // No cards beyond the example pools.
    expect(await cards.count()).toBe(pools.length);

    const badge = page.locator('#live-badge');
    await badge.waitFor({ state: 'visible' });
    expect(await badge.getAttribute('role')).toBe('status');
    expect(await badge.getAttribute('data-state')).toBe('live');
    expect((await badge.locator('.live-text').textContent())?.trim()).toBe('live');

    // The scripts are deferred: wait for htmx instead of assuming it ran by 'load'.
    const version = await page.waitForFunction(() => (globalThis as { htmx?: { version?: string } }).htmx?.version);
    expect(await version.jsonValue()).toMatch(/^2\./);

    // The stylesheet applied (Tailwind's utilities): the card grid is a CSS grid.
    expect(await page.locator('#farm-pools ul').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { display: string } }).getComputedStyle(el).display)).toBe('grid');

    const png = await page.screenshot({ type: 'png' });
    // The README's screenshots come from the demo (npm run screenshots), not from this page.
    expect(pngSize(png)).toEqual({ width: 1280, height: 800 });

    expect(problems).toEqual([]);
  });
});
