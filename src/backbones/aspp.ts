/**
 * DeepLab-v2's atrous spatial pyramid pooling classifier: parallel dilated
 * 3×3 convolutions straight to K classes, summed (the DifNet reference's
 * `Classifier_Module`, rates 6/12/18/24, weights N(0, 0.01), bias).
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import type { LayerFactory } from './layer_factory.js';
import type { GraphTensor, LayerRunner } from './layer_backbone.js';

/** The ASPP head: one dilated 3×3 conv per rate, and their sum. */
export class AsppHead {
  private readonly branches: tf.layers.Layer[];
  private readonly sum: tf.layers.Layer | undefined;

  /**
   * @param factory - creates the (named, seeded) layers
   * @param classes - output channels K
   * @param rates - atrous rates, one branch each (one rate: a single conv, no sum)
   * @param path - name of the head below the factory's prefix
   */
  constructor(factory: LayerFactory, classes: number, rates: readonly number[], path = 'aspp') {
    this.branches = rates.map((rate, i) => factory.conv(`${path}.${i}`, { filters: classes, kernelSize: 3, dilation: rate, useBias: true, init: 'classifier' }));
    this.sum = rates.length > 1 ? factory.add(`${path}.sum`) : undefined;
  }

  /**
   * Logits from the last stage.
   * @param x - `[B, h, w, C]`
   * @param runner - applies layers (eager kwargs or symbolic)
   */
  forward<T extends GraphTensor>(x: T, runner: LayerRunner): T {
    const outs = this.branches.map((branch) => runner.run(branch, x));
    return this.sum === undefined ? outs[0]! : runner.run(this.sum, outs);
  }
}
