import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createSegmenter, createSyntheticDataset, SegmentationOptimizer, TinyFcn, trainOnBatch } from '../../src/index.js';

async function firstBatch(): Promise<{ images: tf.Tensor4D; labels: tf.Tensor3D }> {
  const data = createSyntheticDataset({ seed: 3, size: [32, 32], numTrain: 4, numVal: 0, numClasses: 3 });
  for await (const batch of data.batches('train', { batchSize: 4 })) return { images: batch.images, labels: batch.labels };
  throw new Error('no batch');
}

describe('createSegmenter({ freezeBackbone: true })', () => {
  it('trains only the refiner: backbone weights and batch-norm statistics stay, no tensor leaks', async () => {
    const backbone = new TinyFcn({ classes: 3, channels: 4, seed: 1 });
    const baseline = createSegmenter({ backbone, name: 'baseline' });
    const batch = await firstBatch();
    tf.dispose(baseline.predict(batch.images) as tf.Tensor);
    const before = tf.memory().numTensors;
    const model = createSegmenter({ backbone, freezeBackbone: true, refiner: { type: 'difnet', walks: 1, embeddingDim: 4 }, imageAsFeature: true, name: 'frozen' });
    const refinerWeights = model.layers.find((l) => l.name === 'refiner')!.trainableWeights.map((w) => w.name);
    expect(model.trainableWeights.map((w) => w.name).sort()).toEqual([...refinerWeights].sort());
    const backboneValues = backbone.weights.map((w) => w.read().dataSync().slice());
    const refinerBefore = model.trainableWeights.map((w) => w.read().dataSync().slice());
    const optimizer = new SegmentationOptimizer({ type: 'adam', learningRate: 0.05 });
    await trainOnBatch(model, batch, optimizer);
    await trainOnBatch(model, batch, optimizer);
    optimizer.dispose();
    // Every backbone weight, moving mean/variance included, is unchanged.
    backbone.weights.forEach((w, i) => expect(Array.from(w.read().dataSync())).toEqual(Array.from(backboneValues[i]!)));
    const moved = model.trainableWeights.filter((w, i) => Array.from(w.read().dataSync()).some((v, j) => v !== refinerBefore[i]![j]));
    expect(moved.length).toBeGreaterThan(0);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // The backbone still works after the frozen model is gone.
    const out = baseline.predict(batch.images) as tf.Tensor;
    expect(out.shape).toEqual([4, 32, 32, 3]);
    tf.dispose([out, batch.images, batch.labels]);
    baseline.dispose();
  });
});

describe('createSegmenter argument checks', () => {
  it('rejects an unknown option (a typo) and a refiner the pyramid cannot feed, before any weight exists', () => {
    const before = tf.memory().numTensors;
    expect(() => createSegmenter({ backbone: { type: 'fcn', classes: 4 }, refinr: { type: 'spn' } } as never)).toThrow(/createSegmenter options.refinr is not a known option/);
    expect(() => createSegmenter({ backbone: { type: 'fcn', classes: 4 }, refiner: { type: 'difnet', walks: 7 } })).toThrow(/refiner 'difnet' takes 7 pyramid level\(s\)/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects an outputSize that is not [height, width] of positive integers', () => {
    const model = createSegmenter({ backbone: { type: 'fcn', classes: 3, channels: 4 }, refiner: { type: 'none' } });
    const refiner = model.getLayer('refiner') as unknown as { refine: (inputs: { scores: tf.Tensor4D }, options: object) => tf.Tensor4D };
    const scores = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    for (const outputSize of [[8.5, 8], [-4, -4], [0, 5], 'big']) {
      expect(() => refiner.refine({ scores }, { outputSize })).toThrow(/options.outputSize must be \[height, width\] of positive integers/);
    }
    scores.dispose();
    model.dispose();
  });
});
