import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { createSegmenter } from '../../src/index.js';
import { expectTensorClose } from '../../src/testing/index.js';

it('a neck reaches the logits through a zero-initialised decoder: same output as without it at init, trainable after', () => {
  const backbone = { type: 'fcn', classes: 3, seed: 4 };
  const plain = createSegmenter({ backbone, name: 'plain' });
  const withNeck = createSegmenter({ backbone, neck: { type: 'sdn' }, name: 'necked' });
  expect(withNeck.layers.some((l) => l.name === 'neck')).toBe(true);
  expect(withNeck.countParams()).toBeGreaterThan(plain.countParams());
  const image = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 5);
  expectTensorClose(withNeck.predict(image) as tf.Tensor, plain.predict(image) as tf.Tensor, { atol: 1e-5 });
  const neckWeights = withNeck.getLayer('neck').trainableWeights.map((w) => w.read() as tf.Variable);
  const decoder = withNeck.getLayer('necked.neck_decoder').trainableWeights.map((w) => w.read() as tf.Variable);
  const labels = tf.oneHot(tf.zeros([1, 32, 32], 'int32'), 3);
  const { grads, value } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, withNeck.apply(image, { training: true }) as tf.Tensor), [...decoder, ...neckWeights]);
  expect(tf.sum(tf.abs(grads[decoder[0]!.name]!)).dataSync()[0]).toBeGreaterThan(0);
  tf.dispose([image, labels, value, ...Object.values(grads)]);
  plain.dispose();
  withNeck.dispose();
});
