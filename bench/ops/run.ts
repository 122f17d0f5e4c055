/**
 * `npm run bench:ops [-- --only <group>]`: runs every case in
 * bench/ops/cases/*.ts, prints one table per group and writes bench/ops.json
 * (groups not run this time are kept from the previous file).
 */
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, initBackend, type BackendPreference } from '../../src/index.js';
import type { BenchRow, OpBenchCase } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const outFile = join(here, '..', 'ops.json');

function parseFlags(argv: string[]): { only?: string; backend: string } {
  const only = argv.indexOf('--only');
  const backend = argv.indexOf('--backend');
  return { only: only >= 0 ? argv[only + 1] : undefined, backend: backend >= 0 ? argv[backend + 1]! : 'auto' };
}

function printTable(group: string, rows: BenchRow[]): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: number | string | undefined): string =>
    v === undefined ? '' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v;
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]): string => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n### ${group}\n`);
  console.log(line(columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(columns.map((c) => cell(row[c]))));
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const info = await initBackend(flags.backend as BackendPreference);
  console.log(`bench:ops on ${describeBackend(info)}`);
  const caseDir = join(here, 'cases');
  const files = readdirSync(caseDir).filter((f) => f.endsWith('.ts')).sort();
  const groups: Record<string, BenchRow[]> = {};
  for (const file of files) {
    const module = (await import(join(caseDir, file))) as { cases: OpBenchCase[] };
    for (const benchCase of module.cases) {
      if (flags.only !== undefined && benchCase.group !== flags.only) continue;
      process.stdout.write(`  ${benchCase.group}: ${benchCase.name} … `);
      const rows = await benchCase.run();
      console.log('done');
      (groups[benchCase.group] ??= []).push(...rows);
    }
  }
  for (const [group, rows] of Object.entries(groups)) printTable(group, rows);
  const previous = existsSync(outFile) ? (JSON.parse(readFileSync(outFile, 'utf8')) as { groups?: Record<string, unknown> }) : {};
  const result = {
    date: new Date().toISOString(),
    backend: info.name,
    tfjs: tf.version.tfjs,
    node: process.version,
    groups: { ...(previous.groups ?? {}), ...groups },
  };
  writeFileSync(`${outFile}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${outFile}.tmp`, outFile);
  console.log(`\nwrote ${outFile}`);
}

await main();
