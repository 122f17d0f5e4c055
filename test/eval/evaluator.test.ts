import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BoundaryFScore, ConfigError, ConfusionMatrix, SegmentationEvaluator, TrimapIou, createSyntheticDataset } from '../../src/index.js';
import { expectNoLeak } from '../../src/testing/index.js';

const data = createSyntheticDataset({ seed: 2, size: [32, 32], numTrain: 0, numVal: 4 });

/** The truth with void filled by the nearest labelled pixel to the left (a near-perfect prediction). */
function fillVoid(labels: Int32Array, width: number): Int32Array {
  const out = labels.slice();
  for (let i = 0; i < out.length; i++) if (out[i] === 255) out[i] = i % width > 0 ? (out[i - 1] as number) : 0;
  return out;
}

describe('SegmentationEvaluator', () => {
  it('a prediction equal to the truth outside void scores 1; without void, boundary F is 1 too', async () => {
    const evaluator = new SegmentationEvaluator({ numClasses: data.numClasses, classNames: data.classNames, trimapRadii: [1, 4] });
    for await (const { images, labels } of data.batches('val', { batchSize: 2 })) {
      const truth = labels.dataSync() as Int32Array;
      evaluator.update(fillVoid(truth, 32), truth, labels.shape);
      tf.dispose([images, labels]);
    }
    const result = evaluator.result();
    expect(result.images).toBe(4);
    expect(result.meanIou).toBe(1);
    expect(result.pixelAccuracy).toBe(1);
    expect(result.trimap!.meanIou).toEqual([1, 1]);
    expect(result.perClass.map((c) => c.name)).toEqual(data.classNames);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);

    const noVoid = createSyntheticDataset({ seed: 2, size: [32, 32], numTrain: 0, numVal: 4, voidRadius: 0 });
    const exact = new SegmentationEvaluator({ numClasses: noVoid.numClasses });
    for await (const { images, labels } of noVoid.batches('val', { batchSize: 4 })) {
      exact.update(labels, labels);
      tf.dispose([images, labels]);
    }
    expect(exact.result().boundary).toMatchObject({ precision: 1, recall: 1, fScore: 1 });
    expect(exact.result().trimap!.meanIou.every((v) => v === 1)).toBe(true);
  });

  it('agrees with the separate metrics, takes logits, merges, and leaks no tensors', async () => {
    const [batch] = await (async () => {
      const out = [];
      for await (const b of data.batches('val', { batchSize: 4 })) out.push(b);
      return out;
    })();
    const { images, labels } = batch!;
    // A deliberately poor "model": class = brightness bucket of the red channel.
    const logits = tf.tidy(() => tf.oneHot(tf.cast(tf.floor(tf.mul(images.slice([0, 0, 0, 0], [-1, -1, -1, 1]).squeeze([3]), data.numClasses - 0.001)), 'int32'), data.numClasses).mul(3)) as tf.Tensor4D;
    const evaluator = new SegmentationEvaluator({ numClasses: data.numClasses, trimapRadii: [2, 5], boundary: { tolerance: 1 } }).update(logits, labels);
    const result = evaluator.result();
    const predicted = tf.tidy(() => tf.argMax(logits, -1));
    const confusion = new ConfusionMatrix(data.numClasses).update(predicted, labels);
    expect(result.meanIou).toBeCloseTo(confusion.meanIou(), 12);
    expect(result.meanIou).toBeLessThan(0.5);
    expect(result.confusion).toEqual(confusion.toJSON());
    expect(result.trimap).toEqual(new TrimapIou(data.numClasses, { radii: [2, 5] }).update(predicted, labels).result());
    expect(result.boundary).toEqual(new BoundaryFScore(data.numClasses, { tolerance: 1 }).update(predicted, labels).result());
    expect(result.perClass[0]!.name).toBe('class 0');

    const halves = new SegmentationEvaluator({ numClasses: data.numClasses, trimapRadii: [2, 5], boundary: { tolerance: 1 } });
    const first = tf.tidy(() => [logits.slice([0], [2]), labels.slice([0], [2])] as const);
    const second = tf.tidy(() => [logits.slice([2], [2]), labels.slice([2], [2])] as const);
    halves.update(first[0], first[1]).merge(new SegmentationEvaluator({ numClasses: data.numClasses, trimapRadii: [2, 5], boundary: { tolerance: 1 } }).update(second[0], second[1]));
    expect(halves.result()).toEqual(result);

    await expectNoLeak(() => new SegmentationEvaluator({ numClasses: data.numClasses }).update(logits, labels).result());
    tf.dispose([images, labels, logits, predicted, ...first, ...second]);
  });

  it('regions: a padded batch scores like the unpadded one (padding is neither counted nor a boundary)', async () => {
    const options = { numClasses: data.numClasses, trimapRadii: [3, 10] };
    const plain = new SegmentationEvaluator(options);
    const padded = new SegmentationEvaluator(options);
    const paddedNoRegions = new SegmentationEvaluator(options);
    for await (const { images, labels } of data.batches('val', { batchSize: 4 })) {
      plain.update(fillVoid(labels.dataSync() as Int32Array, 32).map((v) => (v + 1) % data.numClasses), labels);
      tf.dispose([images, labels]);
    }
    for await (const { images, labels, regions } of data.batches('val', { batchSize: 4, size: [40, 37] })) {
      const truth = labels.dataSync() as Int32Array;
      // Predict the shifted labels inside and class 0 in the padding.
      const pred = Int32Array.from(fillVoid(truth, 37), (v, i) => (truth[i] === 255 && (i % 37 >= 32 || Math.floor(i / 37) % 40 >= 32) ? 0 : (v + 1) % data.numClasses));
      padded.update(pred, truth, { shape: labels.shape, regions });
      paddedNoRegions.update(pred, truth, labels.shape);
      expect(() => padded.update(pred, truth, { shape: labels.shape, regions: regions.slice(1) })).toThrow(/regions must list one region per image/);
      tf.dispose([images, labels]);
    }
    expect(padded.result()).toEqual(plain.result());
    expect(paddedNoRegions.result().confusion).toEqual(plain.result().confusion); // padding is void anyway
    expect(paddedNoRegions.result().trimap).not.toEqual(plain.result().trimap); // but it would look like a boundary
  });

  it('can turn the trimap and boundary off; validates class names', () => {
    const evaluator = new SegmentationEvaluator({ numClasses: 2, trimapRadii: [], boundary: null }).update([0, 1], [0, 1]);
    expect(evaluator.result().trimap).toBeUndefined();
    expect(evaluator.result().boundary).toBeUndefined();
    expect(() => new SegmentationEvaluator({ numClasses: 2, classNames: ['a'] })).toThrow(ConfigError);
    expect(() => evaluator.merge(new SegmentationEvaluator({ numClasses: 2 }))).toThrow(ConfigError);
  });
});
