// Issue 12 point 4 in Chromium: behind the sign-in proxy (its headers, from loopback),
// alice's Delete button is enabled in team-a, where her RBAC allows it, and disabled with
// the reason in team-b, where she may only read; the reason survives a live re-render of
// the session (shared by every viewer, so it carries no person), and the header says who
// she is. At 1440×900 and 390×844.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../helpers/axe.js';
import { launchBrowser, newPage } from '../helpers/browser.js';
import { waitFor } from '../helpers/cluster.js';
import { dashboardContainer, deployedConfig, startDeployedDashboard } from '../helpers/deploy.js';
import { createSession, setSessionStatus } from '../helpers/farm.js';
import { identityFarm, type IdentityFarm } from '../helpers/identity.js';

describe('permission-aware buttons in Chromium', () => {
  let farm: IdentityFarm;
  let app: FastifyInstance | undefined;
  let browser: Browser | undefined;
  let url: string;

  beforeAll(async () => {
    farm = await identityFarm('e2e-who');
    for (const ns of [farm.teamA, farm.teamB]) {
      await createSession(ns, 'ended', { pool: 'alpha' });
      await setSessionStatus(ns, 'ended', { phase: 'Failed', message: 'first run' });
    }
    app = await startDeployedDashboard(deployedConfig(dashboardContainer(farm.objects), farm.sa.path, ['--namespace', farm.teamA, '--namespace', farm.teamB]));
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
    await waitFor('both sessions in the store', () => app!.farm.store.getSession(farm.teamA, 'ended') && app!.farm.store.getSession(farm.teamB, 'ended'), { timeoutMs: 20_000 });
  }, 90_000);
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await app?.close();
    }
  });

  for (const viewport of [{ width: 1440, height: 900 }, { width: 390, height: 844 }]) {
    it(`enables alice's Delete in team-a and disables it with the reason in team-b (${viewport.width}×${viewport.height})`, async () => {
      // The sign-in proxy's headers, as oauth2-proxy sends them over loopback.
      const { page, problems, close } = await newPage(browser!, { viewport, extraHTTPHeaders: { 'X-Forwarded-User': 'alice', 'X-Forwarded-Email': 'alice@example.com' } });
      try {
        await page.goto(`${url}/sessions/${farm.teamA}/ended`);
        const own = page.getByRole('button', { name: 'Delete' });
        await own.waitFor();
        expect(await own.isEnabled()).toBe(true);
        await expect.poll(() => page.locator('[data-identity]').textContent()).toContain('signed in as alice');

        await page.goto(`${url}/sessions/${farm.teamB}/ended`);
        const theirs = page.getByRole('button', { name: 'Delete' });
        await theirs.waitFor();
        expect(await theirs.isDisabled()).toBe(true);
        const reason = `you (alice) cannot delete testsessions in ${farm.teamB}`;
        expect(await page.getByText(reason).isVisible()).toBe(true);
        // The button is described by its reason (what a screen reader reads with it).
        expect(await theirs.getAttribute('aria-describedby')).toBe('why-delete');
        expect(await page.locator('#why-delete').textContent()).toBe(reason);

        // A live update re-renders the session for every viewer; the reason stays.
        await setSessionStatus(farm.teamB, 'ended', { message: `second look ${viewport.width}` });
        await page.getByText(`second look ${viewport.width}`).waitFor();
        expect(await page.getByRole('button', { name: 'Delete' }).isDisabled()).toBe(true);
        expect(await page.locator('#why-delete').textContent()).toBe(reason);
        expect(await page.locator('#why-delete').count()).toBe(1);
        expect(await seriousViolations(page)).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await close();
      }
    });
  }
});
