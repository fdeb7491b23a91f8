// `npm run screenshots` makes the README's pictures from the embedded demo. Run here into a
// temporary folder, so CI proves the script works and the pictures have the sizes the README
// promises. (npm run screenshots first rebuilds the CSS, which the test run has already built:
// this runs the script itself, so it never rewrites public/app.css under other tests.)
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { pngSize } from '../helpers/png.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

describe('npm run screenshots', () => {
  const out = mkdtempSync(join(tmpdir(), 'df-screenshots-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('writes the farm page (desktop and phone) and a pool page from the live demo', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/screenshots.ts', '--out', out], { cwd: root, timeout: 150_000 });
    expect(stdout).toMatch(/embedded demo at http:\/\/127\.0\.0\.1:\d+/);
    expect(pngSize(readFileSync(join(out, 'screenshot-farm.png')))).toEqual({ width: 1440, height: 900 });
    expect(pngSize(readFileSync(join(out, 'screenshot-farm-phone.png')))).toEqual({ width: 390, height: 844 });
    expect(pngSize(readFileSync(join(out, 'screenshot-pool.png')))).toEqual({ width: 1440, height: 900 });
    expect(pngSize(readFileSync(join(out, 'screenshot-insights.png')))).toEqual({ width: 1440, height: 900 });
  }, 180_000);
});
