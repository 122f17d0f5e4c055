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

/** Median over rounds of a / b, each pair from the same round (robust to load that drifts between rounds). */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

/**
 * How a timing waits for its results: `read-all` copies every output into
 * JavaScript (what a caller that reads the values pays), `read-one` reads
 * one element of each (enough to wait for an asynchronous backend; on a
 * synchronous one the op is done when it returns), for ops whose outputs
 * are large gradients that stay on the backend.
 */
export type SyncMode = 'read-all' | 'read-one';

/** Waits for `t` by reading its first element. */
async function readFirstElement(t: tf.Tensor): Promise<void> {
  const first = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), 0, Math.min(1, t.size)));
  await first.data();
  first.dispose();
}

/**
 * Wall time of one call of `fn` in ms. `fn` must return a tensor (or
 * tensors) whose data is awaited, so asynchronous backends are timed
 * honestly; results are disposed.
 */
export async function timeOnce(fn: () => tf.TensorContainer, sync: SyncMode = 'read-all'): Promise<number> {
  const start = performance.now();
  const tensors = tensorsIn(fn());
  if (sync === 'read-all') await Promise.all(tensors.map((t) => t.data()));
  else await Promise.all(tensors.map(readFirstElement));
  const elapsed = performance.now() - start;
  tf.dispose(tensors);
  return elapsed;
}

/** Median wall time of `fn` in ms (see {@link timeOnce}), after `warmup` calls. */
export async function timeMedian(fn: () => tf.TensorContainer, options: { warmup?: number; reps?: number; sync?: SyncMode } = {}): Promise<number> {
  for (let i = 0; i < (options.warmup ?? 1); i++) await timeOnce(fn, options.sync);
  const times: number[] = [];
  for (let i = 0; i < (options.reps ?? 5); i++) times.push(await timeOnce(fn, options.sync));
  return median(times);
}

/**
 * Runs every variant once per round, after one warm-up round, so load that
 * drifts over the run hits all variants alike; times in ms per variant, one
 * per round. `references` (e.g. PyTorch calls, which report their own ms)
 * run in the same rounds, after the variants.
 */
export async function interleaved(
  variants: Record<string, () => tf.TensorContainer>,
  count: number,
  references: Record<string, () => Promise<number>> = {},
): Promise<Record<string, number[]>> {
  const times: Record<string, number[]> = {};
  for (let round = 0; round <= count; round++) {
    for (const [name, fn] of Object.entries(variants)) {
      const ms = await timeOnce(fn);
      if (round > 0) (times[name] ??= []).push(ms);
    }
    for (const [name, fn] of Object.entries(references)) {
      const ms = await fn();
      if (round > 0) (times[name] ??= []).push(ms);
    }
  }
  return times;
}

/** Threads the current tfjs backend computes on: wasm's pool (1 when it runs unthreaded), else 1. */
export async function backendThreads(): Promise<number> {
  if (tf.getBackend() !== 'wasm') return 1;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  return wasm.getThreadsCount();
}

/** Peak tensor bytes while `fn` runs (see `peakTensorBytes` in `segrefine/testing`). */
export const peakBytes = peakTensorBytes;

