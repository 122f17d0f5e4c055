/**
 * Converting predictions and targets (tensors or typed arrays) into label
 * maps the metrics read, with the checks every metric needs.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { DataError, ShapeError } from '../core/errors.js';
import { assertFinite } from '../core/refiner.js';
import type { ImageRegion } from '../data/types.js';

/**
 * Labels as the metrics accept them: a tensor (`[B, H, W]`, `[H, W]`, or for
 * predictions also scores/logits `[B, H, W, K]`, reduced by argmax over K), a
 * typed array or a number array (row-major, with a shape given separately),
 * or already converted {@link LabelMaps}.
 */
export type LabelInput = tf.Tensor | Int32Array | Uint8Array | Uint16Array | Float32Array | readonly number[] | LabelMaps;

/** A batch of label maps as one flat array. */
export interface LabelMaps {
  /** Labels, `batch × height × width`, row-major. */
  readonly data: ArrayLike<number>;
  /** Number of maps. */
  readonly batch: number;
  /** Map height. */
  readonly height: number;
  /** Map width. */
  readonly width: number;
}

function isLabelMaps(input: LabelInput): input is LabelMaps {
  return !(input instanceof tf.Tensor) && !ArrayBuffer.isView(input) && !Array.isArray(input) && 'batch' in input;
}

function shapeToMaps(shape: readonly number[], argument: string): [number, number, number] {
  if (shape.length === 2) return [1, shape[0] as number, shape[1] as number];
  if (shape.length === 3) return [shape[0] as number, shape[1] as number, shape[2] as number];
  throw new ShapeError(argument, 'must have shape [H, W] or [B, H, W]', shape);
}

/**
 * Converts labels to {@link LabelMaps}. With `allowScores`, a rank-4 tensor is
 * treated as scores `[B, H, W, K]` and reduced by argmax. Arrays need `shape` (`[H, W]` or
 * `[B, H, W]`) unless only the pixel count matters (then `[1, 1, n]` is used).
 * Reads tensors synchronously and disposes nothing the caller owns.
 * @param input - tensor, array or label maps
 * @param argument - name used in errors, e.g. `pred`
 * @param shape - shape of an array input
 * @param allowScores - accept rank-4 scores (predictions only)
 */
export function toLabelMaps(input: LabelInput, argument: string, shape?: readonly number[], allowScores = false): LabelMaps {
  if (isLabelMaps(input)) return input;
  if (input instanceof tf.Tensor) {
    if (input.rank === 4 && allowScores) {
      // The argmax of NaN scores is class 0: a silent prediction. (One read.)
      assertFinite(input, argument);
      const labels = tf.tidy(() => tf.argMax(input, -1));
      const data = labels.dataSync() as Int32Array;
      labels.dispose();
      return { data, batch: input.shape[0] as number, height: input.shape[1] as number, width: input.shape[2] as number };
    }
    const [batch, height, width] = shapeToMaps(input.shape, argument);
    return { data: input.dataSync() as ArrayLike<number>, batch, height, width };
  }
  const [batch, height, width] = shape === undefined ? [1, 1, input.length] : shapeToMaps(shape, `${argument} shape`);
  if (batch * height * width !== input.length) {
    throw new ShapeError(argument, `must hold ${batch}×${height}×${width} = ${batch * height * width} labels`, input.length);
  }
  return { data: input, batch, height, width };
}

/** Predicted and true label maps of the same shape. */
export interface LabelPair {
  /** Predicted labels. */
  pred: LabelMaps;
  /** True labels (255 = ignore). */
  truth: LabelMaps;
}

/**
 * Converts a prediction/target pair and checks that they match in shape.
 * The shape comes from whichever is a tensor, else from `shape`.
 * @param pred - predicted labels (or scores)
 * @param truth - target labels (255 = ignore)
 * @param shape - shape for array inputs
 */
export function toLabelPair(pred: LabelInput, truth: LabelInput, shape?: readonly number[]): LabelPair {
  let truthMaps = truth instanceof tf.Tensor || isLabelMaps(truth) ? toLabelMaps(truth, 'truth') : undefined;
  let predMaps = pred instanceof tf.Tensor || isLabelMaps(pred) ? toLabelMaps(pred, 'pred', undefined, true) : undefined;
  const known = shape ?? (truthMaps ? [truthMaps.batch, truthMaps.height, truthMaps.width] : predMaps ? [predMaps.batch, predMaps.height, predMaps.width] : undefined);
  truthMaps ??= toLabelMaps(truth, 'truth', known);
  predMaps ??= toLabelMaps(pred, 'pred', known);
  if (predMaps.batch !== truthMaps.batch || predMaps.height !== truthMaps.height || predMaps.width !== truthMaps.width) {
    throw new ShapeError(
      'pred',
      `must have the shape of truth [${truthMaps.batch}, ${truthMaps.height}, ${truthMaps.width}]`,
      [predMaps.batch, predMaps.height, predMaps.width],
    );
  }
  return { pred: predMaps, truth: truthMaps };
}

/**
 * Checks that predictions are class indices in [0, K) and targets are in
 * [0, K) or the ignore label; throws {@link DataError} with the first bad value.
 * @param pred - predicted labels
 * @param truth - target labels
 * @param numClasses - K
 * @param ignoreLabel - the label that is not scored
 */
export function checkMetricLabels(pred: LabelMaps, truth: LabelMaps, numClasses: number, ignoreLabel: number): void {
  const p = pred.data;
  const t = truth.data;
  for (let i = 0; i < p.length; i++) {
    const value = p[i] as number;
    if (!(value >= 0 && value < numClasses && Number.isInteger(value))) {
      throw new DataError('pred', `must hold class indices in [0, ${numClasses}) (element ${i})`, value);
    }
    const target = t[i] as number;
    if (target !== ignoreLabel && !(target >= 0 && target < numClasses && Number.isInteger(target))) {
      throw new DataError('truth', `must hold class indices in [0, ${numClasses}) or ${ignoreLabel} (element ${i})`, target);
    }
  }
}

/** The optional third argument of the metrics' `update`. */
export interface MetricUpdateOptions {
  /** Shape of array inputs: `[H, W]` or `[B, H, W]`. */
  shape?: readonly number[];
  /**
   * Per image, the rectangle to score (e.g. `Batch.regions`, the part of a
   * padded batch element that holds the sample). Pixels outside are neither
   * counted nor taken as boundaries. Default: whole images.
   */
  regions?: readonly ImageRegion[];
}

/**
 * Normalises the third argument of `update`: a shape array or options.
 * @param shapeOrOptions - `[H, W]`, `[B, H, W]`, or {@link MetricUpdateOptions}
 */
export function updateOptions(shapeOrOptions: readonly number[] | MetricUpdateOptions | undefined): MetricUpdateOptions {
  if (shapeOrOptions === undefined) return {};
  return Array.isArray(shapeOrOptions) ? { shape: shapeOrOptions as readonly number[] } : (shapeOrOptions as MetricUpdateOptions);
}

/** One image of a pair of label maps, possibly a cropped copy. */
export interface ImageView {
  /** Predicted labels (read from `offset`). */
  pred: ArrayLike<number>;
  /** Target labels (read from `offset`). */
  truth: ArrayLike<number>;
  /** Start of the image in `pred` and `truth`. */
  offset: number;
  /** Image height. */
  height: number;
  /** Image width. */
  width: number;
}

function crop(data: ArrayLike<number>, offset: number, width: number, region: ImageRegion): Int32Array {
  const out = new Int32Array(region.height * region.width);
  for (let y = 0; y < region.height; y++) {
    const row = offset + (region.top + y) * width + region.left;
    for (let x = 0; x < region.width; x++) out[y * region.width + x] = data[row + x] as number;
  }
  return out;
}

/**
 * Splits a batch into images, cropped to `regions` when given.
 * @param pred - predicted labels
 * @param truth - target labels
 * @param regions - one rectangle per image, inside the image
 */
export function imageViews(pred: LabelMaps, truth: LabelMaps, regions?: readonly ImageRegion[]): ImageView[] {
  const { batch, height, width } = truth;
  if (regions !== undefined && regions.length !== batch) throw new ShapeError('regions', `must list one region per image (${batch})`, regions.length);
  return Array.from({ length: batch }, (_, b) => {
    const offset = b * height * width;
    const region = regions?.[b];
    if (region === undefined || (region.top === 0 && region.left === 0 && region.height === height && region.width === width)) {
      return { pred: pred.data, truth: truth.data, offset, height, width };
    }
    const { top, left } = region;
    const inside = [top, left, region.height, region.width].every((v) => Number.isInteger(v) && v >= 0) && top + region.height <= height && left + region.width <= width;
    if (!inside) throw new ShapeError(`regions[${b}]`, `must be a rectangle inside the ${height}×${width} image`, region);
    return { pred: crop(pred.data, offset, width, region), truth: crop(truth.data, offset, width, region), offset: 0, height: region.height, width: region.width };
  });
}
