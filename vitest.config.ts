import { defineConfig } from 'vitest/config';

// One run covers unit, integration (real kube-apiserver) and browser tests. The global
// setup provisions and starts the control plane once; each test file uses its own
// namespace, so files run in parallel on the one apiserver.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/cluster/global-setup.ts', 'test/browser/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    // CI also writes a JSON summary (VITEST_JSON) for its closing line.
    reporters: process.env.VITEST_JSON ? ['default', 'json'] : ['default'],
    ...(process.env.VITEST_JSON ? { outputFile: { json: process.env.VITEST_JSON } } : {}),
  },
});
