#!/usr/bin/env node
/**
 * Builds the playground page into docs-site/playground/ (`npm run docs` runs
 * it after typedoc, which empties docs-site/ first):
 *
 * 1. type-checks docs/playground/ (esbuild only strips types);
 * 2. bundles docs/playground/playground.ts for the browser with esbuild —
 *    segrefine's core from src/, tfjs and its wasm backend included, so the
 *    page works offline;
 * 3. copies index.html, the CSS and tfjs-backend-wasm's .wasm binaries (the
 *    page passes their folder to initBackend as `wasmPaths`).
 *
 * The build fails if the page pulls in anything Node-only: a Node built-in
 * (esbuild's browser platform cannot resolve one), segrefine's Node or bench
 * entries, or a Node-only package.
 *
 *   node scripts/build-playground.mjs [--out docs-site/playground]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'docs', 'playground');
const outAt = process.argv.indexOf('--out');
const out = resolve(outAt >= 0 ? process.argv[outAt + 1] : join(root, 'docs-site', 'playground'));
const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
// Inputs a browser page must not contain (what `segrefine/node` and `segrefine/bench` exist for).
const NODE_ONLY = /(^|\/)(src\/(node|bench|cli)\/|node_modules\/(sharp|@img\/sharp[^/]*|vega[^/]*|cli-progress|commander)\/)/;

execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(source, 'tsconfig.json')], { stdio: 'inherit' });

mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: [join(source, 'playground.ts')],
  outfile: join(out, 'playground.js'),
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  metafile: true,
  logLevel: 'warning',
});
const nodeOnly = Object.keys(result.metafile.inputs).filter((input) => NODE_ONLY.test(input));
if (nodeOnly.length > 0) {
  console.error(`build-playground: the page bundles Node-only code:\n  ${nodeOnly.join('\n  ')}`);
  process.exit(1);
}

copyFileSync(join(source, 'index.html'), join(out, 'index.html'));
copyFileSync(join(source, 'playground.css'), join(out, 'playground.css'));
const wasm = readdirSync(wasmDir).filter((file) => file.endsWith('.wasm'));
for (const file of wasm) copyFileSync(join(wasmDir, file), join(out, file));

const mib = (file) => (statSync(join(out, file)).size / 2 ** 20).toFixed(1);
console.log(`playground: ${relative(root, out)}/ (playground.js ${mib('playground.js')} MiB from ${Object.keys(result.metafile.inputs).length} modules; ${wasm.join(', ')})`);
