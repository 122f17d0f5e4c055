import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { ConfigError, SegAwareConv2D, ShapeError } from '../../../src/index.js';
import { checkGradients, expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';
import { saveAndReload, spacedEmbedding } from './helpers.js';

const E = Math.exp;

describeOnBackends('SegAwareConv2D', () => {
  it.each([
    { kernelSize: 3, dilationRate: 1 },
    { kernelSize: 3, dilationRate: 2 },
    { kernelSize: 5, dilationRate: 1 },
  ])('at λ = 0 is tf.layers.conv2d with the same weights ($kernelSize×$kernelSize, dilation $dilationRate)', ({ kernelSize, dilationRate }) => {
    const x = tf.randomNormal([2, 5, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const embedding = tf.randomNormal([2, 5, 6, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    for (const normalization of ['none', 'mean'] as const) {
      const layer = new SegAwareConv2D({ filters: 4, kernelSize, dilationRate, initialLambda: 0, activation: 'relu', normalization, seed: 3 });
      const y = layer.apply([x, embedding]) as tf.Tensor;
      const [kernel, bias] = layer.getWeights();
      const bumped = tf.add(bias!, tf.tensor1d([0.1, -0.2, 0.3, 0]));
      layer.setWeights([kernel!, bumped, layer.getWeights()[2]!]);
      const conv = tf.layers.conv2d({ filters: 4, kernelSize, dilationRate, padding: 'same', activation: 'relu' });
      conv.apply(x);
      conv.setWeights([kernel!, bumped]);
      const withBias = layer.apply([x, embedding]) as tf.Tensor;
      expectTensorClose(withBias, conv.apply(x) as tf.Tensor, { atol: 1e-5 });
      expect(tf.max(tf.abs(tf.sub(withBias, y))).dataSync()[0]).toBeGreaterThan(0);
      tf.dispose([y, bumped, withBias]);
      layer.dispose();
      conv.dispose();
    }
    tf.dispose([x, embedding]);
  });

  it('masks each patch before the filter at λ > 0 (hand-computed, both normalisations)', () => {
    // One row [1, 2, 4] with 1-D embeddings [0, 1, 3]; only the kernel's middle row sees the image.
    const x = tf.tensor4d([1, 2, 4], [1, 1, 3, 1]);
    const embedding = tf.tensor4d([0, 1, 3], [1, 1, 3, 1]);
    const kernel = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3, 1, 1]);
    const a = E(-0.5);
    const b = E(-1);
    const plain = [5 * 1 + 6 * a * 2, 4 * a * 1 + 5 * 2 + 6 * b * 4, 4 * b * 2 + 5 * 4];
    const sums = [1 + a, a + 1 + b, b + 1];
    const counts = [2, 3, 2];
    for (const normalization of ['none', 'mean'] as const) {
      const layer = new SegAwareConv2D({ filters: 1, useBias: false, initialLambda: 0.5, normalization });
      layer.apply([x, embedding]);
      layer.setWeights([kernel, tf.tensor1d([-0.5])]);
      expect(layer.lambda()).toBeCloseTo(0.5, 6);
      const expected = normalization === 'none' ? plain : plain.map((v, i) => (v * counts[i]!) / sums[i]!);
      expectTensorClose(layer.apply([x, embedding]) as tf.Tensor, [[expected.map((v) => [v])]], { atol: 1e-5 });
      layer.dispose();
    }
    tf.dispose([x, embedding, kernel]);
  });

  it('differentiates w.r.t. the input and the embedding (finite differences)', () => {
    const layer = new SegAwareConv2D({ filters: 2, kernelSize: 3, dilationRate: 2, initialLambda: 0.4, seed: 5 });
    const x = tf.randomNormal([1, 4, 5, 2], 0, 1, 'float32', 6) as tf.Tensor4D;
    const embedding = spacedEmbedding([1, 4, 5, 2], 7);
    const f = (a: tf.Tensor, e: tf.Tensor): tf.Tensor => layer.apply([a, e]) as tf.Tensor;
    checkGradients(f, [x, embedding], { epsilon: 1e-2, rtol: 2e-3 });
    // λ and the kernel are trained too.
    const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply([x, embedding]) as tf.Tensor)) as tf.Scalar, weights);
    expect(Object.keys(grads)).toHaveLength(3);
    Object.values(grads).forEach((g) => expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(0));
    tf.dispose([x, embedding, ...Object.values(grads)]);
    layer.dispose();
  });

  it('round-trips through save/load inside a functional model', async () => {
    const xIn = tf.input({ shape: [4, 5, 3] });
    const eIn = tf.input({ shape: [4, 5, 2] });
    const layer = new SegAwareConv2D({ filters: 2, kernelSize: 3, initialLambda: 0.3, normalization: 'mean', activation: 'tanh' });
    const out = layer.apply([xIn, eIn]) as tf.SymbolicTensor;
    expect(out.shape).toEqual([null, 4, 5, 2]);
    const model = tf.model({ inputs: [xIn, eIn], outputs: out });
    const reloaded = await saveAndReload(model);
    const x = tf.randomNormal([2, 4, 5, 3], 0, 1, 'float32', 8);
    const e = tf.randomNormal([2, 4, 5, 2], 0, 1, 'float32', 9);
    const a = model.predict([x, e]) as tf.Tensor;
    const b = reloaded.predict([x, e]) as tf.Tensor;
    expect(tf.max(tf.abs(a)).dataSync()[0]).toBeGreaterThan(0);
    expectTensorClose(b, a, { atol: 0, rtol: 0 });
    tf.dispose([x, e, a, b]);
    model.dispose();
    reloaded.dispose();
  });

  it('does not leak', async () => {
    const layer = new SegAwareConv2D({ filters: 2 });
    const x = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 10) as tf.Tensor4D;
    await expectNoLeak(() => layer.apply([x, x]));
    await expectNoLeak(() => tf.grads((a: tf.Tensor) => tf.sum(layer.apply([a, x]) as tf.Tensor))([x]));
    x.dispose();
    layer.dispose();
  });

  it('rejects bad arguments and inputs with typed errors naming them', () => {
    expect(() => new SegAwareConv2D({ filters: 2, kernelSize: 4 })).toThrow(ConfigError);
    expect(() => new SegAwareConv2D({ filters: 2, kernelSize: 4 })).toThrow(/SegAwareConv2DArgs\/kernelSize must be odd.*got 4/);
    expect(() => new SegAwareConv2D({ filters: 2, dilationRate: 0 })).toThrow(/SegAwareConv2DArgs\/dilationRate must be >= 1, got 0/);
    expect(() => new SegAwareConv2D({} as { filters: number })).toThrow(/SegAwareConv2DArgs\/filters is required/);
    const layer = new SegAwareConv2D({ filters: 2 });
    const x = tf.zeros([1, 4, 5, 3]);
    expect(() => layer.apply([x, tf.zeros([1, 4, 4, 2])])).toThrow(ShapeError);
    expect(() => layer.apply([x, tf.zeros([1, 4, 4, 2])])).toThrow(/^inputs\[1\] \(embedding\) must have x's batch, height and width \[1, 4, 5\]/);
    expect(() => layer.apply(x)).toThrow(/SegAwareConv2D inputs must be \[x, embedding\]/);
    x.dispose();
    layer.dispose();
  });
});
