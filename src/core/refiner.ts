/**
 * The refiner contract (DESIGN §3): {@link RefinerInputs}, {@link Refiner} and
 * the abstract {@link RefinerLayer} every differentiable refiner extends.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { CompositeLayer } from './composite_layer.js';
import { ConfigError, DataError, ShapeError } from './errors.js';
import { isSize2D, resizeBilinear, type Size2D } from './ops/resize.js';

/** What a refiner receives. Scores are logits; features run fine → coarse. */
export interface RefinerInputs {
  /** Logits `[B, h, w, K]` from any backbone. */
  scores: tf.Tensor4D;
  /** Feature pyramid, fine → coarse, any sizes and channel counts. */
  features?: tf.Tensor4D[];
  /** RGB image `[B, H, W, 3]` in [0, 1]. */
  image?: tf.Tensor4D;
}

/** Options for {@link Refiner.refine}. */
export interface RefineOptions {
  /** Output `[height, width]`; default the layer's `outputSize`, else the scores' size. */
  outputSize?: Size2D;
  /** Training mode (batch norm uses batch statistics). Default false. */
  training?: boolean;
  /**
   * Check the inputs' values before running (one read per input): NaN/Inf
   * anywhere, or an image outside [0, 1], is a {@link DataError}. Default true.
   */
  checkFinite?: boolean;
}

/** One map of a {@link RefinerInspection}, drawn as a tile in the bench's panels. */
export interface InspectionMap {
  /** Tile caption, e.g. `importance M`. */
  caption: string;
  /** `labels`: class scores `[B, h, w, K]` drawn as their argmax; `heat`: one channel `[B, h, w, 1]`. */
  kind: 'labels' | 'heat';
  /** The map (owned by the inspection). */
  tensor: tf.Tensor4D;
  /** Value range of a heat map (default: its min and max). */
  range?: [number, number];
}

/** What a refiner shows about one forward pass: maps for panels and learned values for tables. */
export interface RefinerInspection {
  /** Maps to draw, in order. */
  readonly maps: readonly InspectionMap[];
  /** Named learned or measured values (e.g. DifNet's `mu` and `beta` per walk). */
  readonly values: Readonly<Record<string, readonly number[]>>;
  /** Releases every tensor of the inspection. */
  dispose(): void;
}

/** Anything that turns scores (plus features/image) into refined logits. */
export interface Refiner {
  /**
   * Registry name: `'difnet'`, `'spn'`, `'none'`, … (Not `id`: a
   * `tf.layers.Layer` already owns a numeric `id` that tfjs keys its graphs on.)
   */
  readonly refinerId: string;
  /** Whether gradients flow through {@link Refiner.refine}. */
  readonly differentiable: boolean;
  /**
   * Refines eagerly. Returns logits `[B, H', W', K]`; the caller owns the result.
   * @param inputs - scores and whatever else the refiner takes
   * @param options - output size, training flag, finite check
   */
  refine(inputs: RefinerInputs, options?: RefineOptions): tf.Tensor4D;
  /**
   * Optional: the intermediates worth looking at for these inputs (the bench
   * draws {@link RefinerInspection.maps} in its panels and records
   * {@link RefinerInspection.values} in results.json). The caller disposes it.
   */
  inspect?(inputs: RefinerInputs): RefinerInspection;
  /** Releases the refiner's weights. */
  dispose(): void;
}

/** Which inputs a {@link RefinerLayer} takes, in `apply()` order `[scores, ...features, image]`. */
export interface RefinerInputRoles {
  /** Exact number of pyramid levels taken (0 = none). */
  readonly features: number;
  /** Whether the image is taken (last in the list). */
  readonly image: boolean;
}

/** An `apply()` list with roles attached (tensors, symbolic tensors or shapes). */
export interface NamedInputs<T> {
  /** The scores entry. */
  scores: T;
  /** The feature levels taken, fine → coarse. */
  features: T[];
  /** The image, when taken. */
  image?: T;
}

/** Keyword arguments a {@link RefinerLayer} call understands. */
export interface RefinerCallKwargs {
  /** Training mode. */
  training?: boolean;
  /** Output size overriding the layer's configured one. */
  outputSize?: Size2D;
}

/** Base layer arguments tfjs passes through `fromConfig`; everything else is the refiner's. */
const LAYER_ARG_KEYS = ['name', 'trainable', 'dtype', 'batchInputShape', 'inputShape', 'batchSize', 'inputDType', 'weights', 'customObjects', 'fastWeightInitDuringBuild'] as const;

/** Constructor args split by {@link splitLayerArgs}. */
export interface SplitLayerArgs {
  /** Base layer args (`name`, `trainable`, …) for `super()`. */
  layerArgs: Record<string, unknown>;
  /** The refiner's own args, to validate with its schema. */
  own: Record<string, unknown>;
}

/**
 * Splits constructor args into tfjs's base `tf.layers.Layer` args and the
 * refiner's own args (which are then schema-validated).
 * @param args - everything the constructor received
 */
export function splitLayerArgs<T extends object>(args: T | undefined): SplitLayerArgs {
  const layerArgs: Record<string, unknown> = {};
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args ?? {})) {
    if ((LAYER_ARG_KEYS as readonly string[]).includes(key)) layerArgs[key] = value;
    else own[key] = value;
  }
  return { layerArgs, own };
}

function assertRank4(t: tf.Tensor | undefined, argument: string): asserts t is tf.Tensor4D {
  if (t === undefined || t === null) throw new ShapeError(argument, 'is required', t);
  if (!(t instanceof tf.Tensor)) throw new ShapeError(argument, 'must be a tf.Tensor', t);
  if (t.rank !== 4) throw new ShapeError(argument, 'must be rank 4 (NHWC)', t);
  // A zero batch, height, width or channel count traps the wasm kernels (divide by zero) or gives NaN.
  if (t.size === 0) throw new ShapeError(argument, 'must not have a zero-size dimension', t);
}

/**
 * Checks {@link RefineOptions} before anything runs: `outputSize`, when
 * given, must be `[height, width]` of positive integers (a fractional,
 * negative or zero size would otherwise come back as a tensor of that shape).
 * @param options - the options of a `refine()` call
 */
export function checkRefineOptions(options: RefineOptions): void {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'must be an object', options);
  const size = options.outputSize;
  if (size !== undefined && !isSize2D(size)) {
    throw new ConfigError('options.outputSize', 'must be [height, width] of positive integers', size);
  }
}

/**
 * Throws a {@link DataError} naming `argument` if `t` holds NaN or ±Inf.
 * Integer and boolean tensors are finite by construction and pass unread.
 */
export function assertFinite(t: tf.Tensor, argument: string): void {
  if (t.dtype !== 'float32') return; // (wasm's IsFinite reads int32 bits as floats: -2 would be "NaN")
  const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(t))).dataSync()[0]);
  if (bad === 1) throw new DataError(argument, 'must contain only finite values (NaN or Inf found)', t);
}

/**
 * Throws a {@link DataError} naming `argument` unless `t` is float32 (the
 * dtype of scores, features and images everywhere in segrefine).
 * @param t - the tensor
 * @param argument - its name, e.g. `inputs.scores`
 * @param what - what it holds, for the message, e.g. `logits`
 */
export function assertFloat32(t: tf.Tensor, argument: string, what: string): void {
  if (t.dtype !== 'float32') throw new DataError(argument, `must be float32 ${what} (cast it with tf.cast(x, 'float32'))`, `dtype ${t.dtype}`);
}

/** How far outside [0, 1] an image value may lie (float rounding of a resize or a division by 255). */
const IMAGE_RANGE_TOLERANCE = 1e-3;

/**
 * Checks an image against the library's convention, RGB float32 in [0, 1],
 * with one read (finite values, minimum and maximum): an image in 0–255 or
 * with NaN is a {@link DataError} naming `argument` and the convention.
 * @param image - `[B, H, W, 3]`
 * @param argument - its name, e.g. `inputs.image`
 */
export function assertUnitImage(image: tf.Tensor, argument: string): void {
  assertFloat32(image, argument, 'RGB in [0, 1]');
  const [finite, min, max] = tf.tidy(() => tf.stack([tf.cast(tf.all(tf.isFinite(image)), 'float32'), tf.min(image), tf.max(image)]).dataSync());
  if (finite !== 1) throw new DataError(argument, 'must contain only finite values (NaN or Inf found)', image);
  if (min! < -IMAGE_RANGE_TOLERANCE || max! > 1 + IMAGE_RANGE_TOLERANCE) {
    const hint = max! > 1 + IMAGE_RANGE_TOLERANCE && max! <= 255 + IMAGE_RANGE_TOLERANCE && min! >= -IMAGE_RANGE_TOLERANCE ? ' (0–255 values? divide by 255)' : '';
    throw new DataError(argument, `must hold RGB values in [0, 1], the library's image convention${hint}`, `values in [${min}, ${max}]`);
  }
}

/**
 * A differentiable refiner: a `tf.layers.Layer` that works in a functional
 * model (`layer.apply([scores, ...features, image])`) and eagerly
 * (`layer.refine({ scores, features, image })`).
 *
 * Subclasses declare {@link RefinerLayer.inputRoles} and implement
 * {@link RefinerLayer.forward}; this class maps, counts and validates inputs.
 */
export abstract class RefinerLayer extends CompositeLayer implements Refiner {
  /** Registry name of the refiner. */
  abstract readonly refinerId: string;
  /** Always true: gradients flow through a RefinerLayer. */
  readonly differentiable: boolean = true;

  /** The inputs this layer takes. */
  abstract inputRoles(): RefinerInputRoles;

  /**
   * The refiner's own training loss for the last training-mode forward pass
   * (e.g. the segmentation-aware embedding loss), or null when it has none.
   * `train()` calls it for every refiner layer of the model inside the same
   * gradient scope, right after the forward pass, and adds it to the
   * cross-entropy; then it calls {@link RefinerLayer.releaseTrainingState}.
   * Subclasses that override it keep what they need during `forward` with
   * `training: true`.
   * @param labels - the batch's labels `[B, H, W]` at the image size (255 = void)
   */
  auxiliaryLoss(labels: tf.Tensor3D): tf.Scalar | null {
    void labels;
    return null;
  }

  /** Releases whatever the last training-mode forward pass kept for {@link RefinerLayer.auxiliaryLoss}. */
  releaseTrainingState(): void {}

  /** The configured output size, or undefined for "the scores' size". */
  protected abstract configuredOutputSize(): Size2D | undefined;

  /**
   * The refinement itself, on validated inputs.
   * @param inputs - scores, and the features/image this layer takes
   * @param kwargs - training flag and output size
   */
  protected abstract forward(inputs: RefinerInputs, kwargs: RefinerCallKwargs): tf.Tensor4D;

  /**
   * Orders {@link RefinerInputs} into this layer's `apply()` list, checking that
   * nothing is missing or extra.
   * @param inputs - the named inputs
   */
  toInputList(inputs: RefinerInputs): tf.Tensor4D[] {
    const roles = this.inputRoles();
    const features = inputs.features ?? [];
    if (features.length !== roles.features) {
      throw new ShapeError('inputs.features', `must have exactly ${roles.features} level(s) for ${this.refinerId}`, `${features.length} level(s)`);
    }
    if (roles.image && inputs.image === undefined) throw new ShapeError('inputs.image', `is required by ${this.refinerId}`, undefined);
    if (!roles.image && inputs.image !== undefined) throw new ShapeError('inputs.image', `is not taken by ${this.refinerId}`, inputs.image);
    return [inputs.scores, ...features, ...(roles.image && inputs.image ? [inputs.image] : [])];
  }

  /**
   * Inverse of {@link RefinerLayer.toInputList}: names an `apply()` list.
   * @param list - `[scores, ...features, image?]`
   */
  fromInputList<T>(list: T[]): NamedInputs<T> {
    const roles = this.inputRoles();
    const expected = 1 + roles.features + (roles.image ? 1 : 0);
    if (!Array.isArray(list) || list.length !== expected) {
      const layout = `[scores${roles.features > 0 ? `, ${roles.features} feature level(s)` : ''}${roles.image ? ', image' : ''}]`;
      throw new ShapeError(`${this.refinerId} inputs`, `must be a list ${layout} (${expected} tensors)`, Array.isArray(list) ? `${list.length} tensor(s)` : list);
    }
    const named: NamedInputs<T> = { scores: list[0] as T, features: list.slice(1, 1 + roles.features) };
    if (roles.image) named.image = list[expected - 1];
    return named;
  }

  /**
   * Validates ranks, batch sizes, dtypes (float32) and the image's channel
   * count; with `checkValues` (eager `refine()`, by default) also that every
   * value is finite and that the image is in [0, 1] (one read each).
   * Subclasses may add their own checks (e.g. a memory estimate) after it.
   */
  protected validateInputs(inputs: NamedInputs<tf.Tensor>, checkValues: boolean): void {
    assertRank4(inputs.scores, 'inputs.scores');
    assertFloat32(inputs.scores, 'inputs.scores', 'logits');
    const batch = inputs.scores.shape[0];
    inputs.features.forEach((f, i) => {
      assertRank4(f, `inputs.features[${i}]`);
      assertFloat32(f, `inputs.features[${i}]`, 'features');
      if (f.shape[0] !== batch) throw new ShapeError(`inputs.features[${i}]`, `must have the scores' batch size ${batch}`, f);
    });
    if (inputs.image !== undefined) {
      assertRank4(inputs.image, 'inputs.image');
      assertFloat32(inputs.image, 'inputs.image', 'RGB in [0, 1]');
      if (inputs.image.shape[0] !== batch) throw new ShapeError('inputs.image', `must have the scores' batch size ${batch}`, inputs.image);
      if (inputs.image.shape[3] !== 3) throw new ShapeError('inputs.image', 'must have 3 (RGB) channels', inputs.image);
    }
    if (checkValues) {
      assertFinite(inputs.scores, 'inputs.scores');
      inputs.features.forEach((f, i) => assertFinite(f, `inputs.features[${i}]`));
      if (inputs.image !== undefined) assertUnitImage(inputs.image, 'inputs.image');
    }
  }

  /** {@inheritDoc Refiner.refine} */
  refine(inputs: RefinerInputs, options: RefineOptions = {}): tf.Tensor4D {
    checkRefineOptions(options);
    const list = this.toInputList(inputs);
    this.validateInputs(this.fromInputList(list), options.checkFinite ?? true);
    return tf.tidy(() => this.apply(list, { training: options.training ?? false, outputSize: options.outputSize }) as tf.Tensor4D);
  }

  /** tfjs entry point: names the inputs and runs {@link RefinerLayer.forward}. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor4D {
    return tf.tidy(() => {
      const named = this.fromInputList(Array.isArray(inputs) ? inputs : [inputs]) as NamedInputs<tf.Tensor4D>;
      this.validateInputs(named, false);
      const callKwargs: RefinerCallKwargs = {
        training: kwargs['training'] === true,
        outputSize: (kwargs['outputSize'] as Size2D | undefined) ?? this.configuredOutputSize(),
      };
      return this.forward(named, callKwargs);
    });
  }

  /**
   * Output shape: the scores' batch, the output size (configured or the
   * scores'), and {@link RefinerLayer.outputChannels} channels.
   */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    const scores = this.fromInputList(shapes).scores;
    const size = this.configuredOutputSize();
    return [scores[0] ?? null, size ? size[0] : scores[1] ?? null, size ? size[1] : scores[2] ?? null, this.outputChannels(scores[3] ?? null)];
  }

  /**
   * Releases the weights. Unlike `tf.layers.Layer.dispose()`, it is safe on a
   * layer that was never applied or built (a refiner may be created and
   * dropped without use).
   */
  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    this.releaseTrainingState();
    const used = (this as unknown as { _refCount: number | null })._refCount !== null;
    if (this.built && used) return super.dispose();
    const weights = this.built ? this.weights : [];
    weights.forEach((w) => w.dispose());
    return { refCountAfterDispose: 0, numDisposedVariables: weights.length };
  }

  /** Channels of the output given the scores' K (refiners keep K). */
  protected outputChannels(scoreChannels: number | null): number | null {
    return scoreChannels;
  }

  /**
   * Resizes logits to the requested size (bilinear, `alignCorners: false`).
   * @param logits - `[B, h, w, K]`
   * @param size - target size, or undefined to keep it
   */
  protected toOutputSize(logits: tf.Tensor4D, size: Size2D | undefined): tf.Tensor4D {
    return size === undefined ? logits : resizeBilinear(logits, size);
  }
}
