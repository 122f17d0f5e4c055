/**
 * Pixel-wise softmax cross-entropy for segmentation, with an ignore label
 * (255, VOC's void) and optional class weights. Logits at a lower resolution
 * than the labels are first resized bilinearly (`alignCorners: false`) to the
 * label size, as DeepLab and the DifNet reference do.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, ShapeError } from '../core/errors.js';
import { resizeBilinear } from '../core/ops/resize.js';

/** Options of {@link segmentationCrossEntropy}. */
export interface CrossEntropyOptions {
  /**
   * Label value that contributes nothing (void pixels).
   * @defaultValue 255
   */
  ignoreLabel?: number;
  /**
   * One weight per class; the loss is then the weighted mean
   * `Σ w_y·nll / Σ w_y` over valid pixels (as PyTorch's `CrossEntropyLoss`).
   * @defaultValue null (all 1)
   */
  classWeights?: number[] | null;
  /**
   * Check that every label is in `[0, K)` or the ignore label (one small
   * read-back): a label ≥ K would otherwise contribute a loss of 0 silently.
   * `train()` checks each batch itself and turns this off.
   * @defaultValue true
   */
  checkLabels?: boolean;
}

/**
 * Checks ranks, batch sizes, dtype and the class-weight count; throws typed
 * errors naming the argument.
 * @param logits - `[B, h, w, K]`
 * @param labels - `[B, H, W]` int32
 * @param classWeights - optional per-class weights
 */
export function checkLossInputs(logits: tf.Tensor, labels: tf.Tensor, classWeights?: number[] | null): void {
  if (!(logits instanceof tf.Tensor) || logits.rank !== 4) throw new ShapeError('logits', 'must be a rank-4 tensor [B, h, w, K]', logits);
  if (!(labels instanceof tf.Tensor) || labels.rank !== 3) throw new ShapeError('labels', 'must be a rank-3 tensor [B, H, W]', labels);
  if (logits.dtype !== 'float32') throw new DataError('logits', 'must be float32 logits', `dtype ${logits.dtype}`);
  if (labels.dtype !== 'int32') throw new DataError('labels', 'must have dtype int32', labels.dtype);
  if (logits.size === 0 || labels.size === 0) throw new ShapeError(logits.size === 0 ? 'logits' : 'labels', 'must not have a zero-size dimension', logits.size === 0 ? logits : labels);
  if (labels.shape[0] !== logits.shape[0]) throw new ShapeError('labels', `must have the logits' batch size ${logits.shape[0]}`, labels);
  const classes = logits.shape[3]!;
  if (classWeights !== null && classWeights !== undefined) {
    if (!Array.isArray(classWeights) || classWeights.length !== classes) {
      throw new ConfigError('classWeights', `must have one weight per class (${classes})`, classWeights);
    }
    if (!classWeights.every((w) => Number.isFinite(w) && w >= 0)) throw new ConfigError('classWeights', 'must be finite and >= 0', classWeights);
  }
}

/**
 * Mean softmax cross-entropy over the non-ignored pixels (0 when every pixel
 * is ignored). Differentiable in `logits`.
 *
 * ```ts illustrative
 * const loss = segmentationCrossEntropy(model.apply(images) as tf.Tensor4D, labels);
 * ```
 * @param logits - `[B, h, w, K]`, resized to the labels' size when smaller or larger
 * @param labels - `[B, H, W]` int32 in `[0, K)` or the ignore label
 * @param options - ignore label, class weights
 */
export function segmentationCrossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D, options: CrossEntropyOptions = {}): tf.Scalar {
  checkLossInputs(logits, labels, options.classWeights);
  const ignoreLabel = options.ignoreLabel ?? 255;
  const [, height, width] = labels.shape;
  const classes = logits.shape[3];
  if (options.checkLabels ?? true) checkLabelValues(labels, classes, ignoreLabel);
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(tf.reshape(resizeBilinear(logits, [height, width]), [-1, classes]));
    const flatLabels = tf.reshape(labels, [-1]);
    const valid = tf.notEqual(flatLabels, tf.scalar(ignoreLabel, 'int32'));
    const safeLabels = tf.where(valid, flatLabels, tf.zerosLike(flatLabels));
    const picked = tf.sum(tf.mul(tf.oneHot(safeLabels, classes), logProbs), 1);
    let weights = tf.cast(valid, 'float32');
    if (options.classWeights !== null && options.classWeights !== undefined) {
      weights = tf.mul(weights, tf.gather(tf.tensor1d(options.classWeights), safeLabels));
    }
    const total = tf.sum(weights);
    // All pixels ignored: 0, not 0/0.
    return tf.div(tf.sum(tf.mul(weights, tf.neg(picked))), tf.maximum(total, 1e-12)) as tf.Scalar;
  });
}

/**
 * Throws a {@link DataError} if a label is neither in `[0, classes)` nor the
 * ignore label (one small read-back).
 * @param labels - `[B, H, W]` int32
 * @param classes - number of classes K
 * @param ignoreLabel - the void label
 */
export function checkLabelValues(labels: tf.Tensor3D, classes: number, ignoreLabel = 255): void {
  const bad = tf.tidy(() => {
    const outOfRange = tf.logicalOr(tf.less(labels, 0), tf.greaterEqual(labels, classes));
    const flagged = tf.logicalAnd(outOfRange, tf.notEqual(labels, ignoreLabel));
    return tf.any(flagged).dataSync()[0] === 1 ? tf.max(tf.where(flagged, labels, tf.fill(labels.shape, -2147483648, 'int32'))).dataSync()[0] : undefined;
  });
  if (bad !== undefined) throw new DataError('labels', `must be in [0, ${classes}) or ${ignoreLabel} (void)`, bad);
}
