// The new-session form and the session page's actions in a real Chromium, against the real
// apiserver: every answer that is not a 422 is said beside the submit button (a user whose
// RBAC may not create sessions, a name already taken, a proxy's 503, no answer at all);
// after a 422 the focus is on an error summary that links to each field; the terminal
// preview is never stale after fast edits; Stop asks first; Delete lands on a flash.
import type { AddressInfo } from 'node:net';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage } from '../helpers/browser.js';
import { adminKubeConfig, freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { api, createPool, createSession, createTemplate, devices, setDevices, setSessionStatus } from '../helpers/farm.js';

const GROUP = { group: 'droidfarm.io', version: 'v1alpha1', plural: 'testsessions' };

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe('the new-session form and session actions in Chromium', () => {
  let namespace: string;
  let app: FastifyInstance | undefined;
  let reader: FastifyInstance | undefined;
  let browser: Browser | undefined;
  let url: string;
  let readerUrl: string;

  beforeAll(async () => {
    namespace = await freshNamespace('e2e-form');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 2);
    await setDevices(namespace, 'alpha', devices('alpha', 2));
    // alice may read everything the dashboard shows, and create nothing.
    const rbac = adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'reader' },
        rules: [
          { apiGroups: ['droidfarm.io'], resources: ['devicetemplates', 'devicepools', 'testsessions'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['get', 'list', 'watch'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({ namespace, body: { metadata: { name: 'alice-reads' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' }, subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }] } });
    [app, reader] = await Promise.all([startDashboard({ namespaces: [namespace] }), startDashboard({ namespaces: [namespace], user: 'alice' })]);
    [url, readerUrl] = await Promise.all([listen(app), listen(reader)]);
    browser = await launchBrowser();
    await waitFor('both dashboards to sync and read the pool', () => [app!, reader!].every((a) => a.farm.store.syncStatus().synced && a.farm.store.getPool(namespace, 'alpha')?.devices.length === 2));
  });
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await Promise.all([app?.close(), reader?.close()]);
    }
  });

  /** What the page's clipboard holds (the context is granted clipboard-read). */
  const readClipboard = (page: Page): Promise<string> => page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText());

  /** The form's answer line, beside its submit button. */
  const answer = (page: Page) => page.locator('#session-form-answer');

  it('says a 403 beside the submit button when the user may not create sessions', async () => {
    const { page, problems } = await newPage(browser!);
    await page.goto(`${readerUrl}/sessions/new`);
    await page.getByLabel('Pool').selectOption('alpha');
    await page.getByLabel(/^Labels/).fill('team=payments');
    await page.getByRole('button', { name: 'Start session' }).click();
    await expect.poll(() => answer(page).textContent()).toMatch(/^Not allowed to create TestSession .*RBAC.*\(DF_ERR_KUBE_FORBIDDEN\)$/s);
    // Said in one place, next to the button; the form keeps what was typed.
    expect(await page.locator('#flash').textContent()).toBe('');
    expect(await page.getByLabel(/^Labels/).inputValue()).toBe('team=payments');
    expect(await page.getByRole('alert').filter({ hasText: 'Not allowed to create' }).count()).toBe(1);
    expect(problems).toEqual([expect.stringMatching(/status of 403 .*\/sessions\)$/)]);
  });

  it('says a 409, a proxy’s 503 and a lost connection beside the submit button', async () => {
    await createSession(namespace, 'taken', { pool: 'alpha' });
    const { page, problems } = await newPage(browser!);
    await page.goto(`${url}/sessions/new`);
    await page.getByLabel('Pool').selectOption('alpha');
    await page.getByRole('textbox', { name: /^Name/ }).fill('taken');
    const submit = page.getByRole('button', { name: 'Start session' });
    await submit.click();
    await expect.poll(() => answer(page).textContent()).toBe(`A TestSession named taken already exists in ${namespace}: choose another name, or leave Name empty to have one made up. (DF_ERR_ALREADY_EXISTS)`);

    // A proxy in front of the dashboard answering 503 with a page of its own.
    await page.route('**/sessions', (route) => route.fulfill({ status: 503, contentType: 'text/html', body: '<h1>upstream unavailable</h1>' }));
    await submit.click();
    await expect.poll(() => answer(page).textContent()).toMatch(/^The dashboard answered HTTP 503.*Submitting again is safe/);
    await page.unroute('**/sessions');
    // No answer at all: the connection drops.
    await page.route('**/sessions', (route) => route.abort('connectionreset'));
    await submit.click();
    await expect.poll(() => answer(page).textContent()).toMatch(/^No answer from the dashboard/);
    await page.unroute('**/sessions');
    // The next submission clears the line; a 422 replaces the form instead.
    await page.getByLabel(/^Apps to install/).fill('com.example.shop http://insecure.example.com/shop.apk');
    await page.getByRole('textbox', { name: /^Name/ }).fill('');
    await submit.click();
    await page.locator('#session-form-errors').waitFor();
    expect(await answer(page).textContent()).toBe('');
    // A form too long to preview in a URL: the preview says so and offers nothing stale to copy.
    const copyYaml = page.getByRole('button', { name: 'Copy kubectl YAML' });
    await page.getByLabel(/^Apps to install/).fill('com.example.shop https://artifacts.example.com/shop.apk');
    await expect.poll(() => copyYaml.isEnabled(), { timeout: 5_000 }).toBe(true);
    await page.getByLabel(/^Labels/).fill(`note=${'y'.repeat(20_000)}`);
    // Node answers 431 and closes the connection; a browser may see either.
    await page.locator('[data-preview-problem]').getByText(/^The preview could not be updated \((HTTP 431|no answer)\)/).waitFor();
    expect(await copyYaml.isDisabled()).toBe(true);
    // Chromium logs each failed load itself, and htmx a request that got no answer; nothing else.
    expect(problems.filter((p) => !/status of (409|503|422|431) |ERR_CONNECTION_RESET|console error: htmx:(afterRequest|sendError), /.test(p))).toEqual([]);
    expect(problems.filter((p) => /status of 503 /.test(p))).toHaveLength(1);
  });

  it('moves the focus to an error summary after a 422, whose links lead to each field', async () => {
    const { page } = await newPage(browser!);
    await page.goto(`${url}/sessions/new`);
    await page.getByLabel('Pool').selectOption('alpha');
    await page.getByLabel(/^Timeout/).fill('0');
    await page.getByLabel(/^Apps to install/).fill('com.example.shop http://insecure.example.com/shop.apk');
    await page.getByRole('button', { name: 'Start session' }).click();
    await page.locator('#session-form-errors').waitFor();
    await expect.poll(() => page.locator('#session-form-errors:focus').count()).toBe(1);
    const links = page.locator('#session-form-errors a');
    expect(await links.allTextContents()).toEqual([expect.stringMatching(/^Timeout: /), 'Apps to install: line 1: APK URL must be an https:// URL']);
    await links.nth(1).click();
    await expect.poll(() => page.locator('#session-form [name="apps"]:focus').count()).toBe(1);
  });

  it('copies the preview of what the form shows after fast programmatic edits, and not before it is updated', async () => {
    const { page, context, problems } = await newPage(browser!);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
    await page.goto(`${url}/sessions/new`);
    await page.getByLabel('Pool').selectOption('alpha');
    const copyYaml = page.getByRole('button', { name: 'Copy kubectl YAML' });
    await copyYaml.waitFor();
    for (let run = 1; run <= 5; run++) {
      // Paste and autofill: several fields set within one task, with their input events.
      await page.evaluate((n) => {
        const dom = globalThis as unknown as { document: { querySelector(s: string): { value: string; dispatchEvent(e: unknown): boolean } }; Event: new (type: string, init: object) => unknown };
        const set = (name: string, value: string) => {
          const el = dom.document.querySelector(`#session-form [name="${name}"]`);
          el.value = value;
          el.dispatchEvent(new dom.Event('input', { bubbles: true }));
        };
        set('name', `fast-${n}`);
        set('timeoutMinutes', String(10 + n));
        set('labels', `team=payments\nrun=r${n}`);
        set('apps', `com.example.app${n} https://artifacts.example.com/app${n}.apk`);
      }, run);
      expect(await copyYaml.isDisabled(), `run ${run}: Copy while the preview updates`).toBe(true);
      await expect.poll(() => copyYaml.isEnabled(), { timeout: 5_000 }).toBe(true);
      await copyYaml.click();
      await expect.poll(() => copyYaml.textContent()).toBe('Copied');
      const copied = await readClipboard(page);
      expect(copied, `run ${run}`).toBe(await page.locator('#preview-yaml').textContent());
      for (const shown of [`name: "fast-${run}"`, `run: "r${run}"`, 'team: "payments"', `timeoutSeconds: ${(10 + run) * 60}`, `packageName: "com.example.app${run}"`]) expect(copied, `run ${run}`).toContain(shown);
    }

    // A slow network: an edit arrives while the preview of the one before is on its way.
    // The older answer must never be the one left on the page (nor copied).
    await page.route('**/sessions/new/preview?*', async (route) => {
      await new Promise((r) => setTimeout(r, 700));
      await route.continue().catch(() => {}); // an aborted request (hx-sync) has nothing to continue
    });
    const labels = page.getByLabel(/^Labels/);
    const first = page.waitForRequest((r) => r.url().includes('/sessions/new/preview') && r.url().includes('slow-1'));
    await labels.fill('team=slow-1');
    await first;
    await labels.fill('team=slow-2');
    expect(await copyYaml.isDisabled()).toBe(true);
    await expect.poll(() => copyYaml.isEnabled(), { timeout: 5_000 }).toBe(true);
    expect(await page.locator('#preview-yaml').textContent()).toContain('team: "slow-2"');
    await copyYaml.click();
    // The copy is a promise the click only starts.
    await expect.poll(() => readClipboard(page)).toContain('team: "slow-2"');
    expect(problems).toEqual([]);
  });

  it('asks before Stop, ends Delete on a flash naming what was deleted, and links a retry to what it retries', async () => {
    await createSession(namespace, 'to-stop', { pool: 'alpha' });
    await setSessionStatus(namespace, 'to-stop', { phase: 'Running', device: { name: 'alpha-0', appiumURL: 'https://appium.example.com/wd/hub/alpha-0' }, podName: 'to-stop-runner' });
    await waitFor('the store to see it running', () => app!.farm.store.getSession(namespace, 'to-stop')?.phase === 'Running');
    const { page, problems } = await newPage(browser!);
    const dialogs: string[] = [];
    let acceptDialogs = false;
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void (acceptDialogs ? d.accept() : d.dismiss());
    });
    await page.goto(`${url}/sessions/${namespace}/to-stop`);
    // Copy buttons beside the name, the pod and the Appium URL, named by what they copy.
    for (const name of ['Copy session name', 'Copy runner pod name', 'Copy Appium URL']) expect(await page.getByRole('button', { name }).count(), name).toBe(1);
    const stop = page.getByRole('button', { name: 'Stop', exact: true });
    await stop.click();
    expect(dialogs).toEqual([expect.stringMatching(/^Stop TestSession to-stop\?/)]);
    const get = async (name: string) => (await api().getNamespacedCustomObject({ ...GROUP, namespace, name })) as { spec: { cancelRequested?: boolean } };
    expect((await get('to-stop')).spec.cancelRequested).toBe(false);
    acceptDialogs = true;
    await stop.click();
    await page.locator('#flash').getByText('Stop requested for to-stop').waitFor();
    expect((await get('to-stop')).spec.cancelRequested).toBe(true);

    await setSessionStatus(namespace, 'to-stop', { phase: 'Cancelled', reason: 'CancelRequested', completionTime: '2026-12-02T10:00:00Z' });
    await page.getByRole('button', { name: 'Retry', exact: true }).click();
    await page.waitForURL(new RegExp(`/sessions/${namespace}/to-stop-retry-[a-z0-9]+$`));
    await page.getByText('retry of').getByRole('link', { name: 'to-stop' }).click();
    await page.waitForURL(`${url}/sessions/${namespace}/to-stop`);

    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.waitForURL(`${url}/sessions`);
    expect(dialogs.at(-1)).toMatch(/^Delete TestSession to-stop\?/);
    await page.locator('#flash').getByText(`Deleted TestSession to-stop from ${namespace}.`).waitFor();
    // Once: a reload no longer says it.
    await page.reload();
    expect(await page.locator('#flash').textContent()).toBe('');
    expect(problems).toEqual([]);
  });
});
