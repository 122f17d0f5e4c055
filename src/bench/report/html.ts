/**
 * `report.html`: the table, the charts (inline SVG) and the qualitative panels.
 * Self-contained but for the panel PNGs next to it.
 * @module
 */
import { comparabilityWarnings, type ComparabilityWarning } from '../comparability.js';
import type { BenchResults } from '../results.js';
import { formatParams, trimapAt } from './markdown.js';
import { PANEL_GAP } from './panels.js';
import { INSPECTED_NOTE, inspectedRows } from './inspected.js';

/** A panel PNG written for the report, with the caption of each tile. */
export interface PanelRef {
  /** Path relative to the report. */
  file: string;
  /** Validation sample id. */
  sampleId: string;
  /** Captions per row, one per tile, left to right (rows top to bottom). */
  captions: string[][];
  /** Width of one tile in the source data, px (tiles are equal). */
  tileWidth: number;
  /** Height of one tile in the source data, px. */
  tileHeight: number;
  /** Upscaling factor of the tiles in the PNG. */
  scale: number;
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const percent = (value: number): string => (Number.isFinite(value) ? (100 * value).toFixed(2) : '–');

function table(results: BenchResults): string {
  const rows = results.entries
    .map(
      (e) =>
        `<tr><td>${escape(e.label)}</td><td>${escape(e.neck ? `${e.neck} neck + ${e.refiner}` : e.refiner)}</td><td>${escape(e.backbone)}</td>` +
        `<td>${e.protocol}${e.trained ? '' : ' (eval only)'}</td><td class="n">${formatParams(e.params)}</td><td class="n">${e.msPerImage.toFixed(1)}</td>` +
        `<td class="n">${percent(e.meanIou)}</td><td class="n">${percent(trimapAt(e, 5))}</td><td class="n">${percent(e.boundaryF)}</td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr><th>Entry</th><th>Refiner</th><th>Backbone</th><th>Protocol</th><th>Params</th><th>ms/image</th><th>mIoU</th><th>trimap IoU@5</th><th>boundary F</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function inspectedTable(results: BenchResults): string {
  const rows = inspectedRows(results);
  if (rows.length === 0) return '';
  const body = rows.map((r) => `<tr><td>${escape(r.label)}</td><td>${escape(r.name)}</td><td class="n">${escape(r.values)}</td></tr>`).join('\n');
  return `<h2>What the refiners learned</h2>\n<table><thead><tr><th>Entry</th><th>Value</th><th>Per walk / level</th></tr></thead><tbody>\n${body}\n</tbody></table>\n<p>${escape(INSPECTED_NOTE)}</p>\n`;
}

function panel(ref: PanelRef): string {
  const scale = ref.scale;
  // Captions sit in a grid over the PNG's rows, so each names the tile below it.
  const column = ref.tileWidth * scale;
  const row = ref.tileHeight * scale;
  const rows = ref.captions
    .map((captions, r) => captions.map((c, i) => `<span style="left:${i * (column + PANEL_GAP)}px;top:${r * (row + PANEL_GAP)}px;width:${column}px">${escape(c)}</span>`).join(''))
    .join('');
  return `<figure class="panel"><figcaption>${escape(ref.sampleId)}</figcaption><div class="grid"><img src="${escape(ref.file)}" alt="panel for ${escape(ref.sampleId)}">${rows}</div></figure>`;
}

/**
 * The warnings as a visible box (`<div class="warnings" role="alert">`, one
 * paragraph each); the empty string when there are none.
 * @param warnings - from {@link comparabilityWarnings}
 */
export function htmlWarnings(warnings: readonly ComparabilityWarning[]): string {
  if (warnings.length === 0) return '';
  return `<div class="warnings" role="alert">\n${warnings.map((w) => `<p><strong>Warning:</strong> ${escape(w.message)}</p>`).join('\n')}\n</div>\n`;
}

/**
 * The whole report page (with a warning box under the title when the run
 * cannot compare its entries).
 * @param results - the run's results
 * @param charts - SVG strings: accuracy vs speed, trimap curves
 * @param panels - the panel PNGs
 */
export function htmlReport(results: BenchResults, charts: { accuracySpeed: string; trimap: string }, panels: readonly PanelRef[]): string {
  const d = results.dataset;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>segrefine bench: ${escape(results.name)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 12px 0; } th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; } .panel { margin: 12px 0; } .grid { position: relative; display: inline-block; } .grid span { position: absolute; font-size: 10px; background: rgba(255,255,255,0.8); overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.partial { color: #b00; font-weight: bold; }
.warnings { background: #fff4d6; border: 2px solid #e0a800; border-left-width: 8px; border-radius: 4px; padding: 4px 14px; margin: 12px 0; max-width: 60em; } .warnings p { margin: 8px 0; }
</style></head><body>
<h1>segrefine bench: ${escape(results.name)}</h1>
${htmlWarnings(comparabilityWarnings(results))}<p>${results.complete ? '' : '<span class="partial">Stopped early: partial results.</span> '}Backend <code>${escape(results.backend)}</code>, segrefine ${escape(results.versions.segrefine)}, tfjs ${escape(results.versions.tfjs)}, seed ${results.seed}.
Dataset: ${escape(d.kind)}, ${d.trainSize} train / ${d.valSize} val images, ${d.classes.length} classes (${d.classes.map(escape).join(', ')}).</p>
<h2>Results</h2>
${table(results)}
<p>mIoU, trimap IoU and boundary F in % on the validation split; ms/image is the median inference time of the whole model.</p>
${inspectedTable(results)}<h2>Charts</h2>
<div class="charts"><div id="chart-accuracy-speed">${charts.accuracySpeed}</div><div id="chart-trimap">${charts.trimap}</div></div>
<h2>Qualitative results</h2>
${panels.map(panel).join('\n')}
</body></html>
`;
}
