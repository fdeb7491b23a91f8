// vitest global setup for browser tests: makes sure Debian's Chromium is installed
// (scripts/provision-browser.sh; playwright's own browser download does not work here)
// and hands its path to the test workers as inject('chromium'). Test files launch it
// with launchBrowser() from test/helpers/browser.ts.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the Chromium binary for playwright-core's executablePath. */
    chromium: string;
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs scripts/provision-browser.sh (idempotent; progress on our stderr) and returns its CHROMIUM=... path. */
async function provision(): Promise<string> {
  const script = path.join(root, 'scripts/provision-browser.sh');
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve(out) : reject(new Error(`${script} failed (exit ${code ?? signal}); its messages are above`)),
    );
  });
  const chromium = /^CHROMIUM=(.+)$/m.exec(stdout)?.[1]?.trim();
  if (!chromium) throw new Error(`${script} printed no CHROMIUM=... line; its output was:\n${stdout}`);
  return chromium;
}

export default async function setup(project: TestProject): Promise<void> {
  const started = performance.now();
  const chromium = await provision();
  project.provide('chromium', chromium);
  console.log(`[browser] ${chromium} ready in ${Math.round(performance.now() - started)} ms`);
}
