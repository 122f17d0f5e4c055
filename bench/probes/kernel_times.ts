/**
 * Per-kernel wall times for the probes: wraps `engine.runKernel` so every
 * tfjs kernel call is timed by name. A kernel segrefine composes from other
 * ops (e.g. its wasm `Conv2DBackpropInput`) counts its inner kernels too, so
 * the per-kernel times can sum to more than the wall time.
 */
import * as tf from '@tensorflow/tfjs';

/** Calls and total milliseconds per kernel name. */
export type KernelTimes = Map<string, { n: number; ms: number }>;

/** Starts timing every kernel call from now on; returns the (live) totals. */
export function recordKernelTimes(): KernelTimes {
  const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
  const original = engine.runKernel.bind(engine);
  const stats: KernelTimes = new Map();
  engine.runKernel = (name: string, ...rest: unknown[]) => {
    const start = performance.now();
    const out = original(name, ...rest);
    const entry = stats.get(name) ?? { n: 0, ms: 0 };
    entry.n++;
    entry.ms += performance.now() - start;
    stats.set(name, entry);
    return out;
  };
  return stats;
}

/** Sum of every kernel's milliseconds. */
export function kernelTotal(stats: KernelTimes): number {
  return [...stats.values()].reduce((sum, e) => sum + e.ms, 0);
}

/**
 * The `top` costliest kernels as table lines, per run.
 * @param stats - from {@link recordKernelTimes}
 * @param runs - how many runs the totals cover
 * @param wallMs - one run's wall time (for the share column)
 * @param top - how many lines
 */
export function kernelLines(stats: KernelTimes, runs: number, wallMs: number, top = 15): string[] {
  return [...stats.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, top)
    .map(([name, e]) => `  ${name.padEnd(24)} ${(e.ms / runs).toFixed(1).padStart(8)} ms  ${(e.n / runs).toFixed(0).padStart(4)} calls  ${((100 * e.ms) / runs / wallMs).toFixed(1)} %`);
}
