import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { checkGradients } from '../../src/testing/index.js';
import { describeOnBackends } from '../helpers/backends.js';

/** A 2-layer atrous conv net (dilation 2) with batch norm and a depthwise conv. */
function atrousNet(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', dilationRate: 2, kernelInitializer: tf.initializers.glorotNormal({ seed }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', dilationRate: 2, kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 2 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

function toyData(): { xs: tf.Tensor4D; ys: tf.Tensor4D } {
  return tf.tidy(() => {
    const xs = tf.randomUniform([8, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    // Target: class 1 where the red channel is brighter than the blue one.
    const label = tf.cast(tf.greater(xs.slice([0, 0, 0, 0], [8, 16, 16, 1]), xs.slice([0, 0, 0, 2], [8, 16, 16, 1])), 'int32');
    const ys = tf.oneHot(label.reshape([8, 16, 16]), 2) as tf.Tensor4D;
    return { xs, ys: tf.cast(ys, 'float32') as tf.Tensor4D };
  });
}

describe('atrous conv net on wasm', () => {
  it('trains with model.fit and its loss falls', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const model = atrousNet(1);
    model.compile({ optimizer: tf.train.adam(0.02), loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred) });
    const { xs, ys } = toyData();
    const history = await model.fit(xs, ys, { epochs: 15, batchSize: 4, shuffle: false, verbose: 0 });
    const losses = history.history['loss'] as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.8);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});

describeOnBackends('atrous conv net gradients', () => {
  it('match finite differences within 1e-3 relative (input, filters, BN scale/offset)', () => {
    // The same net written with ops, so every parameter is an explicit input;
    // batch norm in training mode (batch statistics), as during fit.
    const net = (x: tf.Tensor, w1: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, dw: tf.Tensor, w2: tf.Tensor): tf.Tensor => {
      let h: tf.Tensor4D = tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same', 'NHWC', 2);
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      h = tf.batchNorm4d(h, mean as tf.Tensor1D, variance as tf.Tensor1D, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-3);
      h = tf.tanh(h) as tf.Tensor4D; // smooth: ReLU kinks make finite differences unreliable, not the gradient
      h = tf.depthwiseConv2d(h as tf.Tensor4D, dw as tf.Tensor4D, 1, 'same');
      return tf.conv2d(h, w2 as tf.Tensor4D, 1, 'same', 'NHWC', 2);
    };
    const params = [
      tf.randomUniform([2, 12, 12, 3], 0, 1, 'float32', 11),
      tf.randomNormal([3, 3, 3, 6], 0, 0.5, 'float32', 12),
      tf.randomUniform([6], 0.5, 1.5, 'float32', 13),
      tf.randomNormal([6], 0, 0.1, 'float32', 14),
      tf.randomNormal([3, 3, 6, 1], 0, 0.5, 'float32', 15),
      tf.randomNormal([3, 3, 6, 2], 0, 0.5, 'float32', 16),
    ];
    // Random-direction derivatives: single small entries sit at float32's finite-difference noise floor.
    const result = checkGradients(net, params, { rtol: 1e-3, directions: 4, entries: 0, epsilon: 5e-2 });
    expect(result.maxRelError).toBeLessThan(1e-3);
    tf.dispose(params);
  });
});
