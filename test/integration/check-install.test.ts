// The install's engine check (scripts/check-install.mjs, npm's postinstall): quiet when every
// installed package accepts the Node that runs the scripts, an EBADENGINE line (which fails
// CI, see .ci/run) when one does not, and deprecated packages named. Run on a stand-in project
// whose lock file says what each package wants.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

function standIn(packages: Record<string, { engines?: Record<string, string>; deprecated?: string; installed?: boolean }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'df-install-'));
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, 'node_modules'));
  cpSync(join(root, 'scripts/check-install.mjs'), join(dir, 'scripts/check-install.mjs'));
  symlinkSync(join(root, 'node_modules/semver'), join(dir, 'node_modules/semver'));
  const lock = { name: 'stand-in', version: '1.0.0', lockfileVersion: 3, packages: { '': { name: 'stand-in', engines: { node: '>=24' } } } as Record<string, unknown> };
  for (const [name, p] of Object.entries(packages)) {
    lock.packages[`node_modules/${name}`] = { version: '1.2.3', ...(p.engines ? { engines: p.engines } : {}), ...(p.deprecated ? { deprecated: p.deprecated } : {}) };
    if (p.installed !== false) mkdirSync(join(dir, 'node_modules', name));
  }
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock));
  return dir;
}

async function check(dir: string): Promise<{ stdout: string; stderr: string }> {
  // As npm runs it: npm on the machine's Node, the script on the project's.
  return run(process.execPath, ['scripts/check-install.mjs'], { cwd: dir, env: { ...process.env, npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false' } });
}

describe('the install check', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('says which Node runs and nothing else when every package accepts it', async () => {
    const dir = standIn({ undici: { engines: { node: '>=22.19.0' } }, cookie: {} });
    dirs.push(dir);
    const { stdout, stderr } = await check(dir);
    expect(stderr).toBe('');
    expect(stdout).toBe(
      `Node ${process.version} runs every npm script (npm ran on the machine's v20.20.2; its engine check is redone here): the engines of all 3 packages accept it.\n`,
    );
  });

  it('prints EBADENGINE for a package the running Node or npm does not satisfy, and names deprecated packages', async () => {
    const dir = standIn({
      future: { engines: { node: '>=99' } },
      'old-npm': { engines: { npm: '<7' } },
      left: { deprecated: 'use right instead' },
      // Not on disk (an optional package for another platform): not checked, as npm does.
      'other-platform': { engines: { node: '>=99' }, installed: false },
    });
    dirs.push(dir);
    const { stdout, stderr } = await check(dir);
    expect(stderr.split('\n').filter(Boolean)).toEqual([
      `warn EBADENGINE future@1.2.3 wants {"node":">=99"}, but scripts run on node ${process.version}, npm 11.19.1`,
      `warn EBADENGINE old-npm@1.2.3 wants {"npm":"<7"}, but scripts run on node ${process.version}, npm 11.19.1`,
      'warn deprecated left@1.2.3: use right instead',
    ]);
    expect(stdout).toMatch(/: 3 warning\(s\) above\.\n$/);
  });
});
