/**
 * The neck contract: a module placed between a backbone and a head that maps
 * a feature pyramid to a pyramid of the same shapes (SDN, DESIGN §5). Because
 * shapes are kept, any neck fits between any backbone and any head/refiner.
 *
 * A neck works both ways, like a refiner:
 * - symbolically, inside a functional `tf.model`:
 *   `neck.apply(features: tf.SymbolicTensor[]) → tf.SymbolicTensor[]`;
 * - eagerly: `neck.apply(features: tf.Tensor4D[]) → tf.Tensor4D[]`, or
 *   `neck.refineFeatures(features)` which also validates and checks for NaN.
 *
 * Differentiable necks extend {@link NeckLayer}, a `tf.layers.Layer` that
 * takes the pyramid as a list input and returns a list output (one output per
 * level), so a model holding it saves and reloads with `model.save()` /
 * `tf.loadLayersModel()`.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { DataError, ShapeError } from './errors.js';
import { withDefaultLayerName, type LayerArgs } from './component_name.js';
import { assertFinite } from './refiner.js';

/** Keyword arguments a neck call understands. */
export interface NeckCallKwargs {
  /** Training mode (batch norm uses batch statistics and updates its moving averages). */
  training?: boolean;
}

/** Options of {@link Neck.refineFeatures}. */
export interface NeckOptions {
  /** Training mode. Default false. */
  training?: boolean;
  /** Reject NaN/Inf in the inputs with a `DataError`. Default true. */
  checkFinite?: boolean;
}

/** Anything that maps a feature pyramid (fine → coarse) to a pyramid of the same shapes. */
export interface Neck {
  /**
   * Registry name, e.g. `'sdn'`. (Not `id`: a `tf.layers.Layer` already owns
   * a numeric `id`.)
   */
  readonly neckId: string;
  /** Whether gradients flow through the neck. */
  readonly differentiable: boolean;
  /**
   * Applies the neck to a symbolic pyramid, to build a `tf.model`.
   * @param features - pyramid levels `[B, h_i, w_i, C_i]`, fine → coarse
   * @param kwargs - e.g. `{ training: true }`
   */
  apply(features: tf.SymbolicTensor[], kwargs?: NeckCallKwargs): tf.SymbolicTensor[];
  /**
   * Applies the neck eagerly. The caller owns the returned tensors.
   * @param features - pyramid levels `[B, h_i, w_i, C_i]`, fine → coarse
   * @param kwargs - e.g. `{ training: true }`
   */
  apply(features: tf.Tensor4D[], kwargs?: NeckCallKwargs): tf.Tensor4D[];
  /**
   * Validates the pyramid, then applies the neck eagerly. The caller owns
   * the returned tensors.
   * @param features - pyramid levels, fine → coarse
   * @param options - training flag, finite check
   */
  refineFeatures(features: tf.Tensor4D[], options?: NeckOptions): tf.Tensor4D[];
  /** The trainable weights (empty until the neck has seen its first pyramid). */
  readonly trainableWeights: tf.LayerVariable[];
  /** Releases the neck's weights. */
  dispose(): void;
}

/** Input of `tf.layers.Layer.apply`: one or several tensors or symbolic tensors. */
/** What a layer's `apply()` accepts: one or several tensors, concrete or symbolic. */
export type LayerInput = tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[];

/** A shape list as tfjs hands it to `build`/`computeOutputShape` (a single shape for one input). */
export function shapeList(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
  return (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
}

/**
 * Base class of differentiable necks: a `tf.layers.Layer` whose input is the
 * pyramid as a list and whose output is a list of the same shapes.
 *
 * Subclasses implement {@link NeckLayer.forward}; this class normalises
 * single-level lists (tfjs unwraps one-element lists), validates ranks and
 * batch sizes, and checks that a built neck is called with the pyramid it was
 * built for (same number of levels, same channels), naming the level at fault.
 */
export abstract class NeckLayer extends tf.layers.Layer implements Neck {
  /** Registry name of the neck. */
  abstract readonly neckId: string;

  /** @param args - tfjs layer args; a layer whose class name is `package>name` and that gets no `name` is called `<name>_<n>` */
  constructor(args: LayerArgs = {}) {
    super(withDefaultLayerName(args, new.target));
  }
  /** Always true: gradients flow through a NeckLayer. */
  readonly differentiable: boolean = true;
  /** Channels per level this neck was built for (set by {@link NeckLayer.build}). */
  protected builtChannels: number[] | undefined;

  /**
   * The neck itself, on validated inputs (called inside `tf.tidy`).
   * @param features - pyramid levels, fine → coarse
   * @param kwargs - training flag
   * @returns one tensor per level, each of its input's shape
   */
  protected abstract forward(features: tf.Tensor4D[], kwargs: NeckCallKwargs): tf.Tensor4D[];

  /**
   * Creates the weights for a pyramid of these shapes. Subclasses call
   * `super.build(inputShape)` first, then read {@link NeckLayer.builtChannels}.
   * @param inputShape - one shape per level (tfjs passes a single shape for one level)
   */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = shapeList(inputShape);
    this.checkShapes(shapes, false);
    this.builtChannels = shapes.map((s) => s[3] as number);
    this.built = true;
  }

  /**
   * Symbolic or eager application; always returns a list (one entry per level).
   * @param inputs - the pyramid, fine → coarse
   * @param kwargs - e.g. `{ training: true }`
   */
  override apply(inputs: tf.SymbolicTensor[], kwargs?: NeckCallKwargs): tf.SymbolicTensor[];
  override apply(inputs: tf.Tensor4D[], kwargs?: NeckCallKwargs): tf.Tensor4D[];
  override apply(inputs: LayerInput, kwargs?: tf.serialization.ConfigDict): tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[];
  override apply(inputs: LayerInput, kwargs?: tf.serialization.ConfigDict | NeckCallKwargs): tf.Tensor | tf.Tensor[] | tf.SymbolicTensor | tf.SymbolicTensor[] {
    const list = (Array.isArray(inputs) ? inputs : [inputs]) as (tf.Tensor | tf.SymbolicTensor)[];
    if (list.length === 0) throw new ShapeError('features', `must have at least one level for ${this.neckId}`, '0 level(s)');
    list.forEach((f, i) => {
      if (!(f instanceof tf.Tensor) && !(f instanceof tf.SymbolicTensor)) throw new ShapeError(`features[${i}]`, 'must be a tf.Tensor or tf.SymbolicTensor', f);
      if (f.dtype !== 'float32') throw new DataError(`features[${i}]`, "must be float32 features (cast it with tf.cast(x, 'float32'))", `dtype ${f.dtype}`);
    });
    this.checkShapes(
      list.map((f) => f.shape),
      this.built,
    );
    const out = super.apply(list as tf.Tensor[], kwargs as tf.serialization.ConfigDict | undefined);
    return Array.isArray(out) ? out : [out as tf.Tensor];
  }

  /** {@inheritDoc Neck.refineFeatures} */
  refineFeatures(features: tf.Tensor4D[], options: NeckOptions = {}): tf.Tensor4D[] {
    if (!Array.isArray(features)) throw new ShapeError('features', 'must be an array of tensors (the pyramid, fine → coarse)', features);
    features.forEach((f, i) => {
      if (!(f instanceof tf.Tensor)) throw new ShapeError(`features[${i}]`, 'must be a tf.Tensor', f);
    });
    this.checkShapes(
      features.map((f) => f.shape),
      this.built,
    );
    if (options.checkFinite ?? true) features.forEach((f, i) => assertFinite(f, `features[${i}]`));
    return tf.tidy(() => this.apply(features, { training: options.training ?? false }));
  }

  /** tfjs entry point: normalises the list and runs {@link NeckLayer.forward}. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): tf.Tensor[] {
    return tf.tidy(() => {
      const features = (Array.isArray(inputs) ? inputs : [inputs]) as tf.Tensor4D[];
      this.checkShapes(
        features.map((f) => f.shape),
        true,
      );
      const outputs = this.forward(features, { training: kwargs['training'] === true });
      // Eager callers expect fresh tensors they own, even for a level passed through.
      return outputs.map((o) => (features.includes(o) ? tf.clone(o) : o));
    });
  }

  /** The pyramid's shapes, unchanged (a list, one shape per level). */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    return shapeList(inputShape).map((s) => [...s]);
  }

  /**
   * Releases the weights. Safe to call on a neck that never ran (nothing to release).
   */
  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    if (!this.built) return { refCountAfterDispose: 0, numDisposedVariables: 0 };
    return super.dispose();
  }

  /**
   * Checks ranks and batch sizes and, once built, the number of levels and
   * their channels, throwing a {@link ShapeError} that names the level.
   * @param shapes - one shape per level
   * @param againstBuilt - also compare with the pyramid the neck was built for
   */
  protected checkShapes(shapes: tf.Shape[], againstBuilt: boolean): void {
    shapes.forEach((shape, i) => {
      if (shape.length !== 4) throw new ShapeError(`features[${i}]`, 'must be rank 4 (NHWC)', shape);
      if (shape[3] === null || shape[3] === undefined) throw new ShapeError(`features[${i}]`, 'must have a known channel count', shape);
      if (shape.some((d) => d === 0)) throw new ShapeError(`features[${i}]`, 'must not have a zero-size dimension', shape);
    });
    const batch = shapes[0]?.[0];
    shapes.forEach((shape, i) => {
      if (batch !== null && batch !== undefined && shape[0] !== null && shape[0] !== batch) {
        throw new ShapeError(`features[${i}]`, `must have the batch size of features[0] (${batch})`, shape);
      }
    });
    const built = this.builtChannels;
    if (!againstBuilt || built === undefined) return;
    if (shapes.length !== built.length) {
      throw new ShapeError('features', `must have ${built.length} level(s), as when ${this.neckId} was built`, `${shapes.length} level(s)`);
    }
    shapes.forEach((shape, i) => {
      if (shape[3] !== built[i]) throw new ShapeError(`features[${i}]`, `must have ${built[i]} channels, as when ${this.neckId} was built`, shape);
    });
  }
}
