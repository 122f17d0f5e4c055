#!/usr/bin/env node
// Packaging test (CI): packs segrefine, installs the tarball into a fresh
// project together with tfjs from the registry (as a user would), runs the
// README's "Use it" snippet there as an .mjs file and the CLI's --help and
// demo through the installed bin, and fails on a second tfjs registration
// ("already registered", "Platform … has already been set") or on a tarball
// that holds what a user does not need.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { transformSync } from 'esbuild';

const repo = resolve(new URL('..', import.meta.url).pathname);
const fail = (message) => {
  console.error(`pack-test: ${message}`);
  process.exit(1);
};

// 1. The tarball: what a user needs and nothing else.
const [pack] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', tmpdir()], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
const files = pack.files.map((f) => f.path);
for (const needed of ['package.json', 'README.md', 'bin/segrefine.js', 'dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js']) {
  if (!files.includes(needed)) fail(`the tarball lacks ${needed}`);
}
const unwanted = files.filter((f) => /^(test|runs|docs-site|bench|scripts|examples|src)\//.test(f) || /fixtures|\.test\.|\.tsbuildinfo$/.test(f));
if (unwanted.length > 0) fail(`the tarball holds files a user does not need: ${unwanted.slice(0, 10).join(', ')}${unwanted.length > 10 ? ', …' : ''}`);
const tarball = join(tmpdir(), pack.filename);
console.log(`pack-test: ${pack.filename}, ${files.length} files, ${(pack.size / 1024).toFixed(0)} KiB packed`);

// 2. A fresh project: the tarball plus tfjs from the registry, one copy of each.
const project = mkdtempSync(join(tmpdir(), 'segrefine-user-'));
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true }, null, 2));
const peers = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).peerDependencies;
const install = ['install', '--no-audit', '--no-fund', tarball, ...Object.entries(peers).map(([name, range]) => `${name}@${range}`)];
execFileSync('npm', install, { cwd: project, stdio: 'inherit' });
const tfjsCopies = execFileSync('npm', ['ls', '@tensorflow/tfjs-core', '--all', '--parseable'], { cwd: project, encoding: 'utf8' }).trim().split('\n').filter(Boolean);
if (tfjsCopies.length !== 1) fail(`expected one copy of @tensorflow/tfjs-core, found ${tfjsCopies.length}: ${tfjsCopies.join(', ')}`);

// 3. Run things as the user would and check their output.
const DUPLICATE = /already registered|has already been set/i;
function run(label, command, args, expect) {
  const result = spawnSync(command, args, { cwd: project, encoding: 'utf8', timeout: 300_000 });
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.status !== 0) fail(`${label} exited with ${result.status}:\n${output}`);
  const duplicates = output.split('\n').filter((line) => DUPLICATE.test(line));
  if (duplicates.length > 0) fail(`${label} printed ${duplicates.length} duplicate-registration line(s), e.g. ${duplicates[0]}`);
  if (!expect.test(output)) fail(`${label} did not print ${expect}:\n${output}`);
  console.log(`pack-test: ${label} ok`);
}

const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const snippet = /## Use it[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
if (snippet === undefined) fail('README has no ```ts block under "## Use it"');
writeFileSync(join(project, 'snippet.mjs'), transformSync(snippet, { loader: 'ts', format: 'esm' }).code);
run('README snippet (node snippet.mjs)', 'node', ['snippet.mjs'], /\[\s*1,\s*8,\s*8,\s*21\s*\]/);
run('segrefine --help', 'npx', ['--no-install', 'segrefine', '--help'], /bench/);
run('segrefine demo', 'npx', ['--no-install', 'segrefine', 'demo'], /backend/i);

rmSync(project, { recursive: true, force: true });
rmSync(tarball, { force: true });
console.log('pack-test: passed');
