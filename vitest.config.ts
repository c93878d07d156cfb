import { configDefaults, defineConfig } from 'vitest/config';

// Kernel, network and Docker tests take seconds, not milliseconds; they run in
// forked workers so that a test's mounts, namespaces and chdir stay its own.
// The VM suites (test/vm/linux-*) keep the CPU busy for minutes (QEMU emulates
// the guest where KVM cannot boot it): they run after everything else, so that
// no other test's deadline pays for them.
const VM_SUITES = ['test/vm/linux-*.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'host', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...VM_SUITES], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'vm', include: VM_SUITES, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
