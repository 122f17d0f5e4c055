import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // tfjs's test utilities break with vitest globals.
    globals: false,
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tfjs backends are process-global; isolate files in forks.
    pool: 'forks',
  },
});
