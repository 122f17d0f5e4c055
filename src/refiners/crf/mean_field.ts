/**
 * Mean-field inference of the fully connected CRF over typed arrays, with
 * densecrf v2's semantics:
 *
 * ```text
 * Q⁰ = softmax(−U);   Qᵗ⁺¹ = softmax(−U + Σ_k w_k · K̃_k Qᵗ)
 * ```
 *
 * where K̃_k is the lattice Gaussian of kernel k normalised with n = K·1
 * (symmetric n^-½ K n^-½, after K/n, none K) and w_k its Potts weight (Potts
 * `−w·[l ≠ l']` equals `+w·[l = l']` up to a per-pixel constant that the
 * softmax ignores).
 *
 * Speed: all kernels' lattice vertices live in one buffer pair (rows of M
 * labels), so each pixel has one list of (row, slice weight, splat weight)
 * entries — d+1 per kernel — with the normalisation, α and w_k folded into
 * the weights once (`merged_kernels.ts`). Per iteration every lattice is
 * blurred in place, then one pass over the pixels slices, adds the unary,
 * takes the softmax and splats the new Q straight into the other buffer for
 * the next iteration.
 *
 * Two implementations of the same iterations: WebAssembly SIMD kernels
 * (`mean_field_wasm.ts`, float32, the default wherever WebAssembly SIMD
 * compiles) and the TypeScript below (float64 accumulators; the fallback and
 * the reference the kernels are tested against). The environment variable
 * `SEGREFINE_CRF_KERNEL=js|wasm` forces one (for benchmarks and debugging).
 * @module
 * @internal
 */
import { forcedCrfImplementation, type CrfImplementation } from './implementation.js';
import { mergeKernels, unaryValues, type MeanFieldKernel, type MeanFieldUnary } from './merged_kernels.js';
import { meanFieldWasm, meanFieldWasmAvailable } from './mean_field_wasm.js';
import { blurChains } from './permutohedral.js';

export type { ClippedProbabilities, MeanFieldKernel, MeanFieldUnary } from './merged_kernels.js';

/** Output of {@link meanField}. */
export interface MeanFieldResult {
  /** Marginals Q, `[N, M]`, label fastest. */
  readonly q: Float32Array;
  /** The last iteration's softmax argument (−U + messages), `[N, M]`: logits of Q. */
  readonly logits: Float32Array;
}

/**
 * acc += Σ_e weights[e] · values[rows[e] + m] over one pixel's entries
 * [first, end): eight labels at a time in locals, then four, then one (plain
 * JS has no SIMD; locals keep the accumulators in registers).
 */
function gather(acc: Float64Array, values: Float32Array, rows: Int32Array, weights: Float32Array, first: number, end: number, labels: number): void {
  let m = 0;
  for (; m + 8 <= labels; m += 8) {
    let a0 = acc[m]!;
    let a1 = acc[m + 1]!;
    let a2 = acc[m + 2]!;
    let a3 = acc[m + 3]!;
    let a4 = acc[m + 4]!;
    let a5 = acc[m + 5]!;
    let a6 = acc[m + 6]!;
    let a7 = acc[m + 7]!;
    for (let e = first; e < end; e++) {
      const r = rows[e]! + m;
      const w = weights[e]!;
      a0 += w * values[r]!;
      a1 += w * values[r + 1]!;
      a2 += w * values[r + 2]!;
      a3 += w * values[r + 3]!;
      a4 += w * values[r + 4]!;
      a5 += w * values[r + 5]!;
      a6 += w * values[r + 6]!;
      a7 += w * values[r + 7]!;
    }
    acc[m] = a0;
    acc[m + 1] = a1;
    acc[m + 2] = a2;
    acc[m + 3] = a3;
    acc[m + 4] = a4;
    acc[m + 5] = a5;
    acc[m + 6] = a6;
    acc[m + 7] = a7;
  }
  for (; m + 4 <= labels; m += 4) {
    let a0 = acc[m]!;
    let a1 = acc[m + 1]!;
    let a2 = acc[m + 2]!;
    let a3 = acc[m + 3]!;
    for (let e = first; e < end; e++) {
      const r = rows[e]! + m;
      const w = weights[e]!;
      a0 += w * values[r]!;
      a1 += w * values[r + 1]!;
      a2 += w * values[r + 2]!;
      a3 += w * values[r + 3]!;
    }
    acc[m] = a0;
    acc[m + 1] = a1;
    acc[m + 2] = a2;
    acc[m + 3] = a3;
  }
  for (; m < labels; m++) {
    let a = acc[m]!;
    for (let e = first; e < end; e++) a += weights[e]! * values[rows[e]! + m]!;
    acc[m] = a;
  }
}

/** values[rows[e] + m] += scale · weights[e] · q[m] over one pixel's entries, eight/four/one labels at a time. */
function scatter(values: Float32Array, rows: Int32Array, weights: Float32Array, first: number, end: number, q: Float64Array, scale: number, labels: number): void {
  let m = 0;
  for (; m + 8 <= labels; m += 8) {
    const q0 = q[m]!;
    const q1 = q[m + 1]!;
    const q2 = q[m + 2]!;
    const q3 = q[m + 3]!;
    const q4 = q[m + 4]!;
    const q5 = q[m + 5]!;
    const q6 = q[m + 6]!;
    const q7 = q[m + 7]!;
    for (let e = first; e < end; e++) {
      const r = rows[e]! + m;
      const w = weights[e]! * scale;
      values[r] += w * q0;
      values[r + 1] += w * q1;
      values[r + 2] += w * q2;
      values[r + 3] += w * q3;
      values[r + 4] += w * q4;
      values[r + 5] += w * q5;
      values[r + 6] += w * q6;
      values[r + 7] += w * q7;
    }
  }
  for (; m + 4 <= labels; m += 4) {
    const q0 = q[m]!;
    const q1 = q[m + 1]!;
    const q2 = q[m + 2]!;
    const q3 = q[m + 3]!;
    for (let e = first; e < end; e++) {
      const r = rows[e]! + m;
      const w = weights[e]! * scale;
      values[r] += w * q0;
      values[r + 1] += w * q1;
      values[r + 2] += w * q2;
      values[r + 3] += w * q3;
    }
  }
  for (; m < labels; m++) {
    const qm = q[m]!;
    for (let e = first; e < end; e++) values[rows[e]! + m] += weights[e]! * scale * qm;
  }
}

/** 2^(j/32), j = 0 … 31. */
const EXP_TABLE = Float64Array.from({ length: 32 }, (_, j) => Math.pow(2, j / 32));
/** 2^−k, k = 0 … 159. */
const EXP_SCALE = Float64Array.from({ length: 160 }, (_, k) => Math.pow(2, -k));
/** 1.5·2⁵²: adding and subtracting it rounds a double to the nearest integer. */
const ROUNDER = 6755399441055744;

/**
 * e^x for x ≤ 0, about twice as fast as `Math.exp` in V8 (which is a call
 * into C++): x = (n/32)·ln 2 + r with |r| ≤ ln2/64, e^x = 2^(n/32)·e^r, e^r by a
 * degree-4 polynomial. Relative error < 2e-12; 0 below −103, where e^x is
 * under float32's smallest subnormal and Q stores 0 anyway.
 */
function expNonPositive(x: number): number {
  if (x < -103) return 0;
  const n = x * (32 / Math.LN2) + ROUNDER - ROUNDER;
  const r = x - n * (Math.LN2 / 32);
  const k = n | 0;
  const poly = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24))));
  return EXP_SCALE[-(k >> 5)]! * EXP_TABLE[k & 31]! * poly;
}

/**
 * Writes the unnormalised softmax exp(acc − max) to `e` and returns 1/Σe
 * (the normalisation is folded into whatever reads `e`).
 */
function expRow(acc: Float64Array, e: Float64Array, labels: number): number {
  let max = acc[0]!;
  for (let m = 1; m < labels; m++) if (acc[m]! > max) max = acc[m]!;
  let sum = 0;
  for (let m = 0; m < labels; m++) {
    const v = expNonPositive(acc[m]! - max);
    e[m] = v;
    sum += v;
  }
  return 1 / sum;
}

/** Which implementation runs the iterations. */
export type MeanFieldImplementation = CrfImplementation;

/**
 * The implementation {@link meanField} picks when none is given:
 * `SEGREFINE_CRF_KERNEL` if set to `js` or `wasm`, else `wasm` when
 * WebAssembly SIMD compiles here, else `js`.
 */
export function defaultMeanFieldImplementation(): MeanFieldImplementation {
  return forcedCrfImplementation() ?? (meanFieldWasmAvailable() ? 'wasm' : 'js');
}

/**
 * Runs `iterations` mean-field updates.
 * @param unary - U = −log p, `[N, M]`, label fastest, or p and its clip
 * @param pointCount - N
 * @param labels - M
 * @param kernels - the pairwise terms (lattices over the same N points)
 * @param iterations - number of updates (0 returns softmax(−U))
 * @param implementation - force one implementation (a forced `wasm` that
 *   cannot run throws); by default {@link defaultMeanFieldImplementation},
 *   falling back to `js` when the wasm memory cannot be allocated
 */
export function meanField(
  unary: MeanFieldUnary,
  pointCount: number,
  labels: number,
  kernels: readonly MeanFieldKernel[],
  iterations: number,
  implementation?: MeanFieldImplementation,
): MeanFieldResult {
  if ((implementation ?? defaultMeanFieldImplementation()) === 'wasm') {
    const result = meanFieldWasm(unary, pointCount, labels, kernels, iterations);
    if (result !== null) return result;
    if (implementation === 'wasm') throw new Error('meanField: the WebAssembly SIMD kernels cannot run here (no SIMD, or not enough memory)');
  }
  return meanFieldJs(unaryValues(unary), pointCount, labels, kernels, iterations);
}

/** The TypeScript implementation of {@link meanField}. */
function meanFieldJs(unary: Float32Array, pointCount: number, labels: number, kernels: readonly MeanFieldKernel[], iterations: number): MeanFieldResult {
  const q = new Float32Array(pointCount * labels);
  const logits = new Float32Array(pointCount * labels);
  const acc = new Float64Array(labels);
  const row = new Float64Array(labels);
  const merged = mergeKernels(kernels, pointCount, labels);
  const { entries, rows, splatWeights, sliceWeights } = merged;
  let current = new Float32Array(merged.vertexRows * labels);
  let next = new Float32Array(merged.vertexRows * labels);
  const splatAll = iterations > 0 && entries > 0;

  // Q⁰ = softmax(−U): the output when there are no iterations, else splatted.
  for (let i = 0; i < pointCount; i++) {
    const base = i * labels;
    for (let m = 0; m < labels; m++) acc[m] = -unary[base + m]!;
    const inverse = expRow(acc, row, labels);
    if (splatAll) {
      scatter(current, rows, splatWeights, i * entries, (i + 1) * entries, row, inverse, labels);
    } else {
      for (let m = 0; m < labels; m++) {
        q[base + m] = row[m]! * inverse;
        logits[base + m] = acc[m]!;
      }
    }
  }

  for (let it = 0; it < iterations; it++) {
    const last = it === iterations - 1;
    for (const chains of merged.chains) blurChains(current, labels, chains);
    if (!last) next.fill(0);
    for (let i = 0; i < pointCount; i++) {
      const base = i * labels;
      for (let m = 0; m < labels; m++) acc[m] = -unary[base + m]!;
      const first = i * entries;
      const end = first + entries;
      gather(acc, current, rows, sliceWeights, first, end, labels);
      const inverse = expRow(acc, row, labels);
      if (last) {
        for (let m = 0; m < labels; m++) {
          q[base + m] = row[m]! * inverse;
          logits[base + m] = acc[m]!;
        }
      } else {
        scatter(next, rows, splatWeights, first, end, row, inverse, labels);
      }
    }
    const swap = current;
    current = next;
    next = swap;
  }
  return { q, logits };
}
