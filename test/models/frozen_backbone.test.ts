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
