/**
 * Report charts as vega-lite specs rendered to SVG on the server (no browser
 * needed to write the report; the HTML embeds the SVG).
 * @module
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchResults } from '../results.js';

/** mIoU (%) against ms/image, one labelled point per entry. */
export function accuracySpeedSpec(results: BenchResults): TopLevelSpec {
  const values = results.entries.map((e) => ({ entry: e.label, ms: e.msPerImage, miou: 100 * e.meanIou }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'mIoU vs inference time',
    width: 420,
    height: 280,
    data: { values },
    layer: [
      {
        mark: { type: 'point', filled: true, size: 80 },
        encoding: {
          x: { field: 'ms', type: 'quantitative', title: 'ms / image', scale: { zero: false } },
          y: { field: 'miou', type: 'quantitative', title: 'mIoU (%)', scale: { zero: false } },
          color: { field: 'entry', type: 'nominal', legend: null },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 7, fontSize: 11 },
        encoding: {
          x: { field: 'ms', type: 'quantitative' },
          y: { field: 'miou', type: 'quantitative' },
          text: { field: 'entry', type: 'nominal' },
        },
      },
    ],
  };
}

/** Trimap mean IoU (%) against band half-width, one line per entry (segmentation-aware paper, Fig. 7). */
export function trimapSpec(results: BenchResults): TopLevelSpec {
  const values = results.entries.flatMap((e) => e.trimap.map((p) => ({ entry: e.label, radius: p.radius, miou: 100 * p.meanIou })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Trimap IoU around object boundaries',
    width: 420,
    height: 280,
    data: { values },
    mark: { type: 'line', point: { size: 20 } },
    encoding: {
      x: { field: 'radius', type: 'quantitative', title: 'trimap half-width (px)' },
      y: { field: 'miou', type: 'quantitative', title: 'mean IoU (%)', scale: { zero: false } },
      color: { field: 'entry', type: 'nominal', title: 'entry' },
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
