// Headless Chromium for browser tests: Debian's chromium (path from inject('chromium'), see
// test/browser/global-setup.ts) driven by playwright-core. Playwright's own browser
// download does not work here, so executablePath is always given.
//
//   let browser: Browser;
//   beforeAll(async () => { browser = await launchBrowser(); });
//   afterAll(async () => { await browser?.close(); });   // runs even when a test failed
//   it('...', async () => {
//     const { page, problems } = await newPage(browser);
//     await page.goto(url);
//     ...
//     expect(problems).toEqual([]);
//   });
//
// A browser left open anyway (a crashed worker) dies with its worker process: playwright
// kills the browsers it launched when the process exits.
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { inject } from 'vitest';
import { launchChromium } from './chromium.js';

export { CHROMIUM_ARGS } from './chromium.js';

/** The Chromium binary provided by the global setup. */
export function chromiumPath(): string {
  const path = inject('chromium');
  if (!path) {
    throw new Error("no 'chromium' provided: run the tests with vitest.config.ts (globalSetup test/browser/global-setup.ts)");
  }
  return path;
}

/** Launches headless Chromium. The caller closes it (afterAll), also when tests fail. */
export async function launchBrowser(): Promise<Browser> {
  return launchChromium(chromiumPath());
}

export interface TestPage {
  page: Page;
  context: BrowserContext;
  /**
   * What went wrong in the page, in order: console errors, uncaught exceptions and crashes.
   * Console errors include what Chromium logs itself: CSP violations (Chromium 156 words
   * them "Executing inline script violates the following Content Security Policy
   * directive ...", "Loading the image '...' violates ..."; older versions said "Refused to
   * ...") and failed subresource loads ("Failed to load resource: ... 404"). A test
   * asserts it is empty at the end.
   */
  problems: string[];
  /** Closes the page's own context (closing the browser closes it too). */
  close(): Promise<void>;
}

/**
 * Opens a page in a new, empty browser context (no cookies or storage shared with other
 * pages) and records every problem it reports.
 */
export async function newPage(browser: Browser, options: BrowserContextOptions = {}): Promise<TestPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const problems: string[] = [];
  let page: Page;
  try {
    page = await context.newPage();
  } catch (err) {
    await context.close();
    throw err;
  }
  // Fail a wait with playwright's own message (which locator, what state) before vitest's
  // 30 s test timeout cuts it short without one.
  page.setDefaultTimeout(10_000);
  page.setDefaultNavigationTimeout(15_000);
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const { url, lineNumber } = msg.location();
    problems.push(`console error: ${msg.text()}${url ? ` (${url}${lineNumber ? `:${lineNumber}` : ''})` : ''}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.stack ?? err.message}`));
  page.on('crash', () => problems.push('page crashed'));
  return { page, context, problems, close: () => context.close() };
}

/**
 * Marks the page's current document, to prove later that no reload or navigation happened:
 * a reload or a new page gets a new window object, which has no mark. Same-document changes
 * (htmx swaps, pushState) keep it.
 *
 *   const sameDocument = await markDocument(page);
 *   ...
 *   expect(await sameDocument()).toBe(true);
 */
export async function markDocument(page: Page): Promise<() => Promise<boolean>> {
  const mark = `df-${Math.random().toString(36).slice(2)}`;
  await page.evaluate((m) => {
    (globalThis as { __dfDocumentMark?: string }).__dfDocumentMark = m;
  }, mark);
  return async () => (await page.evaluate(() => (globalThis as { __dfDocumentMark?: string }).__dfDocumentMark)) === mark;
}

/**
 * Records every dialog (alert, confirm, prompt, beforeunload) the page opens, as
 * "<type>: <message>", and dismisses it so the page does not hang. For tests that prove
 * cluster data cannot run script (`onerror=alert(1)`): assert the list is empty.
 */
export function recordDialogs(page: Page): string[] {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  return dialogs;
}
