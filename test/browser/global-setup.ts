// vitest global setup for browser tests: makes sure Debian's Chromium is installed
// (scripts/provision-browser.sh; playwright's own browser download does not work here)
// and hands its path to the test workers as inject('chromium'). Test files launch it
// with launchBrowser() from test/helpers/browser.ts.
import type { TestProject } from 'vitest/node';
import { runProvisionScript } from '../cluster/provision.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the Chromium binary for playwright-core's executablePath. */
    chromium: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const started = performance.now();
  const chromium = (await runProvisionScript('provision-browser.sh')).get('CHROMIUM');
  project.provide('chromium', chromium);
  console.log(`[browser] ${chromium} ready in ${Math.round(performance.now() - started)} ms`);
}
