/**
 * `createSegmenter()`: any registered backbone + (optional neck) + any
 * registered refiner layer, assembled into one `tf.LayersModel` that maps an
 * image to logits at the image's size.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../core/backbone.js';
import { ConfigError } from '../core/errors.js';
import type { Neck } from '../core/neck.js';
import { isSize2D, type Size2D } from '../core/ops/resize.js';
import type { Refiner, RefinerLayer } from '../core/refiner.js';
import type { Registry, TypedConfig } from '../core/registry.js';
import { ResizeToMatch } from '../backbones/resize_to_match.js';
import { freezeBackbone } from './frozen_backbone.js';
import { resolveBackbone, resolveNeck, resolveRefinerLayer } from './resolve.js';

/** Options of {@link createSegmenter}. */
export interface SegmenterOptions {
  /** A backbone instance or its registry config, e.g. `{ type: 'sim-deeplab', depth: 18 }`. */
  backbone: Backbone | TypedConfig;
  /**
   * A refiner layer or its registry config, e.g. `{ type: 'difnet' }`.
   * @defaultValue `{ type: 'none' }`
   */
  refiner?: Refiner | TypedConfig;
  /**
   * A neck (pyramid → pyramid of the same shapes, e.g. SDN) placed between
   * the backbone's pyramid and the refiner; null for none.
   * @defaultValue null
   */
  neck?: Neck | TypedConfig | null;
  /**
   * Fixed input `[height, width]`, or null for any size.
   * @defaultValue null
   */
  inputSize?: Size2D | null;
  /**
   * Indices into the pyramid of the levels fed to the refiner, in order. By
   * default the refiner gets the *first* (finest) N levels it asks for.
   * @defaultValue null
   */
  featureLevels?: number[] | null;
  /**
   * Put the image in front of the pyramid (level 0) before levels are picked,
   * as DifNet feeds its first walk the image.
   * @defaultValue false
   */
  imageAsFeature?: boolean;
  /**
   * Keep the backbone's weights as they are: they do not train and its batch
   * norm uses its moving statistics even in training mode, so `train()`
   * trains only the neck and refiner (the refine-frozen protocol; a head on
   * a pretrained backbone).
   * @defaultValue false
   */
  freezeBackbone?: boolean;
  /**
   * Registry container to build configs from.
   * @defaultValue the built-ins
   */
  registry?: Registry;
  /**
   * Model name; also the name of the final resize layer (`<name>.logits`).
   * @defaultValue 'segmenter'
   */
  name?: string;
}

const OPTION_KEYS: readonly string[] = ['backbone', 'refiner', 'neck', 'inputSize', 'featureLevels', 'imageAsFeature', 'freezeBackbone', 'registry', 'name'];

/** A misspelt option (`refinr`) is an error, not a silent default. */
function checkOptionKeys(options: SegmenterOptions): void {
  if (options === null || typeof options !== 'object') throw new ConfigError('createSegmenter options', 'must be an object', options);
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new ConfigError(`createSegmenter options.${key}`, `is not a known option (valid: ${OPTION_KEYS.join(', ')})`, (options as unknown as Record<string, unknown>)[key]);
  }
}

/**
 * Checks an optional `[height, width]` of positive integers.
 * @param size - the value to check
 * @param argument - how to name it in the error
 */
export function checkInputSize(size: Size2D | null | undefined, argument: string): Size2D | null {
  if (size === null || size === undefined) return null;
  if (!isSize2D(size)) {
    throw new ConfigError(argument, 'must be [height, width] of positive integers, or null', size);
  }
  return size;
}

/**
 * Picks the pyramid levels a refiner takes: `featureLevels` if given (checked
 * against the pyramid and the refiner's count), else the first N.
 * @param available - number of pyramid levels
 * @param wanted - levels the refiner takes
 * @param featureLevels - explicit indices, or null
 * @param refinerId - for error messages
 */
export function pickLevels(available: number, wanted: number, featureLevels: number[] | null | undefined, refinerId: string): number[] {
  if (featureLevels === null || featureLevels === undefined) {
    if (wanted > available) {
      throw new ConfigError('featureLevels', `cannot be chosen: refiner '${refinerId}' takes ${wanted} pyramid level(s) but the backbone gives ${available}`, available);
    }
    return Array.from({ length: wanted }, (_, i) => i);
  }
  if (!Array.isArray(featureLevels) || featureLevels.length !== wanted) {
    throw new ConfigError('featureLevels', `must list exactly ${wanted} level(s), as refiner '${refinerId}' takes`, featureLevels);
  }
  featureLevels.forEach((level, i) => {
    if (!Number.isInteger(level) || level < 0 || level >= available) {
      throw new ConfigError(`featureLevels[${i}]`, `must be an integer in 0..${available - 1} (the pyramid has ${available} level(s))`, level);
    }
  });
  return featureLevels;
}

/**
 * Appends a resize to the image size unless the logits already have it.
 * @param logits - symbolic logits
 * @param image - the model input
 * @param name - layer name of the resize
 */
export function toImageSize(logits: tf.SymbolicTensor, image: tf.SymbolicTensor, name: string): tf.SymbolicTensor {
  const [, h, w] = logits.shape;
  if (h !== null && w !== null && h === image.shape[1] && w === image.shape[2]) return logits;
  return new ResizeToMatch({ name }).apply([logits, image]) as tf.SymbolicTensor;
}

/**
 * The neck refines features, not scores, so its pyramid needs a decoder to
 * reach the logits: one 1×1 classifier (`<name>.neck_decoder<i>`) per level
 * of the refined pyramid, each resized bilinearly to the scores' size
 * (`<name>.neck_decoder<i>_resize`, only when the sizes may differ), summed
 * with the backbone's scores (`<name>.neck_scores`). Every level the neck
 * refines thus reaches the logits and trains. Zero-initialised, so training
 * starts from the plain backbone and the neck's contribution is learned.
 */
function neckDecoder(scores: tf.SymbolicTensor, features: tf.SymbolicTensor[], numClasses: number, name: string): tf.SymbolicTensor {
  const corrections = features.map((level, i) => {
    const classifier = tf.layers.conv2d({ name: `${name}.neck_decoder${i}`, filters: numClasses, kernelSize: 1, kernelInitializer: 'zeros' });
    const correction = classifier.apply(level) as tf.SymbolicTensor;
    const [, h, w] = correction.shape;
    if (h !== null && w !== null && h === scores.shape[1] && w === scores.shape[2]) return correction;
    return new ResizeToMatch({ name: `${name}.neck_decoder${i}_resize` }).apply([correction, scores]) as tf.SymbolicTensor;
  });
  return tf.layers.add({ name: `${name}.neck_scores` }).apply([scores, ...corrections]) as tf.SymbolicTensor;
}

/**
 * Assembles backbone → (neck) → refiner into one `tf.LayersModel`:
 * `image [B, H, W, 3] → logits [B, H, W, K]`.
 *
 * The refiner receives `[scores, ...features, image]` as its
 * `inputRoles()` asks: `features` are the first N pyramid levels (fine →
 * coarse) unless `featureLevels` says otherwise; the image goes last when
 * taken. Logits are resized bilinearly to the input size when the refiner
 * returns another size. Refiners and necks built from configs are named
 * `refiner` and `neck` (deterministic weight names for checkpoints).
 *
 * With a neck, every level of the refined pyramid feeds a zero-initialised
 * 1×1 classifier (`<name>.neck_decoder<i>`); their outputs, resized
 * bilinearly to the scores' size, are added to the backbone's scores, so the
 * neck's refinement of every level reaches the logits and trains, and training
 * starts from the plain backbone.
 *
 * Non-layer refiners (the dense CRF) are rejected with a {@link ConfigError}:
 * apply them to the model's output instead. So is an unknown option (a typo
 * such as `refinr`), and a refiner that takes more pyramid levels than the
 * backbone gives — both before any layer is built, so nothing leaks.
 *
 * ```ts illustrative
 * const model = createSegmenter({ backbone: { type: 'resnet', depth: 18, classes: 21 }, refiner: { type: 'difnet' } });
 * const logits = model.predict(images) as tf.Tensor4D;
 * ```
 * @param options - see {@link SegmenterOptions}
 */
export function createSegmenter(options: SegmenterOptions): tf.LayersModel {
  checkOptionKeys(options);
  const name = options.name ?? 'segmenter';
  const inputSize = checkInputSize(options.inputSize, 'inputSize');
  const resolved = resolveBackbone(options.backbone, options.registry);
  const backbone = options.freezeBackbone === true ? freezeBackbone(resolved, `${name}.frozen_backbone`) : resolved;
  const refiner: RefinerLayer = resolveRefinerLayer(options.refiner ?? { type: 'none' }, 'refiner', options.registry);
  const neck = options.neck === null || options.neck === undefined ? undefined : resolveNeck(options.neck, 'neck', options.registry);

  // Checked before any layer is applied (and so before any weight exists): a bad combination leaks nothing.
  if (neck !== undefined && backbone.outChannels.length === 0) throw new ConfigError('neck', `needs a pyramid, but backbone '${backbone.id}' gives none`, backbone.id);
  const imageLevels = options.imageAsFeature === true ? 1 : 0;
  const roles = refiner.inputRoles();
  const levels = pickLevels(imageLevels + backbone.outChannels.length, roles.features, options.featureLevels, refiner.refinerId);

  const image = tf.input({ shape: [inputSize?.[0] ?? null, inputSize?.[1] ?? null, 3], name: 'image' });
  const backboneOutputs = backbone.apply(image);
  let { scores } = backboneOutputs;
  let features = backboneOutputs.features;
  if (neck !== undefined) {
    features = neck.apply(features);
    scores = neckDecoder(scores, features, backbone.numClasses, name);
  }
  const pyramid = options.imageAsFeature === true ? [image, ...features] : features;
  const inputs = [scores, ...levels.map((i) => pyramid[i]!), ...(roles.image ? [image] : [])];
  const refined = refiner.apply(inputs.length === 1 ? inputs[0]! : inputs) as tf.SymbolicTensor;
  const logits = toImageSize(refined, image, `${name}.logits`);
  return tf.model({ inputs: image, outputs: logits, name });
}
