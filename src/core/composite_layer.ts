/**
 * Weight bookkeeping for layers built from tfjs sublayers: their weights
 * become this layer's weights, so `model.save()`, `fit` and `dispose()` see
 * them.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { withDefaultLayerName, type LayerArgs } from './component_name.js';

/** A set of sublayers owned by one layer. */
export class Sublayers {
  /** The sublayers, in insertion order. */
  readonly layers: tf.layers.Layer[] = [];

  /**
   * Adds a sublayer, builds it for `inputShape` and returns it. Call from the
   * owner's `build()`.
   *
   * tfjs names a weight after the layer scopes active when it is created, and
   * only `apply()` opens a layer's scope. Building through one tiny `apply()`
   * inside the owner's build gives weights `<owner>/<sublayer>/<weight>`:
   * unique within a model and identical after reload, which `model.save()`
   * and `loadLayersModel()` need.
   * @param layer - a tfjs layer with a role name unique within the owner
   * @param inputShape - its input shape; unknown dims are taken as 1
   */
  add<L extends tf.layers.Layer>(layer: L, inputShape: (number | null)[]): L {
    tf.tidy(() => {
      layer.apply(tf.zeros(inputShape.map((d, i) => (i === 0 || d === null ? 1 : d))));
    });
    this.layers.push(layer);
    return layer;
  }

  /** Trainable weights of every sublayer, in insertion order. */
  trainableWeights(): tf.LayerVariable[] {
    return this.layers.flatMap((l) => l.trainableWeights);
  }

  /** Non-trainable weights (e.g. batch-norm moving statistics) of every sublayer. */
  nonTrainableWeights(): tf.LayerVariable[] {
    return this.layers.flatMap((l) => l.nonTrainableWeights);
  }

  /** All weights, trainable first. */
  weights(): tf.LayerVariable[] {
    return this.layers.flatMap((l) => l.weights);
  }
}

/**
 * A tfjs layer whose nested layers' weights are its own too: trainable ones
 * while it is trainable, all of them non-trainable when it is frozen. The one
 * place this plumbing lives, for `DiffusionHead`, `EmbeddingHead` and the
 * segmentation-aware refiners (every `RefinerLayer` extends it).
 */
export abstract class CompositeLayer extends tf.layers.Layer {
  /** @param args - tfjs layer args; a layer whose class name is `package>name` and that gets no `name` is called `<name>_<n>` */
  constructor(args: LayerArgs = {}) {
    super(withDefaultLayerName(args, new.target));
  }

  /** Layers nested in this one (sublayers, an embedding head); none by default. */
  protected nestedLayers(): readonly tf.layers.Layer[] {
    return [];
  }

  /** Trainable weights: this layer's own, then every nested layer's (none when frozen). */
  override get trainableWeights(): tf.LayerVariable[] {
    return this.trainable ? [...super.trainableWeights, ...this.nestedLayers().flatMap((l) => l.trainableWeights)] : [];
  }

  /** Replaces this layer's own trainable weights (tfjs bookkeeping; nested layers keep theirs). */
  override set trainableWeights(weights: tf.LayerVariable[]) {
    super.trainableWeights = weights;
  }

  /** Non-trainable weights: this layer's and the nested layers' (all of them when frozen). */
  override get nonTrainableWeights(): tf.LayerVariable[] {
    const nested = this.nestedLayers();
    return this.trainable
      ? [...super.nonTrainableWeights, ...nested.flatMap((l) => l.nonTrainableWeights)]
      : [...super.nonTrainableWeights, ...nested.flatMap((l) => l.weights)];
  }
}
