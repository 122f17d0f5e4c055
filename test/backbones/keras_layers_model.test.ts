/**
 * A Keras-application-style model (a tfjs Layers model as the tfjs converter
 * writes it: model.json + weights, Keras layer names such as
 * `conv2_block2_out`) as a backbone through fromLayersModel.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createSegmenter, fromLayersModel } from '../../src/index.js';
import { expectTensorClose } from '../../src/testing/index.js';
import { roundTrip } from '../helpers/round_trip.js';

/** A tiny ResNet in Keras ResNet50's naming (`conv1_conv`, `conv{stage}_block{n}_out`, …), without the top. */
function kerasStyleResNet(): tf.LayersModel {
  let seed = 0;
  const init = (): ReturnType<typeof tf.initializers.heNormal> => tf.initializers.heNormal({ seed: ++seed });
  const input = tf.input({ shape: [null, null, 3], name: 'input_1' });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor => layer.apply(x) as tf.SymbolicTensor;
  let x = apply(tf.layers.zeroPadding2d({ name: 'conv1_pad', padding: [[3, 3], [3, 3]] }), input);
  x = apply(tf.layers.conv2d({ name: 'conv1_conv', filters: 8, kernelSize: 7, strides: 2, kernelInitializer: init() }), x);
  x = apply(tf.layers.batchNormalization({ name: 'conv1_bn', epsilon: 1.001e-5 }), x);
  x = apply(tf.layers.activation({ name: 'conv1_relu', activation: 'relu' }), x);
  x = apply(tf.layers.zeroPadding2d({ name: 'pool1_pad', padding: [[1, 1], [1, 1]] }), x);
  x = apply(tf.layers.maxPooling2d({ name: 'pool1_pool', poolSize: 3, strides: 2 }), x);
  for (const [stage, filters, stride] of [[2, 8, 1], [3, 16, 2], [4, 32, 2], [5, 64, 2]] as const) {
    for (const block of [1, 2]) {
      const name = `conv${stage}_block${block}`;
      const s = block === 1 ? stride : 1;
      const shortcut = block === 1
        ? apply(tf.layers.batchNormalization({ name: `${name}_0_bn` }), apply(tf.layers.conv2d({ name: `${name}_0_conv`, filters, kernelSize: 1, strides: s, kernelInitializer: init() }), x))
        : x;
      let y = apply(tf.layers.conv2d({ name: `${name}_1_conv`, filters, kernelSize: 3, strides: s, padding: 'same', kernelInitializer: init() }), x);
      y = apply(tf.layers.activation({ name: `${name}_1_relu`, activation: 'relu' }), apply(tf.layers.batchNormalization({ name: `${name}_1_bn` }), y));
      y = apply(tf.layers.batchNormalization({ name: `${name}_2_bn` }), apply(tf.layers.conv2d({ name: `${name}_2_conv`, filters, kernelSize: 3, padding: 'same', kernelInitializer: init() }), y));
      x = apply(tf.layers.activation({ name: `${name}_out`, activation: 'relu' }), apply(tf.layers.add({ name: `${name}_add` }), [shortcut, y]));
    }
  }
  return tf.model({ inputs: input, outputs: x, name: 'resnet_keras_style' });
}

describe('Keras-style Layers models as backbones', () => {
  it('a converted (saved and reloaded) Keras-layout ResNet gives its named stages as the pyramid, under any refiner', async () => {
    const source = kerasStyleResNet();
    const base = await roundTrip(source); // what tf.loadLayersModel('file://…/model.json') returns for a converted model

    // A 1×1 classifier on the base's own graph; the stages are named by their Keras layer names.
    const logits = tf.layers.conv2d({ name: 'logits', filters: 4, kernelSize: 1 }).apply(base.output as tf.SymbolicTensor) as tf.SymbolicTensor;
    const withHead = tf.model({ inputs: base.inputs, outputs: logits });
    const stageNames = ['conv1_relu', 'conv2_block2_out', 'conv3_block2_out', 'conv4_block2_out', 'conv5_block2_out'];
    const backbone = fromLayersModel(withHead, { scores: 'logits', features: stageNames });
    expect(backbone.outChannels).toEqual([8, 8, 16, 32, 64]);
    expect(backbone.levelStrides).toEqual([2, 4, 8, 16, 32]);
    expect(backbone.outputStride).toBe(32);

    // The pyramid equals the reloaded model's own stage outputs, which equal the original's (weights shared through the file).
    const x = tf.randomUniform([1, 64, 64, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const { scores, features: pyramid } = backbone.apply(x);
    const direct = tf.model({ inputs: source.inputs, outputs: stageNames.map((n) => source.getLayer(n).output as tf.SymbolicTensor) }).predict(x) as tf.Tensor[];
    pyramid.forEach((level, i) => expectTensorClose(level, direct[i]!, { atol: 1e-5, rtol: 1e-5 }));
    expect(scores.shape).toEqual([1, 2, 2, 4]);

    const segmenter = createSegmenter({ backbone, refiner: { type: 'spn' } });
    const out = segmenter.predict(x) as tf.Tensor;
    expect(out.shape).toEqual([1, 64, 64, 4]);
    tf.dispose([x, scores, ...pyramid, ...direct, out]);
    segmenter.dispose();
    source.dispose();
  });
});
