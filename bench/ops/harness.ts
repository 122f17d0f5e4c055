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
 * Wall time of one call of `fn` in ms. `fn` must return a tensor (or
 * tensors) whose data is awaited, so asynchronous backends are timed
 * honestly; results are disposed.
 */
export async function timeOnce(fn: () => tf.TensorContainer): Promise<number> {
  const start = performance.now();
  const tensors = tensorsIn(fn());
  await Promise.all(tensors.map((t) => t.data()));
  const elapsed = performance.now() - start;
  tf.dispose(tensors);
  return elapsed;
}

/** Median wall time of `fn` in ms (see {@link timeOnce}), after `warmup` calls. */
export async function timeMedian(fn: () => tf.TensorContainer, options: { warmup?: number; reps?: number } = {}): Promise<number> {
  for (let i = 0; i < (options.warmup ?? 1); i++) await timeOnce(fn);
  const times: number[] = [];
  for (let i = 0; i < (options.reps ?? 5); i++) times.push(await timeOnce(fn));
  return median(times);
}

/**
 * Runs every variant once per round, after one warm-up round, so load that
 * drifts over the run hits all variants alike; times in ms per variant, one
 * per round.
 */
export async function interleaved(variants: Record<string, () => tf.TensorContainer>, count: number): Promise<Record<string, number[]>> {
  const times: Record<string, number[]> = {};
  for (let round = 0; round <= count; round++) {
    for (const [name, fn] of Object.entries(variants)) {
      const ms = await timeOnce(fn);
      if (round > 0) (times[name] ??= []).push(ms);
    }
  }
  return times;
}

/** Peak tensor bytes while `fn` runs (see `peakTensorBytes` in `segrefine/testing`). */
export const peakBytes = peakTensorBytes;

