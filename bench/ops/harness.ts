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
    const tensors = collect(out);
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

/**
 * Peak `tf.memory().numBytes` above the starting level while `fn` runs,
 * sampled after every kernel through the engine's tensor tracking.
 */
export async function peakBytes(fn: () => tf.TensorContainer): Promise<number> {
  const engine = tf.engine() as unknown as { trackTensor: (...args: unknown[]) => void };
  const original = engine.trackTensor;
  const base = tf.memory().numBytes;
  let peak = base;
  engine.trackTensor = function track(this: unknown, ...args: unknown[]) {
    original.apply(this, args);
    const now = tf.memory().numBytes;
    if (now > peak) peak = now;
  };
  try {
    const out = fn();
    const tensors = collect(out);
    await Promise.all(tensors.map((t) => t.data()));
    tf.dispose(tensors);
  } finally {
    engine.trackTensor = original;
  }
  return peak - base;
}

function collect(value: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (value instanceof tf.Tensor) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => collect(v, out));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((v) => collect(v, out));
  return out;
}
