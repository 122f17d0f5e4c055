#!/usr/bin/env node
/**
 * The playground in a real browser. Serves the built docs site, opens
 * docs-site/playground/ in headless Chromium (Debian's /usr/bin/chromium, or
 * $CHROMIUM, driven by puppeteer-core), waits for it to refine its default
 * scene, then runs the same pipeline (docs/playground/pipeline.ts) in Node
 * with the built core (dist/) on wasm, from the settings the page reports,
 * and compares the two refiner by refiner. Fails on any console error, page
 * error or failed request, on a mismatch, or on a blank screenshot.
 *
 * By default it opens the page twice, as a visitor gets it (`auto`: webgl
 * where the browser has it, on SwiftShader here) and pinned to wasm (what a
 * browser without WebGL falls back to); the first is screenshotted (`--out`,
 * default runs/playground.png) and the picture must not be blank.
 *
 * Tolerances. On wasm the page and Node run the same WebAssembly kernels on
 * the same float32 inputs: they must agree on every label, and on the
 * probabilities to 1e-5 (float rounding). WebGL (and the cpu backend) compute
 * with other kernels — the GPU's own exp and division, other summation
 * orders, 16-bit floats on some GPUs — so they get tfjs's own tolerance for
 * float32 backends, 1e-3 (`tf.test_util.TEST_EPSILON_FLOAT32`), and an argmax
 * may flip on at most 1 % of the pixels, only where Node's top two classes
 * are within twice that of each other (a near tie, not a different answer).
 *
 *   npm run build && npm run docs
 *   node scripts/test-playground.mjs [docs-site] [--backend auto,wasm] [--out runs/playground.png]
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import puppeteer from 'puppeteer-core';
import { tsImport } from 'tsx/esm/api';
import { inkAndColours } from './ink.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const site = resolve(args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? join(root, 'docs-site'));
const backends = option('--backend', 'auto,wasm').split(',');
const out = resolve(option('--out', join(root, 'runs', 'playground.png')));
const problems = [];
const REFINERS = ['coarse', 'difnet', 'denseCrf', 'spn'];
const TOLERANCE = {
  wasm: { agreement: 1, probability: 1e-5 },
  other: { agreement: 0.99, probability: 1e-3 },
};

for (const [file, how] of [[join(site, 'playground', 'index.html'), 'npm run docs'], [join(root, 'dist', 'index.js'), 'npm run build']]) {
  if (!existsSync(file)) {
    console.error(`test-playground: ${file} is missing: run \`${how}\` first`);
    process.exit(1);
  }
}

// The docs page's link reaches the page: typedoc copies docs/playground/open.html into media/, which redirects to ../playground/.
const docsPage = join(site, 'documents', 'Playground.html');
const stub = existsSync(docsPage) ? readFileSync(docsPage, 'utf8').match(/<a href="([^"]+open\.html)"/)?.[1] : undefined;
const redirect = stub === undefined ? undefined : readFileSync(resolve(dirname(docsPage), stub), 'utf8').match(/url=([^"]+)"/)?.[1];
if (redirect === undefined || resolve(dirname(resolve(dirname(docsPage), stub)), redirect) !== join(site, 'playground', 'index.html')) {
  problems.push(`${docsPage} does not link to playground/index.html (through media/open.html)`);
}

// A static server: the page loads its script as a module and fetches .wasm, which file:// URLs do not allow.
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml', '.ico': 'image/x-icon' };
const server = createServer((request, response) => {
  const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
  const file = join(site, path.endsWith('/') ? `${path}index.html` : path);
  if (!file.startsWith(site + sep) || !existsSync(file) || !statSync(file).isFile()) {
    response.writeHead(404).end('not found');
    return;
  }
  response.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  // WebGL without a GPU runs on SwiftShader; Chromium wants that asked for (the page is our own, trusted content).
  args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  defaultViewport: { width: 1280, height: 1400 },
  protocolTimeout: 300_000,
});
const shown = [];
try {
  for (const [i, backend] of backends.entries()) {
    const result = await openPlayground(backend, i === 0 ? out : undefined);
    if (result !== undefined) shown.push(result);
  }
} finally {
  await browser.close();
  server.close();
}

/** Opens the playground (`?backend=` unless auto), waits for its first run and returns what it exposes. */
async function openPlayground(backend, screenshot) {
  const page = await browser.newPage();
  const tag = `[${backend}]`;
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`${tag} console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${tag} page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`${tag} request failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${tag} HTTP ${response.status()}: ${response.url()}`);
  });
  try {
    const started = performance.now();
    await page.goto(`${base}/playground/index.html${backend === 'auto' ? '' : `?backend=${backend}`}`, { waitUntil: 'load' });
    await page.waitForFunction(() => window.segrefinePlayground !== undefined, { timeout: 30_000 });
    await page.evaluate(() => window.segrefinePlayground.ready);
    const state = await page.evaluate(() => {
      const { backend, backendDescription, input, results } = window.segrefinePlayground;
      return { backend, backendDescription, input, results };
    });
    console.log(`Chromium ${tag}: ${state.backendDescription}; default scene refined ${((performance.now() - started) / 1000).toFixed(1)} s after opening the page`);
    if (screenshot !== undefined) {
      mkdirSync(dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });
    }
    return { ...state, asked: backend };
  } catch (error) {
    problems.push(`${tag} the playground did not finish: ${error.message}`);
    return undefined;
  } finally {
    await page.close();
  }
}

if (shown.length > 0) {
  // The same pipeline in Node, with the built core on wasm, from the settings the page reports.
  const core = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
  const pipeline = await tsImport(pathToFileURL(join(root, 'docs', 'playground', 'pipeline.ts')).href, import.meta.url);
  const info = await core.initBackend('wasm');
  const settings = shown[0].input;
  if (settings.kind !== 'synthetic') problems.push(`the default input should be a synthetic scene, got ${settings.kind}`);
  for (const other of shown.slice(1)) {
    if (JSON.stringify(other.input) !== JSON.stringify(settings)) problems.push(`[${other.asked}] the page reports other settings than [${shown[0].asked}]`);
  }
  const input = pipeline.syntheticInput(core, settings.scene);
  const run = await pipeline.refineAll(core, input, settings.refiners);
  const k = input.classes;
  const nodeSide = {};
  for (const name of REFINERS) nodeSide[name] = await pipeline.summarise(name === 'coarse' ? run.coarse : run[name].probabilities);
  console.log(`Node: ${core.describeBackend(info)}; scene "${settings.scene.name}", ${input.width}×${input.height}`);

  for (const { asked, backend, results } of shown) {
    const tolerance = backend === 'wasm' ? TOLERANCE.wasm : TOLERANCE.other;
    console.log(`[${asked}] Chromium ran ${backend}; tolerance: agreement ≥ ${tolerance.agreement}, max |Δp| ≤ ${tolerance.probability}`);
    for (const name of REFINERS) {
      const node = nodeSide[name];
      const page = results[name];
      let same = 0;
      let flippedAtClearMargin = 0;
      for (let i = 0; i < node.labels.length; i++) {
        if (node.labels[i] === page.labels[i]) same++;
        else {
          // A flip is float noise only where Node's top two classes are within the tolerance of each other.
          const top = node.probabilities.slice(i * k, (i + 1) * k).sort((a, b) => b - a);
          if (top[0] - top[1] > 2 * tolerance.probability) flippedAtClearMargin++;
        }
      }
      let maxDiff = page.probabilities.length === node.probabilities.length ? 0 : Infinity;
      for (let i = 0; i < node.probabilities.length; i++) maxDiff = Math.max(maxDiff, Math.abs(node.probabilities[i] - page.probabilities[i]));
      const agreement = same / node.labels.length;
      const ok = agreement >= tolerance.agreement && maxDiff <= tolerance.probability && flippedAtClearMargin === 0;
      const times = page.ms === undefined ? '' : `; ${page.ms.toFixed(0)} ms in Chromium, ${run[name].ms.toFixed(0)} ms in Node`;
      console.log(`  ${name.padEnd(8)} argmax agreement ${(100 * agreement).toFixed(2)} %, max |Δp| ${maxDiff.toExponential(1)}${times}: ${ok ? 'ok' : 'MISMATCH'}`);
      if (!ok) problems.push(`[${asked}] ${name}: Chromium (${backend}) and Node (wasm) differ: agreement ${agreement}, max |Δp| ${maxDiff}, ${flippedAtClearMargin} flip(s) at a clear margin`);
    }
  }
  pipeline.disposeRun(run);
  input.scores.dispose();
}

if (existsSync(out)) {
  const shot = await inkAndColours(out);
  console.log(`${out}: ${shot.width}x${shot.height}, ink ${(100 * shot.ink).toFixed(1)}%, ${shot.colours} colours`);
  if (shot.ink < 0.05 || shot.colours < 12) problems.push(`the screenshot looks blank (ink ${(100 * shot.ink).toFixed(1)}%, ${shot.colours} colours)`);
} else problems.push(`no screenshot at ${out}`);

if (problems.length > 0) {
  for (const problem of problems) console.error(`FAIL ${problem}`);
  process.exit(1);
}
console.log(`test-playground: ok (Chromium ran ${shown.map((r) => `${r.backend} for ${r.asked}`).join(', ')})`);
