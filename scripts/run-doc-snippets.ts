/**
 * Runs the TypeScript blocks of the docs pages and the README, and compares
 * what each prints with the ```text output block under it.
 *
 *   npx tsx scripts/run-doc-snippets.ts                      # every page
 *   npx tsx scripts/run-doc-snippets.ts docs/concepts.md     # some pages
 *   npx tsx scripts/run-doc-snippets.ts --update docs/x.md   # rewrite the output blocks from a run
 *
 * `npm run test:docs` runs the same check under vitest (plus a typecheck).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectSnippets, normaliseOutput, programsOf, replaceOutputs, repoRoot, runProgram } from './doc-snippets.js';

const args = process.argv.slice(2);
const update = args.includes('--update');
const pages = args.filter((a) => !a.startsWith('--'));

const { snippets, problems } = collectSnippets();
for (const p of problems) console.error(`${p.file}:${p.line}: ${p.message}`);
const programs = programsOf(snippets).filter((p) => pages.length === 0 || pages.includes(p.file));
let failures = problems.length;
const updates = new Map<string, Map<number, string>>();
for (const program of programs) {
  const run = await runProgram(program);
  const where = `${program.file}:${program.line}${program.blocks.length > 1 ? ` (+${program.blocks.length - 1} continued)` : ''}`;
  if (run.code !== 0) {
    failures++;
    console.error(`FAIL ${where} (exit ${run.code}, ${run.seconds.toFixed(1)} s)\n${run.stderr}`);
    continue;
  }
  let same = true;
  program.blocks.forEach((block, i) => {
    if (block.output === undefined) return;
    const got = normaliseOutput(run.outputs[i] ?? '');
    if (update) {
      if (!updates.has(block.file)) updates.set(block.file, new Map());
      updates.get(block.file)!.set(block.output.line, got);
    } else if (got !== normaliseOutput(block.output.text)) {
      same = false;
      console.error(`FAIL ${block.file}:${block.line}: output differs from the block at line ${block.output.line}\n--- shown\n${normaliseOutput(block.output.text)}\n--- printed\n${got}`);
    }
  });
  if (!same) failures++;
  else console.log(`ok   ${where} (${run.seconds.toFixed(1)} s)`);
}
for (const [file, outputs] of updates) {
  const path = join(repoRoot, file);
  writeFileSync(path, replaceOutputs(readFileSync(path, 'utf8'), outputs));
  console.log(`updated ${outputs.size} output block(s) in ${file}`);
}
console.log(`${programs.length} program(s) run (${snippets.filter((x) => x.illustrative).length} illustrative block(s) in all pages), ${failures} problem(s)`);
process.exitCode = failures > 0 ? 1 : 0;
