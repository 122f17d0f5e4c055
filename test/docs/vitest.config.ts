// `npm run test:docs`: runs every TypeScript block of the docs and the README
// (test/docs/snippets.docs-test.ts, a few minutes, so not part of `npm test`)
// and the docs' own tests (test/docs/*.test.ts, which `npm test` runs too).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config.js';

export default defineConfig({
  ...base,
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    ...base.test,
    include: ['test/docs/**/*.docs-test.ts', 'test/docs/**/*.test.ts'],
    testTimeout: 300_000,
    // Snippets run as child processes; two at a time on a 2-core machine.
    maxConcurrency: 2,
  },
});
