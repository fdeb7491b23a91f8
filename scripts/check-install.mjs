// postinstall: npm's engine check, redone against the Node that actually runs the project.
//
// npm checks every package's `engines` against the Node that runs npm itself (the machine's,
// often older), while every npm script here runs on Node 24 from the `node` devDependency
// (node_modules/.bin comes first on PATH). npm 11 has no setting to check against another
// Node, so `.npmrc` sets loglevel=error to drop its 25 misleading EBADENGINE lines, and this
// script puts back the warnings that matter, from package-lock.json:
// - a package whose `engines` the running Node or npm does not satisfy (EBADENGINE: a real
//   mismatch; CI fails on it, see .ci/run);
// - a deprecated package that got installed.
// It ends with one line saying which Node runs. Never fails the install: it only reports.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// semver is a devDependency: an install without them (--omit=dev) has nothing to check with.
let semver;
try {
  semver = (await import('semver')).default;
} catch {
  process.stdout.write(`Node ${process.version} runs the npm scripts; engines not rechecked (no devDependencies installed).\n`);
  process.exit(0);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
// "npm/11.19.1 node/v20.20.2 linux x64 workspaces/false"
const agent = process.env.npm_config_user_agent ?? '';
const npmVersion = /\bnpm\/(\S+)/.exec(agent)?.[1];
const npmNode = /\bnode\/(\S+)/.exec(agent)?.[1];

const warnings = [];
let checked = 0;
for (const [location, entry] of Object.entries(lock.packages ?? {})) {
  // Only what is on disk: npm leaves out optional packages that do not fit this machine.
  if (location !== '' && !existsSync(join(root, location))) continue;
  const id = location === '' ? `${lock.name}@${lock.version}` : `${location.replace(/^.*node_modules\//, '')}@${entry.version}`;
  checked++;
  const engines = entry.engines ?? {};
  const opt = { includePrerelease: true };
  const nodeFails = typeof engines.node === 'string' && !semver.satisfies(process.version, engines.node, opt);
  const npmFails = typeof engines.npm === 'string' && npmVersion && !semver.satisfies(npmVersion, engines.npm, opt);
  if (nodeFails || npmFails) {
    warnings.push(`warn EBADENGINE ${id} wants ${JSON.stringify(engines)}, but scripts run on node ${process.version}${npmVersion ? `, npm ${npmVersion}` : ''}`);
  }
  if (entry.deprecated) warnings.push(`warn deprecated ${id}: ${entry.deprecated}`);
}

for (const line of warnings) process.stderr.write(`${line}\n`);
// node_modules/.bin/node (the `node` package) resolves into node_modules.
const runner = process.execPath.startsWith(join(root, 'node_modules')) ? ' from the "node" devDependency' : '';
const machine = npmNode && npmNode !== process.version ? ` (npm ran on the machine's ${npmNode}; its engine check is redone here)` : '';
process.stdout.write(`Node ${process.version}${runner} runs every npm script${machine}: ${warnings.length ? `${warnings.length} warning(s) above` : `the engines of all ${checked} packages accept it`}.\n`);
