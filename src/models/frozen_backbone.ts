/**
 * `freezeBackbone()`: a backbone whose weights do not train and whose batch
 * norm always runs on its moving statistics, whatever the model's training
 * flag — how the refine-frozen protocol (and fine-tuning a head on a
 * pretrained backbone) uses a backbone inside `createSegmenter`.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone, BackboneCallKwargs, BackboneOutputs } from '../core/backbone.js';

/**
 * One layer running a backbone in inference mode. Its weights are the
 * backbone's, all non-trainable; outputs `[scores, ...features]`.
 */
class FrozenBackboneLayer extends tf.layers.Layer {
  /** tfjs serialization name (the layer is not meant to be saved by config). */
  static readonly className = 'SegrefineFrozenBackbone';
  private readonly inner: tf.LayersModel;

  constructor(backbone: Backbone, name: string) {
    super({ name, trainable: false });
    const image = tf.input({ shape: [null, null, 3], name: `${name}_image` });
    const { scores, features } = backbone.apply(image);
    this.inner = tf.model({ inputs: image, outputs: [scores, ...features], name: `${name}_model` });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    return this.inner.computeOutputShape(inputShape as tf.Shape) as tf.Shape[];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    const image = Array.isArray(inputs) ? inputs[0]! : inputs;
    // Inference mode always: batch norm keeps (and uses) the trained statistics.
    const out = this.inner.apply(image, { training: false });
    return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
  }

  override get trainableWeights(): tf.LayerVariable[] {
    return [];
  }

  override set trainableWeights(weights: tf.LayerVariable[]) {
    super.trainableWeights = weights;
  }

  override get nonTrainableWeights(): tf.LayerVariable[] {
    return this.inner.weights;
  }

  override set nonTrainableWeights(weights: tf.LayerVariable[]) {
    super.nonTrainableWeights = weights;
  }

  /**
   * Releases this block's use of the backbone's layers (tfjs counts every
   * model a layer is used in); the weights are freed only once the backbone's
   * other users are disposed too.
   */
  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    return this.inner.dispose();
  }
}

/**
 * Wraps a (trained) backbone so that, inside a model, it is not trained and
 * its batch norm uses the moving statistics even in training mode. The
 * weights stay shared with `backbone` (disposing the model leaves them).
 * @param backbone - any backbone
 * @param name - layer name of the frozen block
 */
export function freezeBackbone(backbone: Backbone, name = 'frozen_backbone'): Backbone {
  const layer = new FrozenBackboneLayer(backbone, name);
  function apply(image: tf.SymbolicTensor, kwargs?: BackboneCallKwargs): BackboneOutputs<tf.SymbolicTensor>;
  function apply(image: tf.Tensor4D, kwargs?: BackboneCallKwargs): BackboneOutputs<tf.Tensor4D>;
  function apply(image: tf.SymbolicTensor | tf.Tensor4D): BackboneOutputs<tf.SymbolicTensor | tf.Tensor4D> {
    const [scores, ...features] = layer.apply(image) as (tf.SymbolicTensor | tf.Tensor4D)[];
    return { scores: scores!, features };
  }
  return {
    id: backbone.id,
    numClasses: backbone.numClasses,
    outChannels: backbone.outChannels,
    levelStrides: backbone.levelStrides,
    outputStride: backbone.outputStride,
    apply,
    get trainableWeights(): tf.LayerVariable[] {
      return [];
    },
  };
}
