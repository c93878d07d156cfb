import { defineConfig } from 'vitest/config';

// Kernel, network and Docker tests take seconds, not milliseconds; they run in
// forked workers so that a test's mounts, namespaces and chdir stay its own.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
  },
});
