/**
 * `denseCrf(image, probabilities, params)`: the fully connected CRF of
 * Krähenbühl & Koltun (2011) with the semantics of pydensecrf / densecrf v2 —
 * unary `−log(clip(p, 1e−5, 1))`, Potts pairwise terms with a smoothness
 * kernel (x/sxy, y/sxy) and an appearance kernel (x/sxy, y/sxy, RGB/srgb),
 * Gaussian filtering by the permutohedral lattice, the pixel's own
 * contribution included, mean-field inference. Written over typed arrays; no
 * tfjs op runs inside the lattice.
 *
 * ```ts illustrative
 * const q = denseCrf({ data: rgbBytes, height: 80, width: 96 }, probs, { iterations: 5 });
 * ```
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs } from '../../core/config.js';
import { ArgsObject, Type, type Static } from '../../core/schemas.js';
import { DataError, ShapeError } from '../../core/errors.js';
import { meanField, type MeanFieldKernel, type MeanFieldResult } from './mean_field.js';
import {
  bilateralKernelSchema,
  clipSchema,
  gaussianKernelSchema,
  normalizationSchema,
  resolveKernels,
} from './params.js';
import { PermutohedralLattice } from './permutohedral.js';

/** An RGB image as raw bytes: row-major `[height, width, 3]`, pixel (y, x) at byte 3·(y·width + x). */
export interface RgbImage {
  /** The bytes, RGB interleaved (no alpha). */
  readonly data: Uint8Array | Uint8ClampedArray;
  /** Rows H. */
  readonly height: number;
  /** Columns W. */
  readonly width: number;
}

/** Per-pixel label probabilities: row-major `[height, width, labels]`, label fastest. */
export interface LabelProbabilities {
  /** The values, element (y·width + x)·labels + m. */
  readonly data: Float32Array;
  /** Rows H. */
  readonly height: number;
  /** Columns W. */
  readonly width: number;
  /** Labels M (at least 2). */
  readonly labels: number;
}

/**
 * Schema properties of {@link DenseCrfParams}, shared with the refiner's args.
 * @internal
 */
export const denseCrfParamProperties = {
  /** Mean-field iterations (0 returns the clipped, renormalised input). */
  iterations: Type.Optional(Type.Integer({ minimum: 0, default: 10 })),
  /** Smoothness kernel (pydensecrf `addPairwiseGaussian`); null disables it. */
  pos: gaussianKernelSchema,
  /** Appearance kernel (pydensecrf `addPairwiseBilateral`); null disables it. */
  bilateral: bilateralKernelSchema,
  /** Kernel normalisation. */
  normalization: normalizationSchema,
  /** Probabilities are clipped to [clip, 1] before the unary −log p. */
  clip: clipSchema,
};

const denseCrfParams = ArgsObject(denseCrfParamProperties);

/**
 * Parameters of {@link denseCrf} (pydensecrf's names and defaults).
 * @interface
 */
export type DenseCrfParams = Static<typeof denseCrfParams>;

const denseCrfParamsSchema = compileArgs('DenseCrfParams', denseCrfParams);

/**
 * Validates {@link DenseCrfParams} and fills the defaults.
 * @param params - user parameters
 */
export function parseDenseCrfParams(params: DenseCrfParams | undefined): Required<DenseCrfParams> {
  return parseArgs(denseCrfParamsSchema, params ?? {}) as Required<DenseCrfParams>;
}

/**
 * Runs the dense CRF on validated arrays.
 * @param rgb - `[H, W, 3]` colours in 0..255 units
 * @param probabilities - `[H, W, M]`, label fastest
 * @param size - `[H, W, M]`
 * @param params - parsed parameters
 * @internal
 */
export function runDenseCrf(rgb: ArrayLike<number>, probabilities: ArrayLike<number>, size: [number, number, number], params: Required<DenseCrfParams>): MeanFieldResult {
  const [height, width, labels] = size;
  const n = height * width;
  const kernels: MeanFieldKernel[] = [];
  for (const kernel of resolveKernels(params.pos, params.bilateral)) {
    const dims = kernel.kind === 'pos' ? 2 : 5;
    const features = new Float32Array(n * dims);
    for (let y = 0, i = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i++) {
        features[i * dims] = x / kernel.sxy;
        features[i * dims + 1] = y / kernel.sxy;
        if (dims === 5) for (let c = 0; c < 3; c++) features[i * dims + 2 + c] = rgb[i * 3 + c]! / kernel.srgb!;
      }
    }
    kernels.push({ lattice: new PermutohedralLattice(features, n, dims), compat: kernel.compat, normalization: params.normalization });
  }
  return meanField({ probabilities, clip: params.clip }, n, labels, kernels, params.iterations);
}

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** The image as `{ rgb, height, width }`, validated. */
function readImage(image: RgbImage | tf.Tensor3D): { rgb: ArrayLike<number>; height: number; width: number } {
  if (image instanceof tf.Tensor) {
    if (image.rank !== 3 || image.shape[2] !== 3) throw new ShapeError('image', 'must be a [height, width, 3] RGB tensor', image);
    if (image.size === 0) throw new ShapeError('image', 'must not be empty', image);
    const rgb = image.dataSync();
    let max = 0;
    for (let i = 0; i < rgb.length; i++) {
      const v = rgb[i]!;
      if (!(v >= 0 && v <= 255)) throw new DataError('image', 'must hold finite RGB values in [0, 255]', `${v} at flat index ${i}`);
      if (v > max) max = v;
    }
    // An image in the library's [0, 1] convention would run as if black here: refuse it rather than guess.
    if (max > 0 && max <= 1) {
      throw new DataError('image', "must hold RGB values in 0..255 as pydensecrf does (this one looks like the library's [0, 1] convention: pass tf.mul(image, 255))", `maximum ${max}`);
    }
    return { rgb, height: image.shape[0], width: image.shape[1] };
  }
  if (image === null || typeof image !== 'object') throw new ShapeError('image', 'must be a tf.Tensor3D or { data, height, width }', image);
  if (!isPositiveInteger(image.height)) throw new ShapeError('image.height', 'must be a positive integer', image.height);
  if (!isPositiveInteger(image.width)) throw new ShapeError('image.width', 'must be a positive integer', image.width);
  if (!(image.data instanceof Uint8Array || image.data instanceof Uint8ClampedArray)) {
    throw new DataError('image.data', 'must be a Uint8Array or Uint8ClampedArray of RGB bytes', image.data);
  }
  const expected = image.height * image.width * 3;
  if (image.data.length !== expected) {
    const rgba = image.data.length === image.height * image.width * 4 ? ' (RGBA? drop the alpha channel)' : '';
    throw new ShapeError('image.data', `must hold height·width·3 = ${expected} bytes${rgba}`, `${image.data.length} bytes`);
  }
  return { rgb: image.data, height: image.height, width: image.width };
}

/** The probabilities as `{ values, height, width, labels }`, validated against the image size. */
function readProbabilities(probabilities: LabelProbabilities | tf.Tensor3D, height: number, width: number): { values: ArrayLike<number>; labels: number } {
  let values: ArrayLike<number>;
  let shape: [number, number, number];
  if (probabilities instanceof tf.Tensor) {
    if (probabilities.rank !== 3) throw new ShapeError('probabilities', 'must be a [height, width, labels] tensor', probabilities);
    shape = probabilities.shape as [number, number, number];
    values = undefined as unknown as ArrayLike<number>;
  } else {
    if (probabilities === null || typeof probabilities !== 'object') throw new ShapeError('probabilities', 'must be a tf.Tensor3D or { data, height, width, labels }', probabilities);
    for (const key of ['height', 'width', 'labels'] as const) {
      if (!isPositiveInteger(probabilities[key])) throw new ShapeError(`probabilities.${key}`, 'must be a positive integer', probabilities[key]);
    }
    if (!(probabilities.data instanceof Float32Array)) throw new DataError('probabilities.data', 'must be a Float32Array', probabilities.data);
    shape = [probabilities.height, probabilities.width, probabilities.labels];
    const expected = shape[0] * shape[1] * shape[2];
    if (probabilities.data.length !== expected) {
      throw new ShapeError('probabilities.data', `must hold height·width·labels = ${expected} values`, `${probabilities.data.length} values`);
    }
    values = probabilities.data;
  }
  const [h, w, labels] = shape;
  if (h !== height || w !== width) {
    const swapped = h === width && w === height ? ' (height and width swapped?)' : '';
    throw new ShapeError('probabilities', `must be [height, width, labels] with the image's height ${height} and width ${width}${swapped}`, `[${shape.join(', ')}]`);
  }
  if (labels < 2) throw new ShapeError('probabilities', 'must have at least 2 labels', `[${shape.join(', ')}]`);
  if (probabilities instanceof tf.Tensor) values = probabilities.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v <= 1 + 1e-6)) {
      const hint = Number.isFinite(v) && v > 1 ? ' (logits? apply a softmax first)' : '';
      throw new DataError('probabilities', `must hold finite probabilities in [0, 1]${hint}`, `${v} at pixel ${Math.floor(i / labels)}, label ${i % labels}`);
    }
  }
  return { values, labels };
}

/**
 * Fully connected CRF mean-field inference (pydensecrf semantics).
 * @param image - RGB `[H, W, 3]` in 0..255: bytes with their size, or a tensor (a float tensor whose values all lie in [0, 1], not all 0, is refused as the [0, 1] convention)
 * @param probabilities - `[H, W, M]` per-pixel label probabilities (M ≥ 2)
 * @param params - iterations, kernels, normalisation, clip
 * @returns Q, `[H, W, M]`, in the form `probabilities` came in
 */
export function denseCrf(image: RgbImage | tf.Tensor3D, probabilities: tf.Tensor3D, params?: DenseCrfParams): tf.Tensor3D;
export function denseCrf(image: RgbImage | tf.Tensor3D, probabilities: LabelProbabilities, params?: DenseCrfParams): LabelProbabilities;
export function denseCrf(image: RgbImage | tf.Tensor3D, probabilities: LabelProbabilities | tf.Tensor3D, params?: DenseCrfParams): LabelProbabilities | tf.Tensor3D {
  const parsed = parseDenseCrfParams(params);
  const { rgb, height, width } = readImage(image);
  const { values, labels } = readProbabilities(probabilities, height, width);
  const { q } = runDenseCrf(rgb, values, [height, width, labels], parsed);
  if (probabilities instanceof tf.Tensor) return tf.tensor3d(q, [height, width, labels]);
  return { data: q, height, width, labels };
}
