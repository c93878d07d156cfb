import { configDefaults, defineConfig } from 'vitest/config';

// Kernel, network and Docker tests take seconds, not milliseconds; they run in
// forked workers so that a test's mounts, namespaces and chdir stay its own.
// Two host test files run at a time: most of a file's time is waiting (a
// container's start, MariaDB's first run, a swarm converging), and the tests
// of one file share nothing with another's (each has its own state root, names
// and ports). On the 2-core CI machine the host tests took ~34 minutes one
// file at a time, and ~25 two at a time with four more minutes of tests.
// The VM suites (test/vm/linux-*) keep the CPU busy for minutes (QEMU emulates
// the guest where KVM cannot boot it): they run after everything else, one at
// a time, so that no other test's deadline pays for them.
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
        test: { name: 'host', maxWorkers: 2, include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...VM_SUITES], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'vm', maxWorkers: 1, include: VM_SUITES, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
