/**
 * Bilinear resizing with the library's one convention (DESIGN §2):
 * `alignCorners: false`, as the DifNet reference code does.
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** An output size `[height, width]`. */
export type Size2D = [number, number];

/**
 * Whether `value` is a `[height, width]` pair of positive integers.
 * @param value - anything
 */
export function isSize2D(value: unknown): value is Size2D {
  return Array.isArray(value) && value.length === 2 && value.every((v) => Number.isInteger(v) && v >= 1);
}

/**
 * Resizes an NHWC tensor bilinearly to `size` (no-op when already that size).
 * @param x - `[B, h, w, C]`
 * @param size - `[H, W]`
 */
export function resizeBilinear(x: tf.Tensor4D, size: Size2D): tf.Tensor4D {
  if (x.shape[1] === size[0] && x.shape[2] === size[1]) return x;
  return tf.image.resizeBilinear(x, size, false, false);
}
