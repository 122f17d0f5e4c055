import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, createSegmenter, fromLayersModel } from '../../src/index.js';
import { expectTensorClose } from '../../src/testing/index.js';

/** A user model: two conv levels (strides 2 and 4) and 1×1 logits at stride 4. */
function userModel(size: number | null): tf.LayersModel {
  const image = tf.input({ shape: [size, size, 3] });
  const conv = (name: string, filters: number, strides: number, seed: number) =>
    tf.layers.conv2d({ name, filters, kernelSize: 3, strides, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed }) });
  const block1 = conv('block1', 4, 2, 1).apply(image) as tf.SymbolicTensor;
  const block2 = conv('block2', 6, 2, 2).apply(block1) as tf.SymbolicTensor;
  const logits = tf.layers.conv2d({ name: 'logits', filters: 3, kernelSize: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(block2) as tf.SymbolicTensor;
  return tf.model({ inputs: image, outputs: logits });
}

describe('fromLayersModel', () => {
  it('exposes named layers as scores and pyramid, with channels and strides (static and probed sizes)', () => {
    for (const size of [32, null]) {
      const backbone = fromLayersModel(userModel(size), { scores: 'logits', features: ['block1', 'block2'] });
      expect(backbone.id).toBe('user');
      expect(backbone.numClasses).toBe(3);
      expect(backbone.outChannels).toEqual([4, 6]);
      expect(backbone.levelStrides).toEqual([2, 4]);
      expect(backbone.outputStride).toBe(4);
    }
  });

  it('shares the user model weights and plugs into createSegmenter', () => {
    const user = userModel(32);
    const backbone = fromLayersModel(user, { scores: 'logits', features: ['block1'] });
    expect(backbone.trainableWeights.length).toBe(user.trainableWeights.length);
    const model = createSegmenter({ backbone, refiner: { type: 'none' } });
    const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const expected = tf.tidy(() => tf.image.resizeBilinear(user.predict(x) as tf.Tensor4D, [32, 32]));
    const got = model.predict(x) as tf.Tensor;
    expect(got.shape).toEqual([1, 32, 32, 3]);
    expectTensorClose(got, expected, { atol: 1e-5 });
    const eager = backbone.apply(x);
    expectTensorClose(eager.scores, user.predict(x) as tf.Tensor, { atol: 1e-6 });
    tf.dispose([x, expected, got, eager.scores, ...eager.features]);
  });

  it('names unknown layers and bad models in typed errors', () => {
    const user = userModel(32);
    expect(() => fromLayersModel(user, { scores: 'nope' })).toThrow(ConfigError);
    expect(() => fromLayersModel(user, { scores: 'nope' })).toThrow(/options\.scores must name a layer of the model \(.*block1.*\), got "nope"/);
    expect(() => fromLayersModel(user, { scores: 'logits', features: ['block9'] })).toThrow(/options\.features\[0\]/);
    const flat = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4] })] });
    expect(() => fromLayersModel(flat, { scores: flat.layers[0]!.name })).toThrow(ShapeError);
    expect(() => fromLayersModel({} as tf.LayersModel, { scores: 'x' })).toThrow(/must be a tf\.LayersModel/);
  });
});
