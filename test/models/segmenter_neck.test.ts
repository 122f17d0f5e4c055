import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createSegmenter, segmentationCrossEntropy, SegmentationOptimizer, trainOnBatch } from '../../src/index.js';
import { expectTensorClose } from '../../src/testing/index.js';
import { roundTrip } from '../helpers/round_trip.js';

/** The fcn backbone's pyramid has five levels (strides 2 … 32); its scores are at stride 8. */
const LEVELS = 5;

const absSum = (t: tf.Tensor): number => tf.tidy(() => tf.sum(tf.abs(t)).dataSync()[0]!);

describe('createSegmenter with a neck', () => {
  it('a neck reaches the logits through a zero-initialised decoder: same output as without it at init, trainable after', () => {
    const backbone = { type: 'fcn', classes: 3, seed: 4 };
    const plain = createSegmenter({ backbone, name: 'plain' });
    const withNeck = createSegmenter({ backbone, neck: { type: 'sdn' }, name: 'necked' });
    expect(withNeck.layers.some((l) => l.name === 'neck')).toBe(true);
    expect(withNeck.countParams()).toBeGreaterThan(plain.countParams());
    const image = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 5);
    const [a, b] = [withNeck.predict(image) as tf.Tensor, plain.predict(image) as tf.Tensor];
    expectTensorClose(a, b, { atol: 1e-5 });
    const decoder = withNeck.getLayer('necked.neck_decoder0').trainableWeights.map((w) => w.read() as tf.Variable);
    const labels = tf.oneHot(tf.zeros([1, 32, 32], 'int32'), 3);
    const { grads, value } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, withNeck.apply(image, { training: true }) as tf.Tensor), decoder);
    expect(absSum(grads[decoder[0]!.name]!)).toBeGreaterThan(0);
    tf.dispose([image, labels, value, a, b, ...Object.values(grads)]);
    plain.dispose();
    withNeck.dispose();
  });

  it('decodes every level of the refined pyramid, with deterministic layer names', () => {
    const model = createSegmenter({ backbone: { type: 'fcn', channels: 2, classes: 3 }, neck: { type: 'sdn' }, inputSize: [32, 32], name: 'seg' });
    const names = model.layers.map((l) => l.name);
    for (let i = 0; i < LEVELS; i++) {
      const conv = model.getLayer(`seg.neck_decoder${i}`);
      expect(conv.getWeights()[0]!.shape).toEqual([1, 1, 2 * [1, 2, 4, 8, 8][i]!, 3]);
      // Only the level already at the scores' size (stride 8, level 2) needs no resize.
      expect(names.includes(`seg.neck_decoder${i}_resize`)).toBe(i !== 2);
    }
    expect(names).not.toContain(`seg.neck_decoder${LEVELS}`);
    expect(model.getLayer('seg.neck_scores').inboundNodes[0]!.inboundLayers).toHaveLength(LEVELS + 1);
    model.dispose();
  });

  it('after two training steps, every level\'s decoder conv and every level of the neck get gradients (no leak)', async () => {
    // 64×64: the coarsest level is 2×2. (At 32×32 it is 1×1, its upsampled guidance of level 3 is
    // constant, and level 3's λ has no gradient for geometric reasons.)
    const model = createSegmenter({ backbone: { type: 'fcn', channels: 2, classes: 3, seed: 7 }, neck: { type: 'sdn' }, inputSize: [64, 64], name: 'seg' });
    // Counted after the build: building an SdnNeck leaves one tensor per level alive
    // (SdnLevel's identity fusion init writes a tensor it does not dispose).
    const before = tf.memory().numTensors;
    const decoderKernels = Array.from({ length: LEVELS }, (_, i) => model.getLayer(`seg.neck_decoder${i}`).trainableWeights[0]!);
    const neck = model.getLayer('neck');
    const levelOf = (w: tf.LayerVariable): number => Number(/level(\d+)\//.exec(w.originalName)![1]);
    // Every level of the pyramid is refined by the default neck and has its own weights.
    expect(new Set(neck.trainableWeights.map(levelOf))).toEqual(new Set(Array.from({ length: LEVELS }, (_, i) => i)));
    const neckStart = neck.trainableWeights.map((w) => w.read().clone());
    decoderKernels.forEach((k) => expect(absSum(k.read())).toBe(0));

    const images = tf.randomUniform([2, 64, 64, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    const labels = tf.randomUniform([2, 64, 64], 0, 3, 'int32', 12) as tf.Tensor3D;
    const optimizer = new SegmentationOptimizer({ type: 'sgd', learningRate: 0.1 });
    const losses = [await trainOnBatch(model, { images, labels }, optimizer)];
    const afterFirstStep = tf.memory().numTensors;
    losses.push(await trainOnBatch(model, { images, labels }, optimizer));
    // The optimiser's slots exist after the first step; later steps add nothing.
    expect(tf.memory().numTensors).toBe(afterFirstStep);
    losses.forEach((l) => expect(Number.isFinite(l)).toBe(true));

    // Every level's decoder conv moved off zero (with the old single-level decoder, only one did).
    decoderKernels.forEach((k, i) => expect(absSum(k.read()), `neck_decoder${i}`).toBeGreaterThan(0));
    // The neck's fusion conv at every level changed (its gradient is zero while the decoder is zero,
    // so this needs the second step and the decoder of that level).
    neck.trainableWeights.forEach((w, j) => {
      if (!w.originalName.endsWith('fuse/kernel')) return;
      expect(tf.tidy(() => absSum(tf.sub(w.read(), neckStart[j]!))), w.originalName).toBeGreaterThan(0);
    });
    // Now every neck weight at every level has a nonzero gradient.
    const variables = [...decoderKernels, ...neck.trainableWeights].map((w) => w.read() as tf.Variable);
    const { grads, value } = tf.variableGrads(() => segmentationCrossEntropy(model.apply(images, { training: true }) as tf.Tensor4D, labels), variables);
    for (const w of [...decoderKernels, ...neck.trainableWeights]) {
      expect(absSum(grads[(w.read() as tf.Variable).name]!), w.originalName).toBeGreaterThan(0);
    }

    tf.dispose([images, labels, value, ...Object.values(grads), ...neckStart]);
    optimizer.dispose();
    // Training and gradients left nothing behind.
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('round-trips a trained model with a neck through save/load', async () => {
    const model = createSegmenter({ backbone: { type: 'fcn', channels: 2, classes: 3, seed: 2 }, neck: { type: 'sdn', mode: 'single' }, inputSize: [32, 32] });
    const images = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 21) as tf.Tensor4D;
    const labels = tf.randomUniform([1, 32, 32], 0, 3, 'int32', 22) as tf.Tensor3D;
    const optimizer = new SegmentationOptimizer({ type: 'sgd', learningRate: 0.1 });
    await trainOnBatch(model, { images, labels }, optimizer);
    await trainOnBatch(model, { images, labels }, optimizer);
    const reloaded = await roundTrip(model);
    expect(reloaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    const [a, b] = [model.predict(images) as tf.Tensor, reloaded.predict(images) as tf.Tensor];
    expectTensorClose(b, a, { atol: 1e-6 });
    // Loading by name into a freshly built model gives the same logits.
    const fresh = createSegmenter({ backbone: { type: 'fcn', channels: 2, classes: 3, seed: 9 }, neck: { type: 'sdn', mode: 'single' }, inputSize: [32, 32] });
    const named: tf.NamedTensorMap = {};
    for (const w of model.weights) named[w.originalName] = w.read();
    fresh.loadWeights(named, true);
    const c = fresh.predict(images) as tf.Tensor;
    expectTensorClose(c, a, { atol: 1e-6 });
    tf.dispose([images, labels, a, b, c]);
    optimizer.dispose();
    model.dispose();
    reloaded.dispose();
    fresh.dispose();
  });
});
