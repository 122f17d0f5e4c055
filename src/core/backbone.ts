/**
 * The backbone contract (DESIGN §3), as in segmentation_models_pytorch: a
 * backbone maps an image to class scores and a feature pyramid.
 * @module
 */
import type * as tf from '@tensorflow/tfjs';

/** A backbone's outputs: logits and a pyramid ordered fine → coarse. */
export interface BackboneOutputs<T> {
  /** Logits `[B, H/outputStride, W/outputStride, K]`. */
  scores: T;
  /** Feature pyramid, fine → coarse. */
  features: T[];
}

/** Keyword arguments of {@link Backbone.apply}. */
export interface BackboneCallKwargs {
  /** Training mode (batch norm uses batch statistics). */
  training?: boolean;
}

/** Any network that produces scores and a pyramid from an RGB image in [0, 1]. */
export interface Backbone {
  /** Registry name, e.g. `'resnet18'`, `'fcn'`, `'user'`. */
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
   * Applies the backbone to a symbolic input, to build a `tf.model`.
   * @param image - `[B, H, W, 3]`
   * @param kwargs - e.g. `{ training: true }`
   */
  apply(image: tf.SymbolicTensor, kwargs?: BackboneCallKwargs): BackboneOutputs<tf.SymbolicTensor>;
  /**
   * Applies the backbone eagerly.
   * @param image - `[B, H, W, 3]`
   * @param kwargs - e.g. `{ training: true }`
   */
  apply(image: tf.Tensor4D, kwargs?: BackboneCallKwargs): BackboneOutputs<tf.Tensor4D>;
  /** The trainable weights of the backbone. */
  readonly trainableWeights: tf.LayerVariable[];
}
