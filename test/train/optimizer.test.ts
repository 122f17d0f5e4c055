import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, SegmentationOptimizer, learningRateAt } from '../../src/index.js';
import { parseOptimizerArgs } from '../../src/train/optimizer.js';
import { expectNoLeak, expectTensorClose } from '../../src/testing/index.js';

/** A built dense layer: a `kernel` (decayed) and a `bias` (not decayed), with set values. */
function denseWeights(kernel: number[], bias: number): tf.LayerVariable[] {
  const layer = tf.layers.dense({ units: 1, inputShape: [kernel.length] });
  layer.build([null, kernel.length]);
  layer.setWeights([tf.tensor2d(kernel, [kernel.length, 1]), tf.tensor1d([bias])]);
  return layer.trainableWeights;
}

function gradsFor(weights: tf.LayerVariable[], values: number[][]): tf.NamedTensorMap {
  const grads: tf.NamedTensorMap = {};
  weights.forEach((w, i) => (grads[(w.read() as tf.Variable).name] = tf.tensor(values[i]!, w.shape as number[])));
  return grads;
}

describe('learning-rate policies', () => {
  it('poly follows base·(1 − step/total)^power and reaches 0 at the end; constant stays', () => {
    const poly = parseOptimizerArgs({ learningRate: 0.01, power: 0.9 });
    expect(learningRateAt(poly, 0, 100)).toBeCloseTo(0.01, 12);
    expect(learningRateAt(poly, 50, 100)).toBeCloseTo(0.01 * 0.5 ** 0.9, 12);
    expect(learningRateAt(poly, 100, 100)).toBe(0);
    expect(learningRateAt(poly, 150, 100)).toBe(0);
    expect(learningRateAt(parseOptimizerArgs({ policy: 'constant', learningRate: 0.3 }), 99, null)).toBe(0.3);
    expect(() => learningRateAt(poly, 0, null)).toThrow(/totalSteps is required by the 'poly' learning-rate policy/);
  });

  it('fills per-type defaults and rejects bad args', () => {
    expect(parseOptimizerArgs({}).learningRate).toBe(0.01);
    expect(parseOptimizerArgs({ type: 'adam' }).learningRate).toBe(0.001);
    expect(() => parseOptimizerArgs({ momentum: 1 })).toThrow(/OptimizerArgs\/momentum must be < 1, got 1/);
    expect(() => parseOptimizerArgs({ type: 'rmsprop' as 'sgd' })).toThrow(ConfigError);
    expect(() => parseOptimizerArgs({ learningRate: 0 })).toThrow(/OptimizerArgs\/learningRate must be > 0/);
  });
});

describe('SegmentationOptimizer', () => {
  it('SGD with momentum: v ← m·v + g + λ·w (kernels only), w ← w − lr·v', () => {
    const weights = denseWeights([1, 2], 0.5);
    const optimizer = new SegmentationOptimizer({ type: 'sgd', momentum: 0.9, weightDecay: 0.1, learningRate: 0.5 });
    const grads = gradsFor(weights, [[1, -1], [2]]);
    // Step 1: v = g + λw.
    optimizer.setLearningRate(0.5);
    optimizer.applyGradients(weights, grads);
    let vKernel = [1 + 0.1 * 1, -1 + 0.1 * 2];
    let kernel = [1 - 0.5 * vKernel[0]!, 2 - 0.5 * vKernel[1]!];
    let vBias = 2;
    let bias = 0.5 - 0.5 * vBias;
    // Step 2 with another learning rate (the poly policy changes it every step).
    optimizer.setLearningRate(0.25);
    optimizer.applyGradients(weights, grads);
    vKernel = [0.9 * vKernel[0]! + 1 + 0.1 * kernel[0]!, 0.9 * vKernel[1]! - 1 + 0.1 * kernel[1]!];
    kernel = [kernel[0]! - 0.25 * vKernel[0]!, kernel[1]! - 0.25 * vKernel[1]!];
    vBias = 0.9 * vBias + 2;
    bias -= 0.25 * vBias;
    expectTensorClose(weights[0]!.read(), tf.tensor2d(kernel, [2, 1]), { atol: 1e-6 });
    expectTensorClose(weights[1]!.read(), tf.tensor1d([bias]), { atol: 1e-6 });
    tf.dispose(Object.values(grads));
    optimizer.dispose();
  });

  it('Adam matches tfjs’s Adam, including a learning-rate change', () => {
    const ours = denseWeights([1, -2, 3], 0.1);
    const theirs = tf.variable(tf.tensor2d([1, -2, 3], [3, 1]));
    const optimizer = new SegmentationOptimizer({ type: 'adam', learningRate: 0.1 });
    const reference = tf.train.adam(0.1);
    for (const [step, lr] of [[0, 0.1], [1, 0.05], [2, 0.02]] as const) {
      const g = [[0.3 * (step + 1), -1, 2], [1]];
      const grads = gradsFor(ours, g);
      optimizer.setLearningRate(lr);
      optimizer.applyGradients(ours, grads);
      (reference as unknown as { learningRate: number }).learningRate = lr;
      const refGrad = tf.tensor2d(g[0]!, [3, 1]);
      reference.applyGradients([{ name: theirs.name, tensor: refGrad }]);
      tf.dispose([refGrad, ...Object.values(grads)]);
    }
    expectTensorClose(ours[0]!.read(), theirs, { atol: 1e-6 });
    optimizer.dispose();
    reference.dispose();
    theirs.dispose();
  });

  it('restores its state: a restored optimiser continues exactly like the original', async () => {
    for (const type of ['sgd', 'adam'] as const) {
      const a = denseWeights([1, 2], 0.5);
      const b = denseWeights([1, 2], 0.5);
      const first = new SegmentationOptimizer({ type, learningRate: 0.1, weightDecay: 0.01 });
      const grads = (ws: tf.LayerVariable[], k: number): tf.NamedTensorMap => gradsFor(ws, [[k, -k], [k / 2]]);
      for (const k of [1, 2]) {
        const g = grads(a, k);
        first.applyGradients(a, g);
        tf.dispose(Object.values(g));
      }
      b.forEach((w, i) => w.write(a[i]!.read()));
      const state = await first.getState();
      const second = new SegmentationOptimizer({ type, learningRate: 0.1, weightDecay: 0.01 });
      await second.setState(state);
      tf.dispose(state.weights.map((w) => w.tensor));
      const [ga, gb] = [grads(a, 3), grads(b, 3)];
      first.applyGradients(a, ga);
      second.applyGradients(b, gb);
      tf.dispose([...Object.values(ga), ...Object.values(gb)]);
      a.forEach((w, i) => expectTensorClose(b[i]!.read(), w.read(), { atol: type === 'adam' ? 1e-6 : 0 }));
      first.dispose();
      second.dispose();
    }
  });

  it('does not leak across updates', async () => {
    const weights = denseWeights([1, 2], 0.5);
    const optimizer = new SegmentationOptimizer({ type: 'sgd', weightDecay: 1e-3 });
    const grads = gradsFor(weights, [[1, 1], [1]]);
    await expectNoLeak(() => optimizer.applyGradients(weights, grads));
    tf.dispose(Object.values(grads));
    optimizer.dispose();
  });
});
