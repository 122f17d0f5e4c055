// Hand-made BenchResults for the report and comparability tests: three
// classes (background, ring, fork) over 1000 validation pixels, 70/20/10 %.
import type { BenchResults, EntryResult } from '../../src/bench/results.js';

/** A plausible entry that predicts every class; `extra` overrides fields. */
export function entry(label: string, meanIou: number, extra: Partial<EntryResult> = {}): EntryResult {
  return {
    label,
    protocol: 'refine-frozen',
    backbone: 'fcn',
    refiner: 'spn',
    trained: true,
    params: 1000,
    refinerParams: 40,
    msPerImage: 2.5,
    trainSeconds: 3,
    losses: [1, 0.5],
    meanIou,
    pixelAccuracy: 0.9,
    perClassIou: [0.9, meanIou, 2 * meanIou - 0.9 > 0 ? 2 * meanIou - 0.9 : 0.1],
    predictedPixels: [690, 200, 110],
    trimap: [
      { radius: 1, meanIou: meanIou - 0.2 },
      { radius: 5, meanIou: meanIou - 0.1 },
    ],
    boundaryF: 0.3,
    ...extra,
  };
}

/**
 * An entry that predicts 'background' on every pixel: IoU 0.7 (= its share
 * of the pixels = the pixel accuracy) for background, 0 for the others.
 */
export function backgroundOnly(label: string, extra: Partial<EntryResult> = {}): EntryResult {
  return entry(label, 0.7 / 3, { pixelAccuracy: 0.7, perClassIou: [0.7, 0, 0], predictedPixels: [1000, 0, 0], ...extra });
}

/** A complete run holding `entries`. */
export function results(entries: EntryResult[]): BenchResults {
  return {
    name: 'fake',
    seed: 1,
    experiment: {},
    backend: 'wasm',
    versions: { segrefine: '0.1.0', tfjs: '4.22.0', node: 'v20' },
    dataset: { kind: 'synthetic scenes', trainSize: 16, valSize: 8, imageSize: [32, 32], classes: ['background', 'ring', 'fork'] },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:03:00.000Z',
    complete: true,
    entries,
  };
}
