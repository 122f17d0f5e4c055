#!/usr/bin/env node
/**
 * Checks the docs site built by `npm run docs` (typedoc → docs-site/):
 *
 * 1. every docs/**\/*.md page is a project document exactly once (typedoc.json
 *    lists them in reading order, so a new page must be added there);
 * 2. every <img> of every page points at a file that exists in the site;
 * 3. the Getting started page renders in headless Chromium (enough ink and
 *    colours, its headings and the output of its first refinement present);
 * 4. a refiner page renders with its figure: the screenshot holds many pixels
 *    of the VOC label colours the figure draws (the theme uses none of them).
 *
 *   node scripts/check-docs-site.mjs [docs-site] [--keep <dir>]
 *
 * Screenshots go to a temporary folder (or `--keep <dir>`). Uses Debian's
 * /usr/bin/chromium (or $CHROMIUM) with the flags of scripts/screenshot.mjs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { inkAndColours } from './ink.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const keepAt = args.indexOf('--keep');
const site = resolve(args.find((a, i) => !a.startsWith('--') && i !== keepAt + 1) ?? join(root, 'docs-site'));
const shots = keepAt >= 0 ? resolve(args[keepAt + 1]) : mkdtempSync(join(tmpdir(), 'segrefine-docs-site-'));
mkdirSync(shots, { recursive: true });
const failures = [];
const fail = (message) => {
  failures.push(message);
  console.error(`FAIL ${message}`);
};

// 1. Every page is in typedoc.json's projectDocuments exactly once.
const globToRegExp = (glob) => {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    if (glob[i] === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (glob[i] === '*') source += '[^/]*';
    else source += glob[i].replace(/[.+^${}()|[\]\\?]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
};
const patterns = JSON.parse(readFileSync(join(root, 'typedoc.json'), 'utf8')).projectDocuments ?? [];
const pages = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) walk(join(dir, entry.name));
    else if (entry.name.endsWith('.md')) pages.push(relative(root, join(dir, entry.name)).split('\\').join('/'));
  }
};
walk(join(root, 'docs'));
for (const page of pages) {
  const matches = patterns.filter((p) => globToRegExp(p).test(page));
  if (matches.length !== 1) fail(`${page} matches ${matches.length} projectDocuments entries of typedoc.json (${matches.join(', ') || 'none'}); it must match exactly one`);
}
console.log(`${pages.length} docs pages, each listed once in typedoc.json`);

// 2. Images resolve.
if (!existsSync(join(site, 'index.html'))) {
  fail(`${site}/index.html does not exist: run \`npm run docs\` first`);
  process.exit(1);
}
const documents = readdirSync(join(site, 'documents')).filter((f) => f.endsWith('.html')).map((f) => join(site, 'documents', f));
let images = 0;
for (const file of [join(site, 'index.html'), ...documents]) {
  const html = readFileSync(file, 'utf8');
  for (const [, src] of html.matchAll(/<img[^>]*\ssrc="([^"]+)"/g)) {
    if (/^(https?:|data:)/.test(src)) continue;
    images++;
    const target = resolve(dirname(file), decodeURIComponent(src.split('#')[0].split('?')[0]));
    if (!existsSync(target)) fail(`${relative(site, file)}: <img src="${src}"> does not exist in the site`);
  }
}
console.log(`${documents.length} documents, ${images} local images, all present`);

/** The built HTML of the document titled `title`. */
function documentTitled(title) {
  const found = documents.find((file) => readFileSync(file, 'utf8').includes(`<title>${title} | `));
  if (found === undefined) fail(`no document titled "${title}" in ${site}/documents`);
  return found;
}

/**
 * Screenshots a page with the flags of scripts/screenshot.mjs, plus a
 * virtual-time budget: typedoc hides the body until its script shows the
 * page (up to 500 ms), and a capture taken before that is blank. Then the
 * same ink/colour check. One retry, from a clean profile, for a busy machine.
 */
async function screenshot(page, name, minInk, minColours) {
  const out = join(shots, `${name}.png`);
  const browser = process.env.CHROMIUM ?? '/usr/bin/chromium';
  for (let attempt = 1; ; attempt++) {
    rmSync(out, { force: true });
    rmSync(`${out}.profile`, { recursive: true, force: true });
    let problem;
    try {
      execFileSync(browser, [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${out}.profile`,
        '--virtual-time-budget=5000', '--window-size=1280,2400', `--screenshot=${out}`, pathToFileURL(page).href,
      ], { stdio: 'pipe', timeout: 120_000 });
      const { width, height, ink: fraction, colours } = await inkAndColours(out);
      console.log(`${out}: ${width}x${height}, ink ${(100 * fraction).toFixed(1)}%, ${colours} colours`);
      if (fraction >= minInk && colours >= minColours) return out;
      problem = `the page looks blank (ink ${(100 * fraction).toFixed(1)}% < ${100 * minInk}% or ${colours} colours < ${minColours})`;
    } catch (error) {
      problem = String(error.stderr || error.message).trim();
    } finally {
      rmSync(`${out}.profile`, { recursive: true, force: true });
    }
    if (attempt < 2) {
      console.log(`${name}: ${problem} — retrying once`);
      continue;
    }
    fail(`${name}: ${problem}`);
    return undefined;
  }
}

// 3. Getting started renders, with its content.
const gettingStarted = documentTitled('Getting started');
if (gettingStarted !== undefined) {
  const html = readFileSync(gettingStarted, 'utf8');
  // Code is split into highlighting spans: compare the text without tags.
  const text = html.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  if (!html.includes('<h1')) fail('Getting started: no <h1>');
  for (const wanted of ['A first refinement', 'dense CRF:        mIoU', 'npm install-scripts approve @tensorflow/tfjs-node-gpu']) {
    if (!text.includes(wanted)) fail(`Getting started: the page does not contain "${wanted}"`);
  }
  await screenshot(gettingStarted, 'getting-started', 0.05, 12);
}

// 4. A refiner page renders with its figure.
const VOC = [
  [128, 0, 0],
  [0, 128, 0],
  [128, 128, 0],
  [0, 0, 128],
  [128, 0, 128],
];
const difnet = documentTitled('DifNet (DiffusionHead)');
if (difnet !== undefined) {
  if (!/<img[^>]*src="[^"]*difnet\.png"/.test(readFileSync(difnet, 'utf8'))) fail('DifNet page: no <img> of difnet.png');
  const shot = await screenshot(difnet, 'refiner-difnet', 0.05, 12);
  if (shot !== undefined) {
    const { data } = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let labelPixels = 0;
    for (let i = 0; i < data.length; i += 3) {
      if (VOC.some(([r, g, b]) => Math.abs(data[i] - r) <= 6 && Math.abs(data[i + 1] - g) <= 6 && Math.abs(data[i + 2] - b) <= 6)) labelPixels++;
    }
    console.log(`${shot}: ${labelPixels} pixels in VOC label colours (the figure)`);
    if (labelPixels < 2000) fail(`DifNet page: the figure does not show in the screenshot (${labelPixels} label-coloured pixels, expected ≥ 2000)`);
  }
}

if (keepAt < 0) rmSync(shots, { recursive: true, force: true });
if (failures.length > 0) {
  console.error(`check-docs-site: ${failures.length} problem(s)`);
  process.exit(1);
}
console.log('check-docs-site: ok');
