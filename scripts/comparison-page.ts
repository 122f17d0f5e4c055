/**
 * Writes docs/comparison.md (+ docs/media/comparison-*.svg/png) from a
 * `segrefine bench` run folder — every number and chart comes from that run's
 * results.json, chart SVGs and panels; nothing is typed by hand.
 *
 *   npm run build && node bin/segrefine.js bench            # writes runs/default/
 *   npx tsx scripts/comparison-page.ts runs/default          # writes the page
 *
 * Options: `--out <page.md>` (default docs/comparison.md), `--media <dir>`
 * (default docs/media). A run of anything but the default experiment is
 * labelled as such at the top of the page (a `--fast` run as a smoke run
 * whose numbers mean nothing).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import sharp from 'sharp';
import { defaultExperiment, fastVariant, parseExperiment, type BenchResults, type EntryResult, type Experiment } from '../src/bench/index.js';
import { comparabilityWarnings } from '../src/bench/comparability.js';
import { INSPECTED_NOTE, inspectedRows } from '../src/bench/report/inspected.js';
import { PANEL_GAP } from '../src/bench/report/panels.js';
import { panelTile, writeFigure, type FigureRow } from './figure-grid.js';
import { repoRoot } from './doc-snippets.js';

/** The entries that train on their own budget (`train` in the entry), as a sentence; empty when none does. */
function ownBudgets(experiment: Experiment): string {
  const own = experiment.entries.filter((entry) => entry.train !== undefined);
  if (own.length === 0) return '';
  const settings = own.map((entry) => `${cell(entry.label)} (${Object.entries(entry.train!).map(([key, value]) => `${key} ${String(value)}`).join(', ')})`);
  return ` Entries on their own budget: ${settings.join('; ')}.`;
}

/** Which experiment a run used, compared with the built-in ones (name and output folder aside). */
export function experimentKind(experiment: unknown): 'default' | 'fast' | 'custom' {
  const comparable = (e: Experiment): string => JSON.stringify({ ...e, name: '', outputDir: '' });
  const run = comparable(parseExperiment(experiment));
  if (run === comparable(parseExperiment(defaultExperiment))) return 'default';
  if (run === comparable(parseExperiment(fastVariant({ ...defaultExperiment })))) return 'fast';
  return 'custom';
}

const pct = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : (100 * v).toFixed(2));
const signed = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${Math.abs(100 * v).toFixed(2)}` : '–');
const params = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n));
const trimapAt = (e: EntryResult, radius: number): number => e.trimap.find((p) => p.radius === radius)?.meanIou ?? Number.NaN;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** The docs page of a refiner or neck id, relative to docs/, when it exists. */
function pageOf(id: string): string | undefined {
  const page = { difnet: 'difnet', spn: 'spn', 'segaware-bf': 'segaware', 'segaware-crf': 'segaware', 'dense-crf': 'crf', 'conv-crf': 'crf', sdn: 'sdn' }[id];
  return page !== undefined && existsSync(join(repoRoot, 'docs', 'refiners', `${page}.md`)) ? `refiners/${page}.md` : undefined;
}

function linked(id: string): string {
  const page = pageOf(id);
  return page === undefined ? `\`${id}\`` : `[\`${id}\`](${page})`;
}

/**
 * The entry another is measured against: the coarse input for a
 * `refine-coarse` entry, otherwise the first trained backbone alone (refiner
 * `none`, no neck).
 */
function baselineOf(results: BenchResults, entry: EntryResult): EntryResult | undefined {
  const coarse = entry.protocol === 'refine-coarse';
  return results.entries.find((e) => e.refiner === 'none' && e.neck === undefined && (e.protocol === 'refine-coarse') === coarse);
}

function resultsTable(results: BenchResults): string {
  const rows = results.entries.map((e) => {
    const baseline = baselineOf(results, e);
    const what = e.neck ? `${linked(e.neck)} neck${e.refiner === 'none' ? '' : ` + ${linked(e.refiner)}`}` : linked(e.refiner);
    const protocol = `${e.protocol}${e.trained ? '' : ' (eval only)'}`;
    const delta = (of: (x: EntryResult) => number): string => (baseline === undefined || e === baseline ? '' : signed(of(e) - of(baseline)));
    return `| ${cell(e.label)} | ${what} | ${protocol} | ${params(e.params)} | ${params(e.refinerParams)} | ${e.msPerImage.toFixed(1)} | ${e.trainSeconds.toFixed(0)} | **${pct(e.meanIou)}** | ${delta((x) => x.meanIou)} | ${pct(trimapAt(e, 5))} | ${pct(e.boundaryF)} | ${delta((x) => x.boundaryF)} |`;
  });
  return [
    '| Entry | Refiner | Protocol | Params | Refiner params | ms/image | train s | mIoU | Δ mIoU | trimap IoU@5 | boundary F | Δ boundary F |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

function trimapTable(results: BenchResults): string {
  const radii = [...new Set(results.entries.flatMap((e) => e.trimap.map((p) => p.radius)))].sort((a, b) => a - b);
  return [
    `| Entry | ${radii.map((r) => `${r} px`).join(' | ')} |`,
    `|---|${radii.map(() => '---:').join('|')}|`,
    ...results.entries.map((e) => `| ${cell(e.label)} | ${radii.map((r) => pct(trimapAt(e, r))).join(' | ')} |`),
  ].join('\n');
}

function perClassTable(results: BenchResults): string {
  const classes = results.dataset.classes;
  return [
    `| Entry | ${classes.join(' | ')} |`,
    `|---|${classes.map(() => '---:').join('|')}|`,
    ...results.entries.map((e) => `| ${cell(e.label)} | ${classes.map((_, k) => pct(e.perClassIou[k])).join(' | ')} |`),
  ].join('\n');
}

/**
 * The qualitative figure: one row per panel image — the image, the truth and
 * each entry's prediction — cut out of the run's panel PNGs, whose rows are
 * the image and truth, then one per entry in results order.
 */
async function qualitativeFigure(runDir: string, results: BenchResults, out: string): Promise<number> {
  const [height, width] = results.dataset.imageSize ?? [0, 0];
  const panels: string[] = [];
  for (let i = 0; existsSync(join(runDir, 'panels', `panel-${i}.png`)); i++) panels.push(join(runDir, 'panels', `panel-${i}.png`));
  if (panels.length === 0 || width === 0) return 0;
  const scale = Math.max(1, Math.round(128 / width));
  const geometry = { tileWidth: width, tileHeight: height, scale, gap: PANEL_GAP };
  const rowsInPanel = 1 + results.entries.length;
  const rows: FigureRow[] = [];
  for (const [p, panel] of panels.entries()) {
    const meta = await sharp(panel).metadata();
    const expected = rowsInPanel * height * scale + (rowsInPanel - 1) * PANEL_GAP;
    if (meta.height !== expected) throw new Error(`${panel}: ${meta.height} px high, expected ${expected} for ${rowsInPanel} rows of ${height}×${scale} px`);
    const caption = (text: string): string => (p === 0 ? text : '');
    const tiles = [await panelTile(panel, 0, 0, geometry, caption('image')), await panelTile(panel, 0, 1, geometry, caption('truth'))];
    for (const [r, entry] of results.entries.entries()) tiles.push(await panelTile(panel, r + 1, 0, geometry, caption(entry.label)));
    rows.push({ tiles });
  }
  await writeFigure(out, rows, { scale: Math.max(1, Math.round(112 / width)) });
  return panels.length;
}

function minutes(results: BenchResults): string {
  const ms = Date.parse(results.finishedAt) - Date.parse(results.startedAt);
  return Number.isFinite(ms) ? `${(ms / 60000).toFixed(1)} min` : 'unknown time';
}

/**
 * Builds the page and its media from a run folder.
 * @param runDir - `runs/<name>`
 * @param page - the markdown file to write
 * @param mediaDir - where the charts and figure go
 */
export async function writeComparisonPage(runDir: string, page: string, mediaDir: string): Promise<void> {
  const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as BenchResults;
  const kind = experimentKind(results.experiment);
  const experiment = parseExperiment(results.experiment);
  mkdirSync(mediaDir, { recursive: true });
  const media = relative(dirname(page), mediaDir).split('\\').join('/') || '.';
  for (const chart of ['accuracy-speed', 'trimap']) copyFileSync(join(runDir, `chart-${chart}.svg`), join(mediaDir, `comparison-${chart}.svg`));
  const shown = await qualitativeFigure(runDir, results, join(mediaDir, 'comparison-panels.png'));
  const d = results.dataset;
  const runCommand = kind === 'fast' ? 'node bin/segrefine.js bench --fast --name fast' : kind === 'default' ? 'node bin/segrefine.js bench' : `node bin/segrefine.js bench <experiment.json>`;
  const notice =
    kind === 'fast'
      ? `> **This page was generated from a \`--fast\` smoke run** (${plural(experiment.train.epochs, 'epoch')} on ${d.trainSize} images of ${d.imageSize?.join('×')}): it shows that every entry trains and is evaluated, but its numbers say nothing about the refiners. The page of the full default experiment comes from \`node bin/segrefine.js bench\` then \`npx tsx scripts/comparison-page.ts runs/default\`.\n`
      : kind === 'custom'
        ? `> Generated from a custom experiment (\`${results.name}\`), not the built-in one.\n`
        : '';
  // The same warnings as the report's banner (an entry predicting one class, all entries tied).
  const warnings = comparabilityWarnings(results);
  const collapseNote = warnings.map((w) => `> **Warning:** ${w.message}\n`).join('>\n');
  const learned = inspectedRows(results);
  const lines = [
    '---',
    'title: Refiner comparison',
    'group: Results',
    '---',
    '',
    '# Refiners compared',
    '',
    `<!-- Generated by scripts/comparison-page.ts from ${basename(runDir)}/results.json (run started ${results.startedAt}). Do not edit: regenerate. -->`,
    '',
    notice,
    collapseNote,
    `Every refiner in segrefine trained and measured in one \`segrefine bench\` run of ${kind === 'default' ? 'the built-in experiment' : `the experiment \`${results.name}\``}, on the same data, backbone and budget (but for the entries that set their own, listed below). [Benchmarking](benchmarking.md) explains the protocols and the metrics.`,
    '',
    '## Reproduce',
    '',
    '```sh',
    'npm run build',
    `${runCommand}   # writes runs/${results.name}/`,
    `npx tsx scripts/comparison-page.ts runs/${results.name}   # writes this page`,
    '```',
    '',
    `This run: backend \`${results.backend}\`, segrefine ${results.versions.segrefine}, tfjs ${results.versions.tfjs}, Node ${results.versions.node}, seed ${results.seed}, ${minutes(results)} in all${results.complete ? '' : ' (**stopped early: partial results**)'}.`,
    `Data: ${d.kind}, ${d.trainSize} training and ${d.valSize} validation images${d.imageSize ? ` of ${d.imageSize[0]}×${d.imageSize[1]}` : ''}, ${d.classes.length} classes. Backbone \`${experiment.backbone.type}\` (${JSON.stringify(experiment.backbone)}); ${plural(experiment.train.epochs, 'epoch')} end to end, ${plural(experiment.train.refinerEpochs, 'refiner epoch')} on frozen or coarse scores, batch ${experiment.train.batchSize}, ${experiment.train.optimizer} at ${experiment.train.learningRate}.${ownBudgets(experiment)}`,
    '',
    '## Results',
    '',
    resultsTable(results),
    '',
    'mIoU, trimap IoU and boundary F in % on the validation split; Δ against the backbone alone (first row), or for `refine-coarse` entries against the coarse input; ms/image is the median inference time of the whole model per image on this backend; params count the whole model, refiner params the refiner (and neck) alone.',
    '',
    ...(learned.length === 0
      ? []
      : ['## What the refiners learned', '', '| Entry | Value | Per walk / level |', '|---|---|---|', ...learned.map((r) => `| ${cell(r.label)} | ${r.name} | ${r.values} |`), '', INSPECTED_NOTE, '']),
    '## Accuracy against speed',
    '',
    `![mIoU against ms/image](${media}/comparison-accuracy-speed.svg)`,
    '',
    '## Around boundaries',
    '',
    'Mean IoU of the pixels within a band of the given half-width around the true boundaries (the segmentation-aware paper\'s Fig. 7): where a refiner earns its keep, the curve rises above the baseline\'s at small widths.',
    '',
    `![trimap IoU against band half-width](${media}/comparison-trimap.svg)`,
    '',
    trimapTable(results),
    '',
    '## Per class',
    '',
    'IoU per class (%; – where a class is absent from both truth and prediction).',
    '',
    perClassTable(results),
    '',
  ];
  if (shown > 0) {
    lines.push('## What they predict', '', `${shown === 1 ? 'The first validation image' : `The first ${shown} validation images`}, the truth, and every entry's prediction (VOC colours; cream = void).`, '', `![predictions of every entry](${media}/comparison-panels.png)`, '');
  }
  writeFileSync(page, `${lines.join('\n')}`);
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
if (isMain) {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: string): string => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
  };
  const runDir = args.find((a, i) => !a.startsWith('--') && !['--out', '--media'].includes(args[i - 1] ?? '')) ?? join(repoRoot, 'runs', 'default');
  if (!existsSync(join(runDir, 'results.json'))) {
    console.error(`comparison-page: ${join(runDir, 'results.json')} does not exist; run \`node bin/segrefine.js bench\` first`);
    process.exit(1);
  }
  const page = flag('--out', join(repoRoot, 'docs', 'comparison.md'));
  await writeComparisonPage(runDir, page, flag('--media', join(repoRoot, 'docs', 'media')));
  console.log(`wrote ${relative(process.cwd(), page)} from ${runDir} (${experimentKind(JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')).experiment)} experiment)`);
}
