// Starting a session from the form in a real Chromium, against the real apiserver: fill,
// submit, land on the session page, watch it move through its phases as the operator
// (this test) writes status, and go back with the browser's back button.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage } from '../helpers/browser.js';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { api, createPool, createTemplate, devices, setDevices, setSessionStatus } from '../helpers/farm.js';

describe('starting a session in Chromium', () => {
  let namespace: string;
  let app: FastifyInstance | undefined;
  let browser: Browser | undefined;
  let url: string;

  beforeAll(async () => {
    namespace = await freshNamespace('e2e-sessions');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 2);
    await setDevices(namespace, 'alpha', devices('alpha', 2));
    app = await startDashboard({ namespaces: [namespace] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    await waitFor('the pool in the store', () => app!.farm.store.getPool(namespace, 'alpha')?.devices.length === 2);
  });
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await app?.close();
    }
  });

  it('fills the form, shows field errors, submits once, follows the phases live, and goes back', async () => {
    const { page, problems } = await newPage(browser!);
    await page.goto(`${url}/sessions`);
    await page.getByRole('link', { name: 'New session' }).click();
    await page.waitForURL(`${url}/sessions/new`);

    await page.getByLabel('Pool').selectOption('alpha');
    await page.getByLabel(/^Apps to install/).fill('com.example.shop http://insecure.example.com/shop.apk');
    await page.getByLabel(/^Labels/).fill('team=payments');
    await page.getByRole('button', { name: 'Start session' }).click();
    // The server's 422: the form comes back with what was typed and the error beside it.
    await page.getByText('line 1: APK URL must be an https:// URL', { exact: true }).waitFor();
    expect(await page.getByLabel(/^Apps to install/).inputValue()).toBe('com.example.shop http://insecure.example.com/shop.apk');

    await page.getByLabel(/^Apps to install/).fill('com.example.shop https://artifacts.example.com/shop.apk');
    // The terminal preview follows the form.
    await page.locator('#preview-yaml').getByText('"https://artifacts.example.com/shop.apk"').waitFor();
    expect(await page.locator('#preview-curl').textContent()).toContain('/api/v1/sessions');
    await page.getByRole('button', { name: 'Start session' }).dblclick();
    await page.waitForURL(new RegExp(`/sessions/${namespace}/alpha-[0-9a-f]{10}$`));
    const name = page.url().split('/').pop()!;

    const listed = (await api().listNamespacedCustomObject({ group: 'droidfarm.io', version: 'v1alpha1', plural: 'testsessions', namespace })) as { items: Array<{ metadata: { name: string; labels: Record<string, string> } }> };
    expect(listed.items.map((s) => s.metadata.name)).toEqual([name]);
    expect(listed.items[0]!.metadata.labels).toEqual({ team: 'payments' });

    const phase = page.locator('[data-session-phase]');
    await expect.poll(() => phase.textContent()).toBe('Pending');
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
    await setSessionStatus(namespace, name, { phase: 'Assigned', device: { name: 'alpha-0' }, assignedAt: '2026-11-23T10:00:00Z' });
    await waitFor('the watch to bring Assigned', () => app!.farm.store.getSession(namespace, name)?.phase === 'Assigned');
    await expect.poll(() => phase.textContent(), { timeout: 10_000 }).toBe('Assigned');
    await setSessionStatus(namespace, name, { phase: 'Running', startTime: '2026-11-23T10:00:05Z', progress: { completed: 2, total: 8 } });
    await page.getByText('2/8 tests (25%)').waitFor();
    await setSessionStatus(namespace, name, { phase: 'Succeeded', completionTime: '2026-11-23T10:03:05Z', progress: { completed: 8, total: 8 }, results: { passed: 8, failed: 0, skipped: 0 } });
    await expect.poll(() => phase.textContent(), { timeout: 10_000 }).toBe('Succeeded');
    expect(await page.getByRole('button', { name: 'Retry' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Stop' }).count()).toBe(0);
    // Live, not reloaded.
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(1);

    await page.goBack();
    await page.waitForURL(`${url}/sessions/new`);
    await page.goBack();
    await page.waitForURL(`${url}/sessions`);
    await page.getByRole('link', { name }).waitFor();

    // Chromium logs every 4xx answer itself; the form's 422 above is the only one expected.
    expect(problems).toEqual([expect.stringMatching(/^console error: Failed to load resource: the server responded with a status of 422 .*\/sessions\)$/)]);
  });
});
