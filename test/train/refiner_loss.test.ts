import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createSegmenter, createSyntheticDataset, train } from '../../src/index.js';

describe('train() with a refiner that has its own loss', () => {
  it('adds the segmentation-aware embedding loss (RefinerLayer.auxiliaryLoss) and trains the embedding head with it, without leaks', async () => {
    const data = createSyntheticDataset({ seed: 5, size: [32, 32], numTrain: 4, numVal: 0, numClasses: 3 });
    const model = createSegmenter({ backbone: { type: 'fcn', classes: 3, channels: 4, seed: 2 }, refiner: { type: 'segaware-bf', embeddingDim: 4 }, name: 'sa' });
    const refiner = model.getLayer('refiner');
    // Build, then snapshot the refiner's weights.
    const probe = tf.zeros([1, 32, 32, 3]);
    tf.dispose([probe, model.predict(probe) as tf.Tensor]);
    const before = tf.memory().numTensors;
    const initial = refiner.trainableWeights.map((w) => w.read().dataSync().slice());
    const result = await train(model, { data: () => data.batches('train', { batchSize: 2 }), epochs: 1, stepsPerEpoch: 2, optimizer: { type: 'adam', learningRate: 0.01 } });
    expect(tf.memory().numTensors).toBe(before);
    const log = result.history[0]!;
    expect(Object.keys(log.losses)).toEqual(['crossEntropy', 'refiner.auxiliary']);
    expect(log.losses['refiner.auxiliary']).toBeGreaterThan(0);
    expect(log.loss).toBeCloseTo(log.losses['crossEntropy']! + log.losses['refiner.auxiliary']!, 5);
    const changed = refiner.trainableWeights.filter((w, i) => Array.from(w.read().dataSync()).some((v, j) => v !== initial[i]![j]));
    expect(changed.length).toBe(refiner.trainableWeights.length);
    model.dispose();
  });

  it("adds DifNet's seed loss (seedLossWeight) as the cross-entropy of the scores the head receives, times the weight", async () => {
    const data = createSyntheticDataset({ seed: 5, size: [32, 32], numTrain: 2, numVal: 0, numClasses: 3 });
    const build = (seedLossWeight: number): tf.LayersModel =>
      createSegmenter({ backbone: { type: 'fcn', classes: 3, channels: 4, seed: 2 }, refiner: { type: 'difnet', walks: 1, embeddingDim: 4, seedLossWeight }, imageAsFeature: true, name: `d${seedLossWeight}` });
    const [half, full] = [build(0.5), build(1)];
    const probe = tf.zeros([1, 32, 32, 3]);
    tf.dispose([probe, half.predict(probe) as tf.Tensor, full.predict(probe) as tf.Tensor]);
    const before = tf.memory().numTensors;
    const run = (model: tf.LayersModel) => train(model, { data: () => data.batches('train', { batchSize: 2 }), epochs: 1, stepsPerEpoch: 1, optimizer: { type: 'sgd', learningRate: 1e-9 } });
    const [a, b] = [(await run(half)).history[0]!, (await run(full)).history[0]!];
    expect(tf.memory().numTensors).toBe(before);
    expect(Object.keys(a.losses)).toEqual(['crossEntropy', 'refiner.auxiliary']);
    // Same weights (same seeds), losses are logged before the update: the term is linear in its weight.
    expect(b.losses['refiner.auxiliary']!).toBeGreaterThan(0);
    expect(a.losses['refiner.auxiliary']!).toBeCloseTo(b.losses['refiner.auxiliary']! / 2, 5);
    half.dispose();
    full.dispose();
  });
});
