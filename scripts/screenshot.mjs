#!/usr/bin/env node
/**
 * Screenshots an HTML page in headless Chromium (Debian's `chromium`) and
 * checks the picture is not blank: enough non-white pixels and enough
 * distinct colours (charts and panels draw many).
 *
 *   node scripts/screenshot.mjs <page.html> <out.png> [--min-ink 0.05] [--min-colours 12] [--height 2400]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inkAndColours } from './ink.mjs';

const [page, out, ...rest] = process.argv.slice(2);
if (!page || !out) {
  console.error('usage: node scripts/screenshot.mjs <page.html> <out.png> [--min-ink 0.05] [--min-colours 12] [--height 2400]');
  process.exit(2);
}
const flag = (name, fallback) => {
  const i = rest.indexOf(name);
  return i >= 0 ? Number(rest[i + 1]) : fallback;
};
if (!existsSync(page)) {
  console.error(`screenshot: ${page} does not exist`);
  process.exit(1);
}
const browser = process.env.CHROMIUM ?? '/usr/bin/chromium';
execFileSync(browser, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${resolve(out)}.profile`,
  `--window-size=1280,${flag('--height', 2400)}`, `--screenshot=${resolve(out)}`, pathToFileURL(resolve(page)).href,
], { stdio: 'pipe', timeout: 120_000 });

const { width, height, ink: inkFraction, colours } = await inkAndColours(out);
console.log(`${out}: ${width}x${height}, ink ${(100 * inkFraction).toFixed(1)}%, ${colours} colours`);
if (inkFraction < flag('--min-ink', 0.05) || colours < flag('--min-colours', 12)) {
  console.error('screenshot: the page looks blank (too little ink or too few colours)');
  process.exit(1);
}
