#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm run build`).
import('../dist/cli/main.js').then((cli) => cli.main(process.argv)).catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli')) {
    console.error('segrefine: dist/ is missing; run `npm run build` first.');
  } else {
    console.error(error instanceof Error ? error.message : error);
  }
  process.exitCode = 1;
});
