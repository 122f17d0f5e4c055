/**
 * Local attention masks (Harley et al. 2017, Eq. 3): for every pixel i and
 * every tap j of its window, `m_ij = exp(−λ · dist(e_i, e_j))`.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '../../core/errors.js';
import { flatLayout, inImageRows, tapMajorToMasks, toRows, windowGeometry, type FlatLayout, type WindowGeometry } from './window.js';
import { tapDistances, type EmbeddingNorm } from './window_ops.js';

export type { EmbeddingNorm } from './window_ops.js';

/** Options of {@link localMasks}. */
export interface LocalMaskOptions {
  /** Window side, an odd integer ≥ 1. */
  kernelSize: number;
  /**
   * Spacing between taps, an integer ≥ 1.
   * @defaultValue 1
   */
  dilation?: number;
  /**
   * Sharpness λ ≥ 0: a number, or a one-element tensor to differentiate
   * through. λ = 0 gives masks of 1 on every in-image tap.
   */
  lambda: number | tf.Tensor;
  /**
   * `'l1'`: `Σ_c |e_ic − e_jc|` (the paper's distance). `'l2'`:
   * `½ Σ_c (e_ic − e_jc)²`, what the authors' code calls L2 (half the squared
   * Euclidean distance; unlike the Euclidean norm it is smooth at 0, where the
   * centre tap always sits).
   * @defaultValue 'l1'
   */
  norm?: EmbeddingNorm;
}

/** Masks of a batch in the row layout of `window.ts`, one row per tap. */
export interface TapMajorMasks {
  /** Layout of the masks (and of anything they filter). */
  readonly layout: FlatLayout;
  /** Per batch item, one `[1, L]` row per tap, zero on excluded taps and padded columns. */
  readonly items: tf.Tensor2D[][];
}

/**
 * Throws a {@link ShapeError} unless `t` is a rank-4 tensor.
 * @internal
 */
export function requireRank4(t: unknown, argument: string): asserts t is tf.Tensor4D {
  if (!(t instanceof tf.Tensor)) throw new ShapeError(argument, 'must be a tf.Tensor', t);
  if (t.rank !== 4) throw new ShapeError(argument, 'must be rank 4 (NHWC)', t);
}

/**
 * Validates λ (`argument` names it in errors).
 * @internal
 */
export function checkLambda(lambda: unknown, argument: string): asserts lambda is number | tf.Tensor {
  if (typeof lambda === 'number') {
    if (!Number.isFinite(lambda) || lambda < 0) throw new ConfigError(argument, 'must be a finite number >= 0', lambda);
  } else if (!(lambda instanceof tf.Tensor) || lambda.size !== 1) {
    throw new ConfigError(argument, 'must be a number or a one-element tensor', lambda);
  }
}

/**
 * Validates a distance name.
 * @internal
 */
export function checkNorm(norm: unknown, argument: string): asserts norm is EmbeddingNorm {
  if (norm !== 'l1' && norm !== 'l2') throw new ConfigError(argument, 'must be one of "l1", "l2"', norm);
}

/**
 * Masks in the tap-major layout: `exp(−λ·dist)` on kept taps, 0 elsewhere.
 * @param embedding - `[B, H, W, D]`
 * @param geometry - the window
 * @param lambda - λ (number or one-element tensor)
 * @param norm - distance
 * @param excludeCentre - also zero the centre tap
 * @param columnPad - the layout's column padding (see `flatLayout`)
 * @internal
 */
export function tapMajorMasks(
  embedding: tf.Tensor4D,
  geometry: WindowGeometry,
  lambda: number | tf.Tensor,
  norm: EmbeddingNorm,
  excludeCentre = false,
  columnPad = geometry.radius,
): TapMajorMasks {
  const [, height, width] = embedding.shape;
  const layout = flatLayout(geometry, height, width, columnPad);
  const items = tf.tidy(() => {
    const kept = inImageRows(layout, excludeCentre);
    const scale = typeof lambda === 'number' ? -lambda : tf.neg(tf.reshape(lambda, []));
    return toRows(embedding, layout, false).map((rows) =>
      // Zero excluded taps' distances before exp (exp(0) = 1, then masked to
      // 0): no inf·0 whatever λ and the padding hold.
      tapDistances(rows, layout, norm).map((distance, t) => tf.mul(tf.exp(tf.mul(tf.mul(distance, kept[t]!), scale)), kept[t]!) as tf.Tensor2D),
    );
  });
  return { layout, items };
}

/**
 * Local attention masks `[B, H, W, k²]`: `m[b, y, x, t] = exp(−λ · dist(e(y, x), e(neighbour t)))`,
 * and 0 for taps outside the image (so those neighbours are excluded downstream).
 * Tap order is row-major over the window (see `window.ts`). Differentiable with
 * respect to the embedding and (if a tensor) λ.
 * @param embedding - `[B, H, W, D]` per-pixel embeddings
 * @param options - window, λ and distance
 */
export function localMasks(embedding: tf.Tensor4D, options: LocalMaskOptions): tf.Tensor4D {
  requireRank4(embedding, 'embedding');
  const geometry = windowGeometry(options.kernelSize, options.dilation ?? 1, 'localMasks');
  const norm = options.norm ?? 'l1';
  checkNorm(norm, 'localMasks.norm');
  checkLambda(options.lambda, 'localMasks.lambda');
  return tf.tidy(() => {
    const { layout, items } = tapMajorMasks(embedding, geometry, options.lambda, norm);
    return tapMajorToMasks(items.map((rows) => tf.concat(rows, 0) as tf.Tensor2D), layout);
  });
}
