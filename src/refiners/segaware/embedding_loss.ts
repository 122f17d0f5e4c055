/**
 * The embedding loss of Harley et al. (2017, §3.1): pull embeddings of
 * same-label neighbours within a margin α, push different-label neighbours
 * beyond a margin β, over 3×3 windows at several dilations.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '../../core/errors.js';
import { requireRank4 } from './local_masks.js';
import { flatLayout, toRows, windowGeometry, type FlatLayout } from './window.js';
import { tapDistances } from './window_ops.js';

/** Options of {@link embeddingLoss}. */
export interface EmbeddingLossOptions {
  /**
   * Same-label margin α: a same-label pair costs `max(d − α, 0)`.
   * @defaultValue 0.5
   */
  alpha?: number;
  /**
   * Different-label margin β > α: a different-label pair costs `max(β − d, 0)`.
   * @defaultValue 2
   */
  beta?: number;
  /**
   * Dilations of the 3×3 windows the pairs are drawn from.
   * @defaultValue [1, 2, 5]
   */
  dilations?: number[];
  /**
   * Label value whose pixels take part in no pair.
   * @defaultValue 255
   */
  ignoreLabel?: number;
}

/** Validated options with defaults filled in. */
interface LossSettings {
  alpha: number;
  beta: number;
  dilations: number[];
  ignoreLabel: number;
}

function settings(options: EmbeddingLossOptions): LossSettings {
  const alpha = options.alpha ?? 0.5;
  const beta = options.beta ?? 2;
  const dilations = options.dilations ?? [1, 2, 5];
  const ignoreLabel = options.ignoreLabel ?? 255;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) throw new ConfigError('embeddingLoss.alpha', 'must be a finite number >= 0', alpha);
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta <= alpha) throw new ConfigError('embeddingLoss.beta', `must be a finite number > alpha (${alpha})`, beta);
  if (!Array.isArray(dilations) || dilations.length === 0) throw new ConfigError('embeddingLoss.dilations', 'must be a non-empty array of integers >= 1', dilations);
  dilations.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) throw new ConfigError(`embeddingLoss.dilations[${i}]`, 'must be an integer >= 1', d);
  });
  if (typeof ignoreLabel !== 'number' || !Number.isFinite(ignoreLabel)) throw new ConfigError('embeddingLoss.ignoreLabel', 'must be a finite number', ignoreLabel);
  return { alpha, beta, dilations, ignoreLabel };
}

/** Labels as one `[1, L]` row per item (ignore on padded columns). */
function labelRows(labels: tf.Tensor4D, layout: FlatLayout, ignoreLabel: number): tf.Tensor2D[] {
  const r = layout.geometry.radius;
  const [batch] = labels.shape;
  const wide = tf.pad(tf.cast(labels, 'float32'), [[0, 0], [0, 0], [r, r], [0, 0]], ignoreLabel);
  const rows = tf.reshape(wide, [batch, 1, layout.length]);
  return batch === 1 ? [tf.squeeze(rows, [0]) as tf.Tensor2D] : (tf.unstack(rows) as tf.Tensor2D[]);
}

/**
 * Embedding loss `Σ_d mean over pairs (i, j)` of
 * `same(i, j) · max(d_ij − α, 0) + (1 − same(i, j)) · max(β − d_ij, 0)`, with
 * `d_ij = ‖e_i − e_j‖₁`, the pairs being each pixel and its 8 neighbours in a
 * 3×3 window of dilation d (each unordered pair counted once, pairs leaving
 * the image or touching an ignored pixel left out), summed over the
 * dilations. Differentiable with respect to the embedding; use it as an
 * auxiliary loss beside the segmentation loss.
 * @param embedding - `[B, H, W, D]`
 * @param labels - `[B, H, W]` or `[B, H, W, 1]` class ids at the embedding's resolution
 * @param options - margins, dilations and the ignore label
 * @returns a scalar
 */
export function embeddingLoss(embedding: tf.Tensor4D, labels: tf.Tensor, options: EmbeddingLossOptions = {}): tf.Scalar {
  requireRank4(embedding, 'embedding');
  const { alpha, beta, dilations, ignoreLabel } = settings(options);
  if (!(labels instanceof tf.Tensor) || (labels.rank !== 3 && !(labels.rank === 4 && labels.shape[3] === 1))) {
    throw new ShapeError('labels', 'must be a [B, H, W] or [B, H, W, 1] tensor', labels);
  }
  const [batch, height, width] = embedding.shape;
  if (labels.shape[0] !== batch || labels.shape[1] !== height || labels.shape[2] !== width) {
    throw new ShapeError('labels', `must match the embedding's batch, height and width [${batch}, ${height}, ${width}]`, labels);
  }
  return tf.tidy(() => {
    const labels4 = tf.reshape(labels, [batch, height, width, 1]) as tf.Tensor4D;
    const terms = dilations.map((dilation) => {
      const geometry = windowGeometry(3, dilation, 'embeddingLoss');
      const layout = flatLayout(geometry, height, width);
      const forward = Array.from({ length: geometry.taps - geometry.centre - 1 }, (_, i) => geometry.centre + 1 + i);
      const embeddingRows = toRows(embedding, layout, false);
      let cost: tf.Tensor = tf.scalar(0);
      let pairs: tf.Tensor = tf.scalar(0);
      labelRows(labels4, layout, ignoreLabel).forEach((here, b) => {
        const rows = tapDistances(embeddingRows[b]!, layout, 'l1');
        const distances = tf.concat(forward.map((t) => rows[t]!), 0);
        // Neighbour labels, aligned: pad with the ignore label so out-of-image pairs drop out.
        const framed = tf.pad(here, [[0, 0], [layout.reach, layout.reach]], ignoreLabel);
        const there = tf.concat(
          forward.map((t) => tf.slice(framed, [0, layout.reach + layout.shifts[t]!], [1, layout.length])),
          0,
        );
        const valid = tf.logicalAnd(tf.notEqual(here, ignoreLabel), tf.notEqual(there, ignoreLabel));
        const same = tf.cast(tf.equal(here, there), 'float32');
        const perPair = tf.add(tf.mul(same, tf.relu(tf.sub(distances, alpha))), tf.mul(tf.sub(1, same), tf.relu(tf.sub(beta, distances))));
        const kept = tf.cast(valid, 'float32');
        cost = tf.add(cost, tf.sum(tf.mul(perPair, kept)));
        pairs = tf.add(pairs, tf.sum(kept));
      });
      return tf.div(cost, tf.maximum(pairs, 1));
    });
    return tf.addN(terms) as tf.Scalar;
  });
}
