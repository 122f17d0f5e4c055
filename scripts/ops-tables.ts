/**
 * Measured tables in the docs come from `bench/ops.json` (written by
 * `npm run bench:ops`), never typed by hand. A page marks a table with
 *
 *   <!-- ops-table: random-walk columns="N, path, fwd ms" where="path=blocked" -->
 *   | … the table … |
 *   <!-- /ops-table -->
 *
 * (`columns` and `where` are optional; `where` holds `column=value` pairs
 * separated by `;`) and this script writes the table from the group's rows,
 * formatted as `npm run bench:ops` prints them (numbers to 4 significant
 * digits, whole numbers from 1000 on).
 *
 *   npx tsx scripts/ops-tables.ts           # rewrite the tables of every page
 *   npx tsx scripts/ops-tables.ts --check   # exit 1 if a page differs from bench/ops.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { docPages, repoRoot } from './doc-snippets.js';

/** One row of a bench:ops group. */
export type OpsRow = Record<string, number | string | undefined>;

/** `bench/ops.json`. */
export interface OpsFile {
  /** When it was written. */
  date?: string;
  /** Backend of the run. */
  backend?: string;
  /** Rows per group. */
  groups: Record<string, OpsRow[]>;
}

/** A cell as `npm run bench:ops` prints it (but 14457, not 1.446e+4). */
export function formatCell(value: number | string | undefined): string {
  if (value === undefined || value === null) return '';
  // Four significant digits, but never exponent notation (which toPrecision uses from 10⁴ on).
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : Math.abs(value) >= 1000 ? String(Math.round(value)) : value.toPrecision(4);
  return String(value).replace(/\|/g, '\\|');
}

/**
 * The markdown table of a group.
 * @param rows - the group's rows
 * @param columns - columns to show (default: every column, in first-seen order)
 * @param where - keep rows whose cells equal these values
 */
export function opsTable(rows: readonly OpsRow[], columns?: readonly string[], where: Readonly<Record<string, string>> = {}): string {
  const kept = rows.filter((row) => Object.entries(where).every(([key, value]) => formatCell(row[key]) === value || String(row[key]) === value));
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const numeric = cols.map((c) => kept.some((r) => typeof r[c] === 'number'));
  return [`| ${cols.join(' | ')} |`, `|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`, ...kept.map((r) => `| ${cols.map((c) => formatCell(r[c])).join(' | ')} |`)].join('\n');
}

const MARKER = /<!--\s*ops-table:\s*([\w-]+)((?:\s+\w+="[^"]*")*)\s*-->\n[\s\S]*?<!--\s*\/ops-table\s*-->/g;

/**
 * A page with every marked table rewritten from `ops`; throws on an unknown
 * group or column.
 * @param markdown - the page
 * @param ops - bench/ops.json
 * @param page - the page's name, for errors
 */
export function renderOpsTables(markdown: string, ops: OpsFile, page: string): string {
  return markdown.replace(MARKER, (_, group: string, attributes: string) => {
    const attrs = Object.fromEntries([...attributes.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const rows = ops.groups[group];
    if (rows === undefined) throw new Error(`${page}: bench/ops.json has no group "${group}" (groups: ${Object.keys(ops.groups).join(', ')})`);
    const columns = attrs['columns']?.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
    const known = new Set(rows.flatMap((r) => Object.keys(r)));
    const unknown = (columns ?? []).filter((c) => !known.has(c));
    if (unknown.length > 0) throw new Error(`${page}: group "${group}" has no column(s) ${unknown.join(', ')}`);
    const where = Object.fromEntries(
      (attrs['where'] ?? '')
        .split(';')
        .map((pair) => pair.split('=').map((s) => s.trim()))
        .filter((pair): pair is [string, string] => pair.length === 2 && pair[0] !== ''),
    );
    const head = `<!-- ops-table: ${group}${attributes} -->`;
    return `${head}\n${opsTable(rows, columns, where)}\n<!-- /ops-table -->`;
  });
}

/** Pages whose tables differ from bench/ops.json (after rewriting them unless `check`). */
export function syncOpsTables(check: boolean, root = repoRoot): string[] {
  const ops = JSON.parse(readFileSync(join(root, 'bench', 'ops.json'), 'utf8')) as OpsFile;
  const stale: string[] = [];
  for (const page of docPages(root)) {
    const path = join(root, page);
    const markdown = readFileSync(path, 'utf8');
    const rendered = renderOpsTables(markdown, ops, page);
    if (rendered === markdown) continue;
    stale.push(page);
    if (!check) writeFileSync(path, rendered);
  }
  return stale;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const check = process.argv.includes('--check');
  const stale = syncOpsTables(check);
  if (check && stale.length > 0) {
    console.error(`tables differ from bench/ops.json in: ${stale.join(', ')} (run \`npx tsx scripts/ops-tables.ts\`)`);
    process.exit(1);
  }
  console.log(check ? 'ops tables match bench/ops.json' : stale.length > 0 ? `rewrote ${stale.join(', ')}` : 'ops tables already match bench/ops.json');
}
