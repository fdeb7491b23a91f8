import { configDefaults, defineConfig } from 'vitest/config';

// One run covers unit, integration (real kube-apiserver) and browser tests, in two projects
// with a control plane each:
// - "main": every file except test/disruptive/; files run in parallel on one apiserver,
//   each in its own namespace, and none of them stops, restarts or compacts it.
// - "disruptive": tests that restart the apiserver or compact etcd on purpose. They get a
//   control plane of their own, run one file at a time, and only after "main" has finished
//   (groupOrder), so a restart never hits a file that does not expect it.
// A global setup runs only for a project that has files to run: `vitest run test/unit`
// starts no control plane for "disruptive". The root config has no global setup of its own,
// because vitest always runs the root's.
// The group orders start at 1, not 0: vitest moves a project that has the default order 0
// and one worker (the default on a two-core machine: cores - 1) into a trailing group of
// its own, which would run "main" after "disruptive".
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    // CI also writes a JSON summary (VITEST_JSON) for its closing line: one file for all projects.
    reporters: process.env.VITEST_JSON ? ['default', 'json'] : ['default'],
    ...(process.env.VITEST_JSON ? { outputFile: { json: process.env.VITEST_JSON } } : {}),
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/disruptive/**'],
          globalSetup: ['test/cluster/global-setup.ts', 'test/browser/global-setup.ts'],
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'disruptive',
          include: ['test/disruptive/**/*.test.ts'],
          // Chromium too: the honest-connection test watches the badge through restarts.
          globalSetup: ['test/cluster/global-setup.ts', 'test/browser/global-setup.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
