/**
 * The backbone contract (DESIGN §3): every registered backbone × every
 * registered refiner (and neck) builds, runs forward and backpropagates on a
 * small input. Refiners and necks registered later are picked up from the
 * registry automatically; non-differentiable refiners only run forward.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createSegmenter, defaultRegistry, segmentationCrossEntropy, type Backbone } from '../../src/index.js';

const SIZE = 32;
const CLASSES = 3;
const BATCH = 1;

/** Tiny widths for the built-ins; anything registered later gets only `classes`. */
const TINY_ARGS: Record<string, Record<string, unknown>> = {
  resnet: { depth: 18, width: 0.0625 },
  'sim-deeplab': { depth: 18, width: 0.0625 },
  fcn: { channels: 2 },
  unet: { channels: 2 },
};

const registry = defaultRegistry();
const backboneIds = registry.backboneIds();
const refinerSpecs = registry.refiners();
const neckSpecs = registry.necks();

function tinyBackbone(id: string, seed = 0): Backbone {
  return registry.createBackbone({ type: id, classes: CLASSES, ...(TINY_ARGS[id] ?? {}), ...(id in TINY_ARGS ? { seed } : {}) });
}

function batch(): { images: tf.Tensor4D; labels: tf.Tensor3D } {
  return tf.tidy(() => ({
    images: tf.randomUniform([BATCH, SIZE, SIZE, 3], 0, 1, 'float32', 1) as tf.Tensor4D,
    labels: tf.randomUniform([BATCH, SIZE, SIZE], 0, CLASSES, 'int32', 2) as tf.Tensor3D,
  }));
}

/** Gradients of the loss for every trainable weight; checks they exist and are finite. */
function expectBackprop(model: tf.LayersModel, images: tf.Tensor4D, labels: tf.Tensor3D): void {
  const weights = model.trainableWeights;
  const variables = weights.map((w) => w.read() as tf.Variable);
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => segmentationCrossEntropy(model.apply(images, { training: true }) as tf.Tensor4D, labels), variables);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    const missing = weights.filter((w) => grads[(w.read() as tf.Variable).name] === undefined).map((w) => w.originalName);
    expect(missing, 'weights without a gradient').toEqual([]);
    const norms = Object.values(grads).map((g) => tf.norm(g).dataSync()[0]!);
    expect(norms.every(Number.isFinite)).toBe(true);
    expect(norms.some((n) => n > 0)).toBe(true);
  });
}

describe.each(backboneIds)('backbone %s', (backboneId) => {
  it('honours its declared channels, strides and output stride', () => {
    const backbone = tinyBackbone(backboneId);
    const { images } = batch();
    const out = backbone.apply(images);
    expect(out.scores.shape).toEqual([BATCH, Math.ceil(SIZE / backbone.outputStride), Math.ceil(SIZE / backbone.outputStride), CLASSES]);
    expect(out.features.map((f) => f.shape[3])).toEqual([...backbone.outChannels]);
    expect(out.features.map((f) => f.shape[1])).toEqual(backbone.levelStrides.map((s) => Math.ceil(SIZE / s)));
    tf.dispose([images, out.scores, ...out.features]);
  });

  it.each(refinerSpecs.map((s) => [s.id, s] as const))(`× refiner %s: builds, runs forward, backpropagates`, (refinerId, spec) => {
    const { images, labels } = batch();
    try {
      const backbone = tinyBackbone(backboneId);
      if (spec.differentiable) {
        const model = createSegmenter({ backbone, refiner: { type: refinerId } });
        const logits = model.predict(images) as tf.Tensor;
        expect(logits.shape).toEqual([BATCH, SIZE, SIZE, CLASSES]);
        logits.dispose();
        expectBackprop(model, images, labels);
        model.dispose();
      } else {
        const refiner = registry.createRefiner({ type: refinerId });
        const out = backbone.apply(images);
        const refined = refiner.refine({ scores: out.scores, image: images });
        expect(refined.shape[0]).toBe(BATCH);
        expect(refined.shape[3]).toBe(CLASSES);
        tf.dispose([refined, out.scores, ...out.features]);
        refiner.dispose();
      }
    } finally {
      tf.dispose([images, labels]);
    }
  });

  it.each(neckSpecs.map((s) => [s.id] as const))('× neck %s: builds inside a segmenter, keeps shapes, backpropagates', (neckId) => {
    const { images, labels } = batch();
    labels.dispose();
    try {
      const backbone = tinyBackbone(backboneId);
      const model = createSegmenter({ backbone, neck: { type: neckId } });
      const logits = model.predict(images) as tf.Tensor;
      expect(logits.shape).toEqual([BATCH, SIZE, SIZE, CLASSES]);
      logits.dispose();
      // Through the neck itself: a loss on every output level reaches every neck weight.
      const neck = registry.createNeck({ type: neckId });
      const pyramid = backbone.apply(images);
      const refined = neck.apply(pyramid.features);
      expect(refined.map((f) => f.shape)).toEqual(pyramid.features.map((f) => f.shape));
      tf.dispose(refined);
      const variables = (): tf.Variable[] => neck.trainableWeights.map((w) => w.read() as tf.Variable);
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.addN(neck.apply(pyramid.features, { training: true }).map((f) => tf.mean(tf.square(f)))) as tf.Scalar, variables());
        expect(Object.keys(grads).length).toBe(neck.trainableWeights.length);
        expect(Object.values(grads).every((g) => tf.all(tf.isFinite(g)).dataSync()[0] === 1)).toBe(true);
      });
      tf.dispose([pyramid.scores, ...pyramid.features]);
      neck.dispose();
      model.dispose();
    } finally {
      images.dispose();
    }
  });
});
