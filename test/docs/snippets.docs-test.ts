// Every TypeScript block of docs/**/*.md and README.md runs (as its own Node
// process, as a user would run it), typechecks, and prints exactly the
// ```text output block shown under it. Blocks fenced ```ts illustrative are
// only shown. Run with `npm run test:docs`.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../src/index.js';
import { parseExperiment } from '../../src/bench/index.js';
import { syncOpsTables } from '../../scripts/ops-tables.js';
import { collectSnippets, docPages, normaliseOutput, parseCodeBlocks, programsOf, repoRoot, runProgram, snippetsOf, writeProgramFile } from '../../scripts/doc-snippets.js';

const { snippets, problems } = collectSnippets();
const programs = programsOf(snippets);

describe('the snippet conventions', () => {
  it('parses fences, markers and output blocks', () => {
    const page = [
      '# t',
      '```ts',
      'console.log(1);',
      '```',
      '',
      '```text output',
      '1',
      '```',
      '```ts illustrative',
      'x;',
      '```',
      '```ts illustartive',
      '```',
      'text',
      '```text output',
      '2',
      '```',
      '```ts continued',
      'console.log(3);',
      '```',
    ].join('\n');
    const { snippets: found, problems: broken } = snippetsOf('page.md', page);
    expect(found.map((s) => [s.line, s.illustrative, s.continues, s.output?.text])).toEqual([
      [2, false, false, '1\n'],
      [9, true, false, undefined],
      [12, false, false, undefined],
      [18, false, true, undefined],
    ]);
    expect(broken.map((p) => p.line)).toEqual([12, 15]);
    expect(programsOf(found).map((p) => p.blocks.map((b) => b.line))).toEqual([[2], [12, 18]]);
    expect(snippetsOf('page.md', '```ts continued\nx;\n```\n').problems).toHaveLength(1);
  });

  it('experiment files shown as ```json validate against the experiment schema', () => {
    const invalid: string[] = [];
    let experiments = 0;
    for (const page of docPages()) {
      for (const block of parseCodeBlocks(readFileSync(join(repoRoot, page), 'utf8'))) {
        if (block.lang !== 'json') continue;
        const value = JSON.parse(block.code) as Record<string, unknown>;
        if (!('entries' in value)) continue; // not an experiment
        experiments++;
        try {
          parseExperiment(value);
        } catch (error) {
          invalid.push(`${page}:${block.line}: ${(error as Error).message}`);
        }
      }
    }
    expect(invalid).toEqual([]);
    expect(experiments).toBeGreaterThan(0);
  });

  it('measured tables match bench/ops.json (scripts/ops-tables.ts)', () => {
    expect(syncOpsTables(true)).toEqual([]);
  });

  it('holds on every page', () => {
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([]);
    expect(programs.length).toBeGreaterThan(0);
  });
});

describe('refiner pages', () => {
  // Which page documents which registered refiner or neck.
  const pageOf: Record<string, string> = { difnet: 'difnet', spn: 'spn', 'segaware-bf': 'segaware', 'segaware-crf': 'segaware', 'dense-crf': 'crf', 'conv-crf': 'crf', sdn: 'sdn' };
  const specs = [...defaultRegistry().refiners(), ...defaultRegistry().necks()].filter((s) => s.id !== 'none');

  it('exist for every registered refiner and neck, and name every argument of its schema', () => {
    const missing: string[] = [];
    for (const spec of specs) {
      const page = join(repoRoot, 'docs', 'refiners', `${pageOf[spec.id] ?? spec.id}.md`);
      if (!existsSync(page)) {
        missing.push(`${spec.id}: no page ${page}`);
        continue;
      }
      const text = readFileSync(page, 'utf8');
      const args = Object.keys((spec.schema.schema as { properties?: object }).properties ?? {});
      const unnamed = args.filter((arg) => !text.includes(`\`${arg}\``));
      if (unnamed.length > 0) missing.push(`${spec.id}: ${unnamed.join(', ')} not named on ${pageOf[spec.id] ?? spec.id}.md`);
    }
    expect(missing).toEqual([]);
  });
});

describe('docs snippets', () => {
  it('typecheck', async () => {
    const files = programs.map(writeProgramFile);
    const dir = mkdtempSync(join(tmpdir(), 'segrefine-snippets-'));
    try {
      const config = join(dir, 'tsconfig.json');
      writeFileSync(
        config,
        JSON.stringify({
          extends: join(repoRoot, 'tsconfig.json'),
          compilerOptions: { noEmit: true, typeRoots: [join(repoRoot, 'node_modules/@types')], noUnusedLocals: false },
          include: [],
          files,
        }),
      );
      const output = await new Promise<string>((resolve) => {
        execFile(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', config], { cwd: repoRoot, maxBuffer: 1 << 24 }, (error, stdout, stderr) =>
          resolve(error ? `${stdout}${stderr}` : ''),
        );
      });
      // Errors point into .doc-snippets/<page>-L<line>.tmp.ts: line n of that file is line (L + n) of the page.
      expect(output).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.concurrent('run', () => {
    for (const program of programs) {
      it(`${program.file}:${program.line}`, async () => {
        const run = await runProgram(program);
        expect(run.code, `${program.file}:${program.line} failed:\n${run.stderr}`).toBe(0);
        program.blocks.forEach((block, i) => {
          if (block.output === undefined) return;
          expect(normaliseOutput(run.outputs[i] ?? ''), `output of ${block.file}:${block.line} (shown at line ${block.output.line}); \`npx tsx scripts/run-doc-snippets.ts --update ${block.file}\` rewrites it`).toBe(
            normaliseOutput(block.output.text),
          );
        });
      });
    }
  });
});
