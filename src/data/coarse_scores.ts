/**
 * `coarseScores()`: a controlled stand-in for a backbone's output, made from
 * the ground truth — the class fractions of each `stride × stride` cell,
 * seeded Gaussian noise, and a temperature. Refining them isolates what a
 * refiner adds (as refinement papers such as SegFix and CascadePSP do).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, ShapeError } from '../core/errors.js';
import { checkLabelValues } from '../train/loss.js';
import { IGNORE_LABEL } from './palette.js';
import { SeededRandom, hashSeed } from './random.js';

/** Options of {@link coarseScores}. */
export interface CoarseScoreOptions {
  /** Number of classes K. */
  classes: number;
  /**
   * Cell size in pixels; the scores are `[B, ⌈H/stride⌉, ⌈W/stride⌉, K]`.
   * @defaultValue 8
   */
  stride?: number;
  /**
   * Standard deviation of the Gaussian noise added to each cell's fractions.
   * @defaultValue 0.6
   */
  noise?: number;
  /**
   * Logits are `(fractions + noise) / temperature`.
   * @defaultValue 0.25
   */
  temperature?: number;
  /**
   * Seed of the noise; with the sample id it fixes each sample's noise,
   * whatever batch or order the sample comes in.
   * @defaultValue 0
   */
  seed?: number;
}

function checkOptions(options: CoarseScoreOptions): Required<CoarseScoreOptions> {
  const { classes, stride = 8, noise = 0.6, temperature = 0.25, seed = 0 } = options;
  if (!Number.isInteger(classes) || classes < 2) throw new ConfigError('coarseScores.classes', 'must be an integer >= 2', classes);
  if (!Number.isInteger(stride) || stride < 1) throw new ConfigError('coarseScores.stride', 'must be an integer >= 1', stride);
  if (!Number.isFinite(noise) || noise < 0) throw new ConfigError('coarseScores.noise', 'must be a finite number >= 0', noise);
  if (!Number.isFinite(temperature) || temperature <= 0) throw new ConfigError('coarseScores.temperature', 'must be a finite number > 0', temperature);
  if (!Number.isInteger(seed)) throw new ConfigError('coarseScores.seed', 'must be an integer', seed);
  return { classes, stride, noise, temperature, seed };
}

/**
 * Coarse logits from labels: per cell the fraction of each class among its
 * non-void pixels (uniform where a cell is all void), plus seeded noise,
 * divided by the temperature. Deterministic: the same labels, ids and seed
 * give the same scores.
 * @param labels - `[B, H, W]` int32 class ids, 255 = void
 * @param ids - one sample id per batch item (keys the noise)
 * @param options - classes, stride, noise, temperature, seed
 * @returns logits `[B, ⌈H/stride⌉, ⌈W/stride⌉, K]` (the caller disposes)
 */
export function coarseScores(labels: tf.Tensor3D, ids: readonly string[], options: CoarseScoreOptions): tf.Tensor4D {
  const { classes, stride, noise, temperature, seed } = checkOptions(options);
  if (!(labels instanceof tf.Tensor) || labels.rank !== 3) throw new ShapeError('labels', 'must be a [B, H, W] tensor', labels);
  if (labels.size === 0) throw new ShapeError('labels', 'must not have a zero-size dimension', labels);
  if (labels.dtype !== 'int32') throw new DataError('labels', 'must be int32 class ids (255 = void)', `dtype ${labels.dtype}`);
  if (!Array.isArray(ids) || ids.length !== labels.shape[0]) throw new ShapeError('ids', `must have one id per batch item (${labels.shape[0]})`, Array.isArray(ids) ? ids.length : ids);
  // A label ≥ K would be one-hot to nothing: a silently empty cell.
  checkLabelValues(labels, classes, IGNORE_LABEL);
  const fractions = tf.tidy(() => {
    const valid = tf.cast(tf.notEqual(labels, IGNORE_LABEL), 'float32');
    const safe = tf.where(tf.notEqual(labels, IGNORE_LABEL), labels, tf.zerosLike(labels));
    const oneHot = tf.mul(tf.oneHot(tf.cast(safe, 'int32'), classes), tf.expandDims(valid, 3)) as tf.Tensor4D;
    const classShare = tf.avgPool(oneHot, stride, stride, 'same');
    const validShare = tf.avgPool(tf.expandDims(valid, 3) as tf.Tensor4D, stride, stride, 'same');
    const known = tf.greater(validShare, 0);
    return tf.where(tf.broadcastTo(known, classShare.shape), tf.div(classShare, tf.maximum(validShare, 1e-6)), tf.fill(classShare.shape, 1 / classes)) as tf.Tensor4D;
  });
  const [batch, h, w] = fractions.shape;
  const values = fractions.dataSync().slice();
  fractions.dispose();
  const perSample = h * w * classes;
  for (let b = 0; b < batch; b++) {
    const rng = new SeededRandom(hashSeed(seed, 'coarse', ids[b]!));
    for (let i = b * perSample; i < (b + 1) * perSample; i++) values[i] = (values[i]! + noise * rng.normal()) / temperature;
  }
  return tf.tensor4d(values, [batch, h, w, classes]);
}
