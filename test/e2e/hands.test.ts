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
import { api, createPool, createTemplate, setDevices } from '../helpers/farm.js';

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
