/**
 * The shared machinery of the built-in backbones: a graph of standard tfjs
 * layers, created once (named and seeded by a {@link LayerFactory}) and run by
 * `apply()` on either symbolic tensors (to build a `tf.model`) or eager ones.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone, BackboneCallKwargs, BackboneOutputs } from '../core/backbone.js';
import { DataError, ShapeError } from '../core/errors.js';
import { assertUnitImage } from '../core/refiner.js';
import type { LayerFactory } from './layer_factory.js';

/** A tensor the backbone graph flows: eager or symbolic. */
export type GraphTensor = tf.Tensor4D | tf.SymbolicTensor;

/**
 * Runs layers on either kind of tensor. Symbolic calls carry no kwargs (tfjs
 * would store them in the model and replay them forever); the model's own
 * `training` flag reaches every layer when the model runs.
 */
export class LayerRunner {
  /**
   * @param kwargs - eager call kwargs (`training`), ignored for symbolic tensors
   */
  constructor(private readonly kwargs: BackboneCallKwargs | undefined) {}

  /**
   * Applies `layer` to one input or a list of inputs.
   * @param layer - any tfjs layer
   * @param inputs - eager or symbolic tensor(s)
   */
  run<T extends GraphTensor>(layer: tf.layers.Layer, inputs: T | T[]): T {
    const first = Array.isArray(inputs) ? inputs[0] : inputs;
    const symbolic = first instanceof tf.SymbolicTensor;
    const kwargs = symbolic || this.kwargs === undefined ? undefined : { training: this.kwargs.training === true };
    return layer.apply(inputs as tf.Tensor | tf.Tensor[], kwargs) as T;
  }

  /**
   * Applies layers one after another.
   * @param layers - applied in order
   * @param input - eager or symbolic tensor
   */
  chain<T extends GraphTensor>(layers: tf.layers.Layer[], input: T): T {
    return layers.reduce<T>((x, layer) => this.run(layer, x), input);
  }
}

/** Static description of a backbone, fixed at construction. */
export interface BackboneGeometry {
  /** Registry id, e.g. `'resnet'`. */
  id: string;
  /** Number of classes K of the scores. */
  numClasses: number;
  /** Channels of each pyramid level, fine → coarse. */
  outChannels: number[];
  /** Stride of each pyramid level, fine → coarse. */
  levelStrides: number[];
  /** Stride of the scores. */
  outputStride: number;
}

/**
 * Base class of the built-in backbones. Subclasses create their layers in
 * the constructor through {@link LayerBackbone.factory} and implement
 * {@link LayerBackbone.forward}.
 */
export abstract class LayerBackbone implements Backbone {
  /** Registry name. */
  readonly id: string;
  /** Number of classes K of the scores. */
  readonly numClasses: number;
  /** Channels of each pyramid level, fine → coarse. */
  readonly outChannels: readonly number[];
  /** Stride of each pyramid level relative to the image, fine → coarse. */
  readonly levelStrides: readonly number[];
  /** Stride of the scores relative to the image. */
  readonly outputStride: number;

  /**
   * @param factory - the factory the subclass creates its layers with
   * @param geometry - channels and strides the subclass produces
   */
  protected constructor(
    protected readonly factory: LayerFactory,
    geometry: BackboneGeometry,
  ) {
    this.id = geometry.id;
    this.numClasses = geometry.numClasses;
    this.outChannels = geometry.outChannels;
    this.levelStrides = geometry.levelStrides;
    this.outputStride = geometry.outputStride;
  }

  /** The layer-name prefix of this backbone (e.g. `'seed'`). */
  get name(): string {
    return this.factory.prefix;
  }

  /**
   * The backbone's graph, on either kind of tensor.
   * @param image - `[B, H, W, 3]`
   * @param runner - applies layers with the right kwargs
   */
  protected abstract forward<T extends GraphTensor>(image: T, runner: LayerRunner): BackboneOutputs<T>;

  /** {@inheritDoc Backbone.apply} */
  apply(image: tf.SymbolicTensor, kwargs?: BackboneCallKwargs): BackboneOutputs<tf.SymbolicTensor>;
  apply(image: tf.Tensor4D, kwargs?: BackboneCallKwargs): BackboneOutputs<tf.Tensor4D>;
  apply(image: GraphTensor, kwargs?: BackboneCallKwargs): BackboneOutputs<GraphTensor> {
    checkImage(image, `${this.id} image`);
    const runner = new LayerRunner(kwargs);
    if (image instanceof tf.SymbolicTensor) return this.forward(image, runner);
    assertUnitImage(image, `${this.id} image`);
    // Eager: keep only the outputs; intermediate activations are released.
    const flat = tf.tidy(() => {
      const out = this.forward(image, runner);
      return [out.scores, ...out.features];
    });
    return { scores: flat[0]!, features: flat.slice(1) };
  }

  /** Every layer of the backbone, in creation order. */
  get layers(): readonly tf.layers.Layer[] {
    return this.factory.layers;
  }

  /** The trainable weights (empty until the backbone has been applied once). */
  get trainableWeights(): tf.LayerVariable[] {
    return this.factory.layers.flatMap((l) => l.trainableWeights);
  }

  /** All weights, including batch-norm moving statistics. */
  get weights(): tf.LayerVariable[] {
    return this.factory.layers.flatMap((l) => l.weights);
  }

  /** Number of weight values (trainable and not), once applied. */
  countParams(): number {
    return this.weights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
  }

  /** Releases the weights of every layer that has been built. */
  dispose(): void {
    for (const layer of this.factory.layers) if (layer.built) layer.dispose();
  }
}

/**
 * Checks that an image is a float32 tensor of rank 4 with 3 channels and no
 * zero-size dimension, naming `argument` (no value is read: the eager
 * backbones also check the [0, 1] range).
 * @param image - eager or symbolic tensor
 * @param argument - how to name it in the error
 */
export function checkImage(image: GraphTensor, argument: string): void {
  if (!(image instanceof tf.Tensor) && !(image instanceof tf.SymbolicTensor)) {
    throw new ShapeError(argument, 'must be a tf.Tensor4D or a tf.SymbolicTensor', image);
  }
  if (image.shape.length !== 4) throw new ShapeError(argument, 'must be rank 4 [B, H, W, 3]', `shape [${image.shape.join(', ')}]`);
  if (image.shape[3] !== 3) throw new ShapeError(argument, 'must have 3 (RGB) channels', `shape [${image.shape.join(', ')}]`);
  if (image.shape.some((d) => d === 0)) throw new ShapeError(argument, 'must not have a zero-size dimension', `shape [${image.shape.join(', ')}]`);
  if (image.dtype !== 'float32') throw new DataError(argument, "must be float32 RGB in [0, 1] (cast it with tf.cast(x, 'float32'))", `dtype ${image.dtype}`);
}
