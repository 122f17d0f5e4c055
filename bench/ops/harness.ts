/**
 * Shared measurement tools for `npm run bench:ops`. Timings on shared
 * machines are noisy: report medians, and compare paths within one run.
 */
import * as tf from '@tensorflow/tfjs';

/** One row of a benchmark table: column name → value. */
export type BenchRow = Record<string, number | string>;

/** A benchmark case; `run` returns its rows (it may return several). */
export interface OpBenchCase {
  /** Table the rows go to, e.g. `spn`, `random-walk`. */
  group: string;
  /** What the case measures (for progress output). */
  name: string;
  /** Measures and returns rows. */
  run(): Promise<BenchRow[]>;
}

import { median } from '../../src/bench/stats.js';
import { peakTensorBytes, tensorsIn } from '../../src/testing/peak_memory.js';

export { median };

/**
 * Median wall time of `fn` in ms. `fn` must return a tensor (or tensors)
 * whose data is awaited, so asynchronous backends are timed honestly; results
 * are disposed.
 */
export async function timeMedian(fn: () => tf.TensorContainer, options: { warmup?: number; reps?: number } = {}): Promise<number> {
  const once = async (): Promise<number> => {
    const start = performance.now();
    const out = fn();
    const tensors = tensorsIn(out);
    await Promise.all(tensors.map((t) => t.data()));
    const elapsed = performance.now() - start;
    tf.dispose(tensors);
    return elapsed;
  };
  for (let i = 0; i < (options.warmup ?? 1); i++) await once();
  const times: number[] = [];
  for (let i = 0; i < (options.reps ?? 5); i++) times.push(await once());
  return median(times);
}

/** Peak tensor bytes while `fn` runs (see `peakTensorBytes` in `segrefine/testing`). */
export const peakBytes = peakTensorBytes;

