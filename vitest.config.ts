import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Examples and docs snippets import 'segrefine' as users do; tests run them against src/.
  resolve: {
    alias: [
      { find: /^segrefine\/testing$/, replacement: fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)) },
      { find: /^segrefine\/node$/, replacement: fileURLToPath(new URL('./src/node/index.ts', import.meta.url)) },
      { find: /^segrefine\/bench$/, replacement: fileURLToPath(new URL('./src/bench/index.ts', import.meta.url)) },
      { find: /^segrefine$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
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
