import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Native addons (better-sqlite3, zeromq) are happiest in child processes, not worker threads.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Multi-process tests spawn their own children; two cores are shared with them.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
