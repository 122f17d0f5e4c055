/**
 * Tensor comparison for tests: a readable failure that says where and by how much.
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** Tolerances for {@link expectTensorClose}: passes when |a − e| ≤ atol + rtol·|e|. */
export interface CloseOptions {
  /** Absolute tolerance. @defaultValue 1e-5 */
  atol?: number;
  /** Relative tolerance. @defaultValue 1e-5 */
  rtol?: number;
}

/** What {@link expectTensorClose} compares: a tensor, a number or (nested) arrays. */
export type Numeric = tf.Tensor | number | ArrayLike<number> | number[][] | number[][][] | number[][][][];

function flatten(value: Numeric): { data: Float64Array; shape: number[] | undefined } {
  if (value instanceof tf.Tensor) return { data: Float64Array.from(value.dataSync()), shape: value.shape };
  if (typeof value === 'number') return { data: Float64Array.of(value), shape: [] };
  const flat = (value as unknown as unknown[]).flat(Infinity as 1) as number[];
  return { data: Float64Array.from(flat), shape: undefined };
}

/**
 * Throws unless `actual` and `expected` have the same shape (when both are
 * tensors) and every element is within tolerance. NaN never matches.
 * @param actual - the value under test
 * @param expected - the reference (tensor, number, or nested arrays)
 * @param options - tolerances
 */
export function expectTensorClose(actual: Numeric, expected: Numeric, options: CloseOptions = {}): void {
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-5;
  const a = flatten(actual);
  const e = flatten(expected);
  if (a.shape && e.shape && (a.shape.length !== e.shape.length || a.shape.some((d, i) => d !== e.shape![i]))) {
    throw new Error(`expectTensorClose: shape [${a.shape.join(', ')}] differs from expected [${e.shape.join(', ')}]`);
  }
  if (a.data.length !== e.data.length) {
    throw new Error(`expectTensorClose: ${a.data.length} elements, expected ${e.data.length}`);
  }
  let worst = -1;
  let worstExcess = 0;
  let failures = 0;
  for (let i = 0; i < a.data.length; i++) {
    const diff = Math.abs(a.data[i]! - e.data[i]!);
    const allowed = atol + rtol * Math.abs(e.data[i]!);
    if (!(diff <= allowed)) {
      failures++;
      const excess = Number.isNaN(diff) ? Infinity : diff - allowed;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (failures > 0) {
    throw new Error(
      `expectTensorClose: ${failures}/${a.data.length} elements out of tolerance (atol ${atol}, rtol ${rtol}); ` +
        `worst at flat index ${worst}: got ${a.data[worst]}, expected ${e.data[worst]}`,
    );
  }
}
