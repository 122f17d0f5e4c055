// `segrefine bench`: a --fast run gets its own folder (never overwrites the
// full run's), and the terminal warnings are yellow only on a TTY.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchExperiment, formatWarnings } from '../../src/cli/bench_command.js';
import type { ComparabilityWarning } from '../../src/bench/comparability.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('benchExperiment', () => {
  it('names a --fast run of the default experiment default-fast, with the fast budget', () => {
    const experiment = benchExperiment(undefined, { fast: true }, {});
    expect(experiment['name']).toBe('default-fast');
    expect(experiment['eval']).toMatchObject({ limit: 8 });
  });

  it('keeps the name of a full run', () => {
    expect(benchExperiment(undefined, {}, {})['name']).toBe('default');
  });

  it('treats SEGREFINE_FAST=1 as --fast, name included', () => {
    expect(benchExperiment(undefined, {}, { SEGREFINE_FAST: '1' })['name']).toBe('default-fast');
  });

  it('lets --name win over the -fast suffix', () => {
    expect(benchExperiment(undefined, { fast: true, name: 'smoke' }, {})['name']).toBe('smoke');
    expect(benchExperiment(undefined, { name: 'full' }, {})['name']).toBe('full');
  });

  it("suffixes an experiment file's own name, and its default name when it has none", () => {
    const dir = mkdtempSync(join(tmpdir(), 'segrefine-bench-command-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'named.json'), JSON.stringify({ name: 'mine', outputDir: 'elsewhere' }));
    writeFileSync(join(dir, 'unnamed.json'), JSON.stringify({}));
    const named = benchExperiment(join(dir, 'named.json'), { fast: true, out: join(dir, 'runs') }, {});
    expect(named['name']).toBe('mine-fast');
    expect(named['outputDir']).toBe(join(dir, 'runs'));
    expect(benchExperiment(join(dir, 'named.json'), {}, {})['name']).toBe('mine');
    expect(benchExperiment(join(dir, 'unnamed.json'), { fast: true }, {})['name']).toBe('default-fast');
  });
});

describe('formatWarnings', () => {
  const warnings: ComparabilityWarning[] = [
    { kind: 'single-class', entries: ['A'], message: '"A" predicts only \'background\' on every validation pixel: it did not learn; the comparison cannot rank it.' },
    { kind: 'all-tie', entries: ['A', 'B'], message: 'All 2 entries ("A", "B") have the same mIoU, 23.33%: the comparison cannot rank them.' },
  ];

  it('prints one plain "Warning:" line per warning without colour', () => {
    expect(formatWarnings(warnings, false)).toEqual([`Warning: ${warnings[0]!.message}`, `Warning: ${warnings[1]!.message}`]);
  });

  it('wraps each line in ANSI yellow with colour', () => {
    expect(formatWarnings(warnings, true)).toEqual(warnings.map((w) => `\u001b[33mWarning: ${w.message}\u001b[39m`));
  });

  it('prints nothing when there is nothing to warn about', () => {
    expect(formatWarnings([], true)).toEqual([]);
  });
});
