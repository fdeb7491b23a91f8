// The operator's hands on the farm in a real Chromium, at desktop and phone widths, against
// the real apiserver (kwok runs the device pods): the YAML tab opens and copies; the pool's
// Replicas field steps with − / +, scales, asks before taking devices from running sessions
// and follows the watch; Restart asks with the session it ends and deletes the pod.
import type { AddressInfo } from 'node:net';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { launchBrowser, newPage, type TestPage } from '../helpers/browser.js';
import { adminKubeConfig, clusterInfo, freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { api, createPool, createSession, createTemplate, setDevices, setSessionStatus } from '../helpers/farm.js';

const WIDTHS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const POOLS = { group: 'droidfarm.io', version: 'v1alpha1', plural: 'devicepools' };
const core = () => adminKubeConfig().makeApiClient(CoreV1Api);

describe('hands on the farm in Chromium', () => {
  let namespace: string;
  let app: FastifyInstance;
  let browser: Browser | undefined;
  let base: string;
  const open: TestPage[] = [];

  const replicasOf = async (pool: string) => ((await api().getNamespacedCustomObject({ ...POOLS, namespace, name: pool })) as { spec: { replicas: number } }).spec.replicas;
  const podAlive = async (name: string) => {
    try {
      return !(await core().readNamespacedPod({ namespace, name })).metadata?.deletionTimestamp;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return false;
      throw err;
    }
  };

  beforeAll(async () => {
    namespace = await freshNamespace('e2e-hands');
    await createTemplate(namespace);
    for (const { name } of WIDTHS) {
      const pool = `p-${name}`;
      await createPool(namespace, pool, 2);
      await setDevices(namespace, pool, [
        { name: `${pool}-0`, state: 'Idle', podName: `${pool}-0` },
        { name: `${pool}-1`, state: 'Busy', podName: `${pool}-1`, session: `manual-${name}` },
      ]);
      for (const i of [0, 1]) {
        await core().createNamespacedPod({ namespace, body: { metadata: { name: `${pool}-${i}` }, spec: { nodeName: clusterInfo().kwokNode, containers: [{ name: 'device', image: 'example.invalid/cuttlefish:1' }] } } });
      }
    }
    // Pools for the leases: one idle device per width.
    for (const { name } of WIDTHS) {
      await createPool(namespace, `l-${name}`, 1);
      await setDevices(namespace, `l-${name}`, [{ name: `l-${name}-0`, state: 'Idle', podName: `l-${name}-0` }]);
    }
    // Sessions for the bulk actions: three running and one finished per width.
    for (const { name } of WIDTHS) {
      for (const i of [0, 1, 2, 3]) {
        await createSession(namespace, `bulk-${name}-${i}`, { pool: `p-${name}`, labels: { width: name } });
        await setSessionStatus(namespace, `bulk-${name}-${i}`, { phase: i === 3 ? 'Succeeded' : 'Running', progress: { completed: 1, total: 10 } });
      }
    }
    app = await startDashboard({ namespaces: [namespace] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    await waitFor('the dashboard synced', () => app.farm.store.syncStatus().synced && WIDTHS.every((w) => app.farm.store.getPool(namespace, `p-${w.name}`)?.devices.length === 2));
  });
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await app?.close();
    }
  });

  async function openLive(path: string, viewport: { width: number; height: number }): Promise<TestPage> {
    const t = await newPage(browser!, { viewport });
    open.push(t);
    await t.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await t.context.addInitScript(() => {
      const g = globalThis as unknown as { __dfSse: number; document: { addEventListener(t: string, f: () => void): void } };
      g.__dfSse = 0;
      g.document.addEventListener('htmx:sseMessage', () => g.__dfSse++);
    });
    expect((await t.page.goto(base + path))?.status(), path).toBe(200);
    await t.page.waitForFunction(() => (globalThis as unknown as { __dfSse: number }).__dfSse >= 1);
    return t;
  }
  const readClipboard = (page: Page): Promise<string> => page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText());
  async function expectFits(page: Page): Promise<void> {
    const { scroll, inner } = await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return { scroll: d.scrollWidth, inner: d.clientWidth };
    });
    expect(scroll, 'the page is wider than the screen').toBeLessThanOrEqual(inner);
    expect(await seriousViolations(page)).toEqual([]);
  }

  for (const viewport of WIDTHS) {
    describe(`at ${viewport.width}×${viewport.height}`, () => {
      const pool = `p-${viewport.name}`;

      it('the YAML tab shows the pool as the apiserver holds it, and Copy copies it', async () => {
        const { page, problems } = await openLive(`/pools/${namespace}/${pool}`, viewport);
        await page.locator('#yaml-tab summary').click();
        const yaml = page.locator('#object-yaml');
        await expect.poll(() => yaml.textContent()).toContain('kind: "DevicePool"');
        expect(await yaml.textContent()).not.toContain('managedFields');
        await page.getByRole('button', { name: 'Copy YAML' }).click();
        await page.getByRole('button', { name: 'Copy YAML' }).filter({ hasText: 'Copied' }).waitFor();
        // The button says Copied for a moment (its name still says Copy); axe runs once it is back.
        await page.getByRole('button', { name: 'Copy YAML' }).filter({ hasText: /^Copy$/ }).waitFor();
        await expect.poll(() => readClipboard(page)).toContain(`name: "${pool}"`);
        await expectFits(page);
        expect(problems).toEqual([]);
      });

      it('scales with − / +, follows the watch, and asks before taking a running session’s device', async () => {
        const { page, problems } = await openLive(`/pools/${namespace}/${pool}`, viewport);
        const field = page.getByLabel('Replicas', { exact: true });
        expect(await field.inputValue()).toBe('2');
        await page.getByRole('button', { name: 'One device more' }).click();
        await page.getByRole('button', { name: 'One device more' }).click();
        expect(await field.inputValue()).toBe('4');
        await page.getByRole('button', { name: 'Scale', exact: true }).click();
        await expect.poll(() => page.locator('#pool-scale-answer').textContent()).toContain(`Scaling ${pool} from 2 to 4 devices`);
        expect(await replicasOf(pool)).toBe(4);
        // The header comes back through the watch with the new size.
        await page.locator(`.pool-header[data-replicas="4"]`).waitFor();

        // Below the busy device: the answer names its session, and nothing changes until confirmed.
        await field.fill('1');
        await page.getByRole('button', { name: 'Scale', exact: true }).click();
        const question = page.locator('[data-scale-confirm]');
        await question.waitFor();
        expect(await question.textContent()).toContain(`manual-${viewport.name}`);
        expect(await replicasOf(pool)).toBe(4);
        await expectFits(page);
        await page.getByRole('button', { name: 'Scale to 1 anyway' }).click();
        await expect.poll(() => page.locator('#pool-scale-answer').textContent()).toContain(`from 4 to 1 devices`);
        expect(await replicasOf(pool)).toBe(1);
        await page.locator(`.pool-header[data-replicas="1"]`).waitFor();
        expect(await field.inputValue()).toBe('1');
        // − never goes below the CRD's minimum.
        await page.getByRole('button', { name: 'One device less' }).click();
        await page.getByRole('button', { name: 'One device less' }).click();
        expect(await field.inputValue()).toBe('0');
        expect(problems).toEqual([]);
      });

      it('bulk Stop: checked rows keep their check through live updates, the question names them, each is reported', async () => {
        const { page, problems } = await openLive(`/sessions?labelSelector=width%3D${viewport.name}&limit=3`, viewport);
        const box = (i: number) => page.getByRole('checkbox', { name: `Select bulk-${viewport.name}-${i}` });
        await box(2).waitFor();
        const stop = page.locator('[data-bulk-action="cancel"]');
        expect(await stop.isDisabled()).toBe(true);
        await box(2).check();
        await box(3).check();
        await expect.poll(() => page.locator('#sessions-selected').textContent()).toBe('2 sessions selected.');
        // A live update of a checked row changes its cells, not its check.
        const before = await page.evaluate(() => (globalThis as unknown as { __dfSse: number }).__dfSse);
        await setSessionStatus(namespace, `bulk-${viewport.name}-2`, { progress: { completed: 7, total: 10 } });
        await page.waitForFunction((n) => (globalThis as unknown as { __dfSse: number }).__dfSse > n, before);
        await expect.poll(() => page.locator(`tr:has([value$="/bulk-${viewport.name}-2"])`).textContent()).toContain('7/10');
        expect(await box(2).isChecked()).toBe(true);
        expect(await box(3).isChecked()).toBe(true);
        await expectFits(page);

        const dialogs: string[] = [];
        page.once('dialog', (d) => {
          dialogs.push(d.message());
          void d.accept();
        });
        await stop.click();
        await expect.poll(() => dialogs.length).toBe(1);
        expect(dialogs[0]).toBe(`Stop 2 sessions? bulk-${viewport.name}-3, bulk-${viewport.name}-2. Each is reported on its own.`);
        const report = page.locator('[data-batch-report]');
        await report.waitFor();
        expect(await report.getAttribute('data-done')).toBe('1');
        expect(await report.getAttribute('data-refused')).toBe('1');
        expect(await report.textContent()).toContain(`TestSession bulk-${viewport.name}-3 already ended (Succeeded): there is nothing to stop.`);
        await waitFor('the stop to come back through the watch', () => app.farm.store.getSession(namespace, `bulk-${viewport.name}-2`)?.spec.cancelRequested);
        expect(await box(2).isChecked()).toBe(false);

        // The whole page, then all that match the filter (4, over a page of 3).
        if (viewport.name === 'desktop') {
          await page.getByRole('checkbox', { name: 'Select every session on this page' }).check();
        } else {
          for (const i of [1, 2, 3]) await box(i).check();
        }
        await page.getByRole('checkbox', { name: /all 4 matching this filter/ }).check();
        await expect.poll(() => page.locator('#sessions-selected').textContent()).toBe('All 4 sessions matching this filter selected.');
        page.once('dialog', (d) => {
          dialogs.push(d.message());
          void d.accept();
        });
        await stop.click();
        await expect.poll(() => dialogs.length).toBe(2);
        expect(dialogs[1]).toMatch(new RegExp(`^Stop all 4 sessions matching this filter\\? bulk-${viewport.name}-3, bulk-${viewport.name}-2, bulk-${viewport.name}-1 and 1 more\\.`));
        // -2 was asked to stop already (Stop repeats harmlessly); -3 had ended.
        await expect.poll(() => report.getAttribute('data-done')).toBe('3');
        expect(await report.getAttribute('data-refused')).toBe('1');
        expect(problems).toEqual([]);
      });

      it('Use this device makes a lease; the page shows who, why and when it ends; Extend; Release asks first', async () => {
        const pool = `l-${viewport.name}`;
        const device = `${pool}-0`;
        const { page, problems } = await openLive(`/pools/${namespace}/${pool}/devices/${device}`, viewport);
        expect(await page.locator('#lease-release').isVisible()).toBe(false);
        const form = page.locator('#device-lease');
        await form.getByLabel('For').selectOption('60');
        await form.getByLabel('Who').fill('ana');
        await form.getByLabel('Why').fill('reproduce the checkout crash');
        await form.getByRole('button', { name: 'Use this device' }).click();
        await expect.poll(() => page.locator('#device-lease-answer').textContent()).toMatch(new RegExp(`Lease ${device}-lease-\\w+ for device ${device}`));
        const leases = ((await api().listNamespacedCustomObject({ group: 'droidfarm.io', version: 'v1alpha1', plural: 'testsessions', namespace })) as { items: Array<{ metadata: { name: string }; spec: Record<string, unknown> }> }).items.filter((x) => x.spec.deviceName === device);
        expect(leases).toHaveLength(1);
        const lease = leases[0]!;
        expect(lease.spec).toMatchObject({ timeoutSeconds: 3600, poolRef: { name: pool } });

        // The operator assigns it: the page shows the lease live, with Extend and Release.
        await setSessionStatus(namespace, lease.metadata.name, { phase: 'Running', assignedAt: new Date().toISOString(), device: { name: device } });
        await setDevices(namespace, pool, [{ name: device, state: 'Busy', podName: device, session: lease.metadata.name }]);
        const panel = page.locator('[data-lease-panel]');
        await panel.waitFor();
        expect(await panel.textContent()).toContain('Leased by ana');
        expect(await panel.textContent()).toContain('reproduce the checkout crash');
        expect(await panel.locator('time').textContent()).toMatch(/^in (59|60) min$/);
        await page.locator('#lease-release').waitFor();
        await expectFits(page);

        await page.getByRole('button', { name: 'Extend 30 min' }).click();
        await expect.poll(() => page.locator('#flash').textContent()).toContain(`Lease ${lease.metadata.name} extended: it now lasts 90 minutes`);
        const dialogs: string[] = [];
        page.once('dialog', (d) => {
          dialogs.push(d.message());
          void d.accept();
        });
        await page.getByRole('button', { name: 'Release' }).click();
        await expect.poll(() => page.locator('#flash').textContent()).toContain(`Release requested for ${lease.metadata.name}`);
        expect(dialogs).toEqual([`Release device ${device}? Lease ${lease.metadata.name} held by ana ends (Stop), and the device goes back to the pool.`]);
        const stored = (await api().getNamespacedCustomObject({ group: 'droidfarm.io', version: 'v1alpha1', plural: 'testsessions', namespace, name: lease.metadata.name })) as { spec: { timeoutSeconds: number; cancelRequested: boolean } };
        expect(stored.spec).toMatchObject({ timeoutSeconds: 5400, cancelRequested: true });

        // The grid marks the leased device with its holder.
        await page.goto(`${base}/pools/${namespace}/${pool}`);
        expect(await page.locator('.tile-lease').textContent()).toBe('lease · ana');
        await expectFits(page);
        expect(problems).toEqual([]);
      });

      it('Restart asks with the session it ends, then deletes the device’s pod', async () => {
        const { page, problems } = await openLive(`/pools/${namespace}/${pool}/devices/${pool}-1`, viewport);
        const dialogs: string[] = [];
        page.once('dialog', (d) => {
          dialogs.push(d.message());
          void d.dismiss();
        });
        await page.getByRole('button', { name: 'Restart' }).click();
        await expect.poll(() => dialogs.length).toBe(1);
        expect(dialogs[0]).toBe(`Restart device ${pool}-1? Its pod ${pool}-1 is deleted and the pool recreates it. Session manual-${viewport.name} on it ends.`);
        expect(await podAlive(`${pool}-1`)).toBe(true);
        page.once('dialog', (d) => void d.accept());
        await page.getByRole('button', { name: 'Restart' }).click();
        await expect.poll(() => page.locator('#flash').textContent()).toContain(`Restarting ${pool}-1: its pod ${pool}-1 was deleted`);
        expect(await podAlive(`${pool}-1`)).toBe(false);
        expect(await podAlive(`${pool}-0`)).toBe(true);
        await expectFits(page);
        expect(problems).toEqual([]);
      });
    });
  }
});
