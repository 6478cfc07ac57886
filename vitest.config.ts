import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/utils/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Rig tests build network namespaces and spawn simulators: two cores, two files at once.
    pool: 'forks',
    maxWorkers: 2,
  },
});
