/**
 * `fromLayersModel()`: wraps any user `tf.LayersModel` as a {@link Backbone}
 * by naming the layers whose outputs are the scores and the pyramid, so a
 * user's own network plugs into any refiner.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone, BackboneCallKwargs, BackboneOutputs } from '../core/backbone.js';
import { ConfigError, ShapeError } from '../core/errors.js';
import { checkImage, type GraphTensor } from './layer_backbone.js';

/** Options of {@link fromLayersModel}. */
export interface FromLayersModelOptions {
  /** Name of the layer whose output is the logits `[B, h, w, K]`. */
  scores: string;
  /**
   * Names of the layers whose outputs form the pyramid, fine → coarse.
   * @defaultValue []
   */
  features?: string[];
  /**
   * Registry-style id of the wrapped backbone.
   * @defaultValue 'user'
   */
  id?: string;
  /**
   * Name of the sub-model holding the named outputs (unique within a model).
   * @defaultValue 'user_backbone'
   */
  name?: string;
  /**
   * Image size `[H, W]` used to measure strides when the model's input size is
   * not fixed (one eager forward pass on zeros).
   * @defaultValue [64, 64]
   */
  probeSize?: [number, number];
}

/** A user model exposed through the backbone contract. */
export class LayersModelBackbone implements Backbone {
  /** Registry-style id. */
  readonly id: string;
  /** Number of classes K (channels of the scores layer). */
  readonly numClasses: number;
  /** Channels of each named feature layer, fine → coarse. */
  readonly outChannels: readonly number[];
  /** Stride of each named feature layer, fine → coarse. */
  readonly levelStrides: readonly number[];
  /** Stride of the scores. */
  readonly outputStride: number;
  /** The sub-model `image → [scores, ...features]` (shares the user model's layers). */
  readonly model: tf.LayersModel;

  /**
   * @param source - the user model (one image input `[B, H, W, 3]`)
   * @param options - layer names of the scores and the pyramid
   */
  constructor(source: tf.LayersModel, options: FromLayersModelOptions) {
    if (!(source instanceof tf.LayersModel)) throw new ConfigError('fromLayersModel model', 'must be a tf.LayersModel', source);
    if (source.inputs.length !== 1) throw new ConfigError('fromLayersModel model', 'must have exactly one input (the image)', `${source.inputs.length} inputs`);
    const input = source.inputs[0]!;
    if (input.shape.length !== 4 || input.shape[3] !== 3) throw new ShapeError('fromLayersModel model input', 'must be [B, H, W, 3]', `shape [${input.shape.join(', ')}]`);
    this.id = options.id ?? 'user';
    const outputOf = (layerName: string, argument: string): tf.SymbolicTensor => {
      const layer = source.layers.find((l) => l.name === layerName);
      if (layer === undefined) {
        const names = source.layers.map((l) => l.name);
        const listed = names.length > 12 ? `${names.slice(0, 12).join(', ')}, … (${names.length} layers)` : names.join(', ');
        throw new ConfigError(argument, `must name a layer of the model (${listed})`, layerName);
      }
      let output: tf.SymbolicTensor | tf.SymbolicTensor[];
      try {
        output = layer.output;
      } catch {
        throw new ConfigError(argument, 'must name a layer used once in the model (it has several outputs)', layerName);
      }
      if (Array.isArray(output)) throw new ConfigError(argument, 'must name a layer with a single output', layerName);
      if (output.shape.length !== 4) throw new ShapeError(argument, 'must name a layer with a rank-4 (NHWC) output', `shape [${output.shape.join(', ')}]`);
      if (output.shape[3] === null) throw new ShapeError(argument, 'must name a layer with a known channel count', `shape [${output.shape.join(', ')}]`);
      return output;
    };
    const scores = outputOf(options.scores, 'fromLayersModel options.scores');
    const features = (options.features ?? []).map((n, i) => outputOf(n, `fromLayersModel options.features[${i}]`));
    this.model = tf.model({ inputs: input, outputs: [scores, ...features], name: options.name ?? 'user_backbone' });
    this.numClasses = scores.shape[3] as number;
    this.outChannels = features.map((f) => f.shape[3] as number);
    const strides = this.measureStrides(input, [scores, ...features], options.probeSize ?? [64, 64]);
    this.outputStride = strides[0]!;
    this.levelStrides = strides.slice(1);
  }

  /** Strides from static shapes, or from one forward pass at `probeSize`. */
  private measureStrides(input: tf.SymbolicTensor, outputs: tf.SymbolicTensor[], probeSize: [number, number]): number[] {
    const height = input.shape[1];
    if (height !== null && outputs.every((o) => o.shape[1] !== null)) return outputs.map((o) => Math.round(height / (o.shape[1] as number)));
    const heights = tf.tidy(() => {
      const out = this.model.predict(tf.zeros([1, probeSize[0], probeSize[1], 3])) as tf.Tensor | tf.Tensor[];
      return (Array.isArray(out) ? out : [out]).map((t) => t.shape[1]!);
    });
    return heights.map((h) => Math.round(probeSize[0] / h));
  }

  /** {@inheritDoc Backbone.apply} */
  apply(image: tf.SymbolicTensor, kwargs?: BackboneCallKwargs): BackboneOutputs<tf.SymbolicTensor>;
  apply(image: tf.Tensor4D, kwargs?: BackboneCallKwargs): BackboneOutputs<tf.Tensor4D>;
  apply(image: GraphTensor, kwargs?: BackboneCallKwargs): BackboneOutputs<GraphTensor> {
    checkImage(image, `${this.id} image`);
    const symbolic = image instanceof tf.SymbolicTensor;
    const callKwargs = symbolic || kwargs === undefined ? undefined : { training: kwargs.training === true };
    const out = this.model.apply(image as tf.Tensor, callKwargs) as GraphTensor | GraphTensor[];
    const list = Array.isArray(out) ? out : [out];
    return { scores: list[0]!, features: list.slice(1) };
  }

  /** The trainable weights of the named part of the user model. */
  get trainableWeights(): tf.LayerVariable[] {
    return this.model.trainableWeights;
  }
}

/**
 * Wraps a user `tf.LayersModel` as a backbone: the outputs of the layers
 * named `scores` and `features` (fine → coarse) become the backbone's scores
 * and pyramid. The wrapper shares the user's layers (and weights).
 *
 * ```ts illustrative
 * const backbone = fromLayersModel(myModel, { scores: 'logits', features: ['block1', 'block2'] });
 * const model = createSegmenter({ backbone, refiner: { type: 'none' } });
 * ```
 * @param model - a model with one image input `[B, H, W, 3]`
 * @param options - which layers give the scores and the pyramid
 */
export function fromLayersModel(model: tf.LayersModel, options: FromLayersModelOptions): Backbone {
  return new LayersModelBackbone(model, options);
}
