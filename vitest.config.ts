import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/utils/global-setup.ts'],
    // picocolors colours output whenever CI is set, even into a pipe: the tests read Airlock's
    // console text, so they ask for it plain (what a technician's terminal shows in colour).
    env: { NO_COLOR: '1' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Rig tests build network namespaces and spawn simulators: two cores, two files at once.
    pool: 'forks',
    maxWorkers: 2,
  },
});
