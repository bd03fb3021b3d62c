import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    restoreMocks: true,
    // Sandbox and store tests mount, unshare and fork; two cores do not gain from more workers.
    maxWorkers: 2,
  },
});
