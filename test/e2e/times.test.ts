// One time format on every page, in a real Chromium set to a zone other than the server's:
// relative text in <time datetime>, the viewer's own local time on hover, kept fresh while
// the page stays open and in fragments the stream swaps in later.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newPage } from '../helpers/browser.js';
import { freshNamespace, waitFor } from '../helpers/cluster.js';
import { startDashboard } from '../helpers/dashboard.js';
import { createPool, createSession, createTemplate, recordEvent, setDevices, setSessionStatus, type TestDevice } from '../helpers/farm.js';

/** India: UTC+5:30, no daylight saving, so the expected local time is plain arithmetic. */
const ZONE = { timezoneId: 'Asia/Kolkata', locale: 'en-GB' };
const OFFSET_MS = 5.5 * 3600_000;
const STARTED = '2026-11-23T10:00:00Z';
const BOOTED = '2026-11-23T09:58:20Z';

/** hh:mm:ss of a UTC instant as the viewer in ZONE reads it. */
const localClock = (iso: string): string => new Date(Date.parse(iso) + OFFSET_MS).toISOString().slice(11, 19);
/** No absolute timestamp printed as text anywhere: they are all relative, absolute on hover. */
const ABSOLUTE = /\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|\d{2}:\d{2}:\d{2}/;

describe('times on the pages', () => {
  let namespace: string;
  let app: FastifyInstance | undefined;
  let browser: Browser | undefined;
  let url: string;

  beforeAll(async () => {
    namespace = await freshNamespace('e2e-times');
    await createTemplate(namespace);
    await createPool(namespace, 'alpha', 2);
    const heartbeat = new Date(Date.now() - 30_000).toISOString();
    await setDevices(namespace, 'alpha', [
      { name: 'alpha-0', state: 'Busy', session: 'run-1', bootStartedAt: BOOTED, readyAt: STARTED, lastHeartbeatTime: heartbeat } as TestDevice,
      { name: 'alpha-1', state: 'Idle' },
    ]);
    await createSession(namespace, 'run-1', { pool: 'alpha' });
    await setSessionStatus(namespace, 'run-1', { phase: 'Running', device: { name: 'alpha-0' }, assignedAt: STARTED, startTime: STARTED, progress: { completed: 1, total: 4 } });
    await recordEvent(namespace, 'alpha.scaled', { kind: 'DevicePool', object: 'alpha', reason: 'Scaled', message: 'scaled to 2 devices', at: new Date(STARTED) });
    app = await startDashboard({ namespaces: [namespace] });
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    await waitFor('the pool, the session and the Event in the store', () => {
      const store = app!.farm.store;
      return store.getSession(namespace, 'run-1')?.phase === 'Running' && store.getPool(namespace, 'alpha')?.devices.length === 2 && store.eventsFor('DevicePool', namespace, 'alpha').length === 1;
    });
  });
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await app?.close();
    }
  });

  /** The <time> in the facts row labelled `label`. */
  const fact = (page: Page, label: string): Locator => page.locator(`dt:text-is("${label}") + dd time`);

  async function expectLocal(time: Locator, iso: string): Promise<void> {
    expect(await time.getAttribute('datetime')).toBe(iso);
    await expect.poll(() => time.getAttribute('title')).toContain(localClock(iso));
    expect(await time.getAttribute('title')).not.toContain('UTC');
  }

  it('shows relative times with the local absolute time on hover on the session page, also in live updates, and keeps them fresh', async () => {
    const { page, problems } = await newPage(browser!, ZONE);
    // A controlled clock that still flows, so "fresh" can be checked without waiting minutes.
    await page.clock.install();
    await page.goto(`${url}/sessions/${namespace}/run-1`);
    await page.locator('[data-session-phase]', { hasText: 'Running' }).waitFor();
    await page.locator('#live-badge[data-state="live"]').waitFor();

    const started = fact(page, 'Started');
    await expectLocal(started, STARTED);
    expect(await started.textContent()).toMatch(/^\d+ d ago$/);
    // The timeline's phase entries use the same format.
    await expectLocal(page.getByRole('region', { name: 'Timeline' }).locator('time').first(), STARTED);

    // A live update swaps the whole detail in from the stream: its new times get local titles
    // at once. The page's clock stands still meanwhile, so no periodic refresh can do it.
    await page.clock.pauseAt(Date.now() + 1000);
    const completed = new Date(Date.now() - 120_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await setSessionStatus(namespace, 'run-1', { phase: 'Succeeded', completionTime: completed, progress: { completed: 4, total: 4 }, results: { passed: 4, failed: 0, skipped: 0 } });
    await page.locator('[data-session-phase]', { hasText: 'Succeeded' }).waitFor({ timeout: 15_000 });
    const done = fact(page, 'Completed');
    await expectLocal(done, completed);
    expect(await done.textContent()).toBe('2 min ago');

    // Time passes with the page open: the text follows without a reload or a new event.
    await page.clock.fastForward('05:00');
    await page.clock.resume();
    await expect.poll(() => done.textContent()).toBe('7 min ago');
    expect(await page.locator('#main').innerText()).not.toMatch(ABSOLUTE);
    expect(problems).toEqual([]);
  });

  it('uses the same format in the sessions list, the device facts and the pool events', async () => {
    const { page, problems } = await newPage(browser!, ZONE);
    await page.goto(`${url}/sessions?namespace=${namespace}`);
    const row = page.locator('tr', { hasText: 'run-1' });
    await row.waitFor();
    const created = row.locator('time');
    expect(await created.getAttribute('datetime')).toBe(new Date(app!.farm.store.getSession(namespace, 'run-1')!.createdAt!).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    expect(await created.textContent()).toMatch(/^(just now|\d+ s ago|\d+ min ago)$/);
    await expect.poll(() => created.getAttribute('title')).not.toContain('UTC');

    await page.goto(`${url}/pools/${namespace}/alpha/devices/alpha-0`);
    await expectLocal(fact(page, 'Boot started'), BOOTED);
    expect(await fact(page, 'Heartbeat').textContent()).toMatch(/^(\d+ s ago|1 min ago)$/);
    expect(await page.locator('#main').innerText()).not.toMatch(ABSOLUTE);

    await page.goto(`${url}/pools/${namespace}/alpha`);
    const event = page.getByRole('region', { name: 'Recent events' }).getByRole('listitem');
    await expectLocal(event.locator('time'), STARTED);
    expect(await event.locator('time').textContent()).toMatch(/^\d+ d ago$/);
    expect(problems).toEqual([]);
  });
});
