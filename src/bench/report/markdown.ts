/**
 * `report.md`: the results table in the style of mmsegmentation's model zoo.
 * @module
 */
import { comparabilityWarnings, type ComparabilityWarning } from '../comparability.js';
import type { BenchResults, EntryResult } from '../results.js';
import { INSPECTED_NOTE, inspectedRows } from './inspected.js';

/** Trimap mean IoU at a band half-width (NaN if it was not measured). */
export function trimapAt(entry: EntryResult, radius: number): number {
  return entry.trimap.find((p) => p.radius === radius)?.meanIou ?? Number.NaN;
}

const percent = (value: number): string => (Number.isFinite(value) ? (100 * value).toFixed(2) : '–');

/** Parameter count as `1.23 M` / `45.6 k`. */
export function formatParams(count: number): string {
  if (count >= 1e6) return `${(count / 1e6).toFixed(2)} M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)} k`;
  return String(count);
}

/**
 * The results table: refiner, backbone, params, ms/image, mIoU, trimap IoU@5, boundary F.
 * @param results - a bench run's results
 */
export function resultsTable(results: BenchResults): string {
  const header = '| Entry | Refiner | Backbone | Protocol | Params | ms/image | mIoU | trimap IoU@5 | boundary F |';
  const rule = '|---|---|---|---|---:|---:|---:|---:|---:|';
  const rows = results.entries.map((e) => {
    const refiner = e.neck ? `${e.neck} neck + ${e.refiner}` : e.refiner;
    return `| ${e.label} | ${refiner} | ${e.backbone} | ${e.protocol}${e.trained ? '' : ' (eval only)'} | ${formatParams(e.params)} | ${e.msPerImage.toFixed(1)} | ${percent(e.meanIou)} | ${percent(trimapAt(e, 5))} | ${percent(e.boundaryF)} |`;
  });
  return [header, rule, ...rows].join('\n');
}

/**
 * The warnings as one blockquote, a `**Warning:**` paragraph each, followed
 * by a blank line; the empty string when there are none.
 * @param warnings - from {@link comparabilityWarnings}
 */
export function markdownWarnings(warnings: readonly ComparabilityWarning[]): string {
  if (warnings.length === 0) return '';
  return `${warnings.map((w) => `> **Warning:** ${w.message}`).join('\n>\n')}\n\n`;
}

/**
 * The whole `report.md` (with a warning blockquote at the top when the run
 * cannot compare its entries).
 * @param results - a bench run's results
 */
export function markdownReport(results: BenchResults): string {
  const d = results.dataset;
  return [
    `# segrefine bench: ${results.name}`,
    '',
    `${markdownWarnings(comparabilityWarnings(results))}${results.complete ? '' : '**Stopped early: partial results.** '}Backend \`${results.backend}\`, segrefine ${results.versions.segrefine}, tfjs ${results.versions.tfjs}, Node ${results.versions.node}, seed ${results.seed}.`,
    `Dataset: ${d.kind}, ${d.trainSize} train / ${d.valSize} val images${d.imageSize ? ` of ${d.imageSize[0]}×${d.imageSize[1]}` : ''}, ${d.classes.length} classes.`,
    '',
    resultsTable(results),
    '',
    'mIoU, trimap IoU and boundary F in %, on the validation split (VOC convention: confusion matrix over the split, 255 ignored).',
    'ms/image: median inference time of the whole model per image. Trimap IoU@5: mean IoU of the pixels within 5 px of a true boundary.',
    '',
    inspectedSection(results),
  ].join('\n');
}

/** The learned-values section, or nothing when no refiner reported any. */
function inspectedSection(results: BenchResults): string {
  const rows = inspectedRows(results);
  if (rows.length === 0) return '';
  return ['## What the refiners learned', '', '| Entry | Value | Per walk / level |', '|---|---|---|', ...rows.map((r) => `| ${r.label} | ${r.name} | ${r.values} |`), '', INSPECTED_NOTE, ''].join('\n');
}
