/**
 * Report charts as vega-lite specs rendered to SVG on the server (no browser
 * needed to write the report; the HTML embeds the SVG).
 * @module
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchResults, EntryResult } from '../results.js';

/** Colours of entries 0–9, repeated for entries 10–19 and so on (Tableau 10). */
const COLOURS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
/** Point shapes, cycled (8 shapes × 10 colours: a distinct pair for up to 40 entries). */
const SHAPES = ['circle', 'square', 'diamond', 'triangle-up', 'cross', 'triangle-down', 'triangle-right', 'triangle-left'];
/** Line dashes of entries 0–9, 10–19, 20–29, …: colour and dash together tell up to 50 lines apart. */
const DASHES = [[1, 0], [7, 4], [2, 3], [10, 3, 2, 3], [4, 4, 1, 4]];
/** Longest label shown whole in legends and on the bar chart's axis, px. */
const LABEL_LIMIT = 360;

/** An ordinal scale from entry labels to colours, shapes or dashes. */
interface EntryScale<T> {
  domain: string[];
  range: T[];
}

/** The entries' labels in run order (each once): the shared domain of every entry scale. */
function entryDomain(results: BenchResults): string[] {
  return [...new Set(results.entries.map((e) => e.label))];
}

/**
 * Scales giving every entry the same colour, point shape and dash in every
 * chart: colour `i mod 10`, shape `i mod 8`, dash `⌊i / 10⌋`.
 */
function entryScales(results: BenchResults): { domain: string[]; colour: EntryScale<string>; shape: EntryScale<string>; dash: EntryScale<number[]> } {
  const domain = entryDomain(results);
  const pick = <T>(list: readonly T[], index: (i: number) => number): T[] => domain.map((_, i) => list[index(i) % list.length]!);
  return {
    domain,
    colour: { domain, range: pick(COLOURS, (i) => i) },
    shape: { domain, range: pick(SHAPES, (i) => i) },
    dash: { domain, range: pick(DASHES, (i) => Math.floor(i / 10)) },
  };
}

/** The legend naming the entries (labels not cut short, none dropped). */
function entryLegend(count: number): { title: string; labelLimit: number; symbolLimit: number; orient: 'right' } {
  return { title: 'entry', labelLimit: LABEL_LIMIT, symbolLimit: count + 1, orient: 'right' };
}

/**
 * Accuracy and speed, as two charts stacked: mIoU (%) per entry as
 * horizontal bars, best first, labelled on the axis (every entry readable
 * however many there are); then mIoU against ms/image, one point per entry,
 * told apart by colour and shape and named in the legend (no text next to
 * the points, so nothing overlaps).
 * @param results - a bench run's results
 */
export function accuracySpeedSpec(results: BenchResults): TopLevelSpec {
  const values = results.entries.map((e) => ({ entry: e.label, ms: e.msPerImage, miou: 100 * e.meanIou }));
  const scales = entryScales(results);
  // Best first; entries without a finite mIoU last.
  const score = (e: EntryResult): number => (Number.isFinite(e.meanIou) ? e.meanIou : -Infinity);
  const best = [...new Set([...results.entries].sort((a, b) => score(b) - score(a)).map((e) => e.label))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values },
    spacing: 28,
    vconcat: [
      {
        title: 'mIoU per entry (best first)',
        width: 420,
        height: { step: 20 },
        encoding: {
          y: { field: 'entry', type: 'nominal', sort: best, title: null, axis: { labelLimit: LABEL_LIMIT, labelFontSize: 11 } },
          x: { field: 'miou', type: 'quantitative', title: 'mIoU (%)', scale: { zero: true } },
        },
        layer: [
          { mark: { type: 'bar', height: { band: 0.75 } }, encoding: { color: { field: 'entry', type: 'nominal', scale: scales.colour, legend: entryLegend(scales.domain.length) } } },
          { mark: { type: 'text', align: 'left', baseline: 'middle', dx: 4, fontSize: 10 }, encoding: { text: { field: 'miou', type: 'quantitative', format: '.2f' } } },
        ],
      },
      {
        title: 'mIoU vs inference time',
        width: 420,
        height: 280,
        mark: { type: 'point', filled: true, size: 90, opacity: 0.8 },
        encoding: {
          x: { field: 'ms', type: 'quantitative', title: 'ms / image', scale: { zero: false, padding: 12 } },
          y: { field: 'miou', type: 'quantitative', title: 'mIoU (%)', scale: { zero: false, padding: 12 } },
          color: { field: 'entry', type: 'nominal', scale: scales.colour, legend: entryLegend(scales.domain.length) },
          shape: { field: 'entry', type: 'nominal', scale: scales.shape, legend: entryLegend(scales.domain.length) },
          tooltip: [{ field: 'entry' }, { field: 'ms', format: '.1f' }, { field: 'miou', format: '.2f' }],
        },
      },
    ],
  };
}

/**
 * Trimap mean IoU (%) against band half-width, one line per entry
 * (segmentation-aware paper, Fig. 7), named in the legend. Colours repeat
 * after 10 entries, so from the 11th entry on lines also differ in dash and
 * their points in shape.
 * @param results - a bench run's results
 */
export function trimapSpec(results: BenchResults): TopLevelSpec {
  const values = results.entries.flatMap((e) => e.trimap.map((p) => ({ entry: e.label, radius: p.radius, miou: 100 * p.meanIou })));
  const scales = entryScales(results);
  const many = scales.domain.length > COLOURS.length;
  // A line sample in the legend shows both the colour and the dash.
  const legend = { ...entryLegend(scales.domain.length), symbolType: 'stroke' as const, symbolStrokeWidth: 2.5, symbolSize: 500 };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Trimap IoU around object boundaries',
    width: 420,
    height: 300,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.8, point: { size: many ? 36 : 20, filled: true } },
    encoding: {
      x: { field: 'radius', type: 'quantitative', title: 'trimap half-width (px)' },
      y: { field: 'miou', type: 'quantitative', title: 'mean IoU (%)', scale: { zero: false } },
      color: { field: 'entry', type: 'nominal', scale: scales.colour, legend },
      ...(many ? { strokeDash: { field: 'entry', type: 'nominal', scale: scales.dash, legend } } : {}),
    },
  };
}

/**
 * Renders a vega-lite spec to a standalone SVG string.
 * @param spec - a vega-lite top-level spec with inline data
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
