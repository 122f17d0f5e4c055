import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ConfusionMatrix, DataError, ShapeError } from '../../src/index.js';
import { expectNoLeak } from '../../src/testing/index.js';

// Hand-computed case, K = 3:
//   truth: 0 0 1 1 2 255
//   pred:  0 1 1 1 0 2      (the last pixel is ignored)
// counts[t][p]: (0,0)=1 (0,1)=1 (1,1)=2 (2,0)=1
// IoU0 = 1 / (2 + 2 − 1) = 1/3, IoU1 = 2 / (2 + 3 − 2) = 2/3, IoU2 = 0 / (1 + 0 − 0) = 0
// mIoU = (1/3 + 2/3 + 0) / 3 = 1/3; pixel accuracy = 3/5; class accuracy = 1/2, 1, 0.
const truth = Int32Array.from([0, 0, 1, 1, 2, 255]);
const pred = Int32Array.from([0, 1, 1, 1, 0, 2]);

describe('ConfusionMatrix', () => {
  it('matches the hand-computed case (255 ignored)', () => {
    const cm = new ConfusionMatrix(3).update(pred, truth);
    expect(cm.toJSON().counts).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 0],
    ]);
    expect(cm.total).toBe(5);
    const iou = cm.iou();
    expect(iou[0]).toBeCloseTo(1 / 3, 12);
    expect(iou[1]).toBeCloseTo(2 / 3, 12);
    expect(iou[2]).toBe(0);
    expect(cm.meanIou()).toBeCloseTo(1 / 3, 12);
    expect(cm.pixelAccuracy()).toBeCloseTo(3 / 5, 12);
    expect(cm.classAccuracy()).toEqual([0.5, 1, 0]);
    expect(cm.meanClassAccuracy()).toBeCloseTo(0.5, 12);
  });

  it('leaves a class absent from truth and prediction out of the mean; a class only predicted counts as 0', () => {
    const cm = new ConfusionMatrix(5).update(pred, truth);
    expect(cm.iou()).toEqual([expect.closeTo(1 / 3, 12), expect.closeTo(2 / 3, 12), 0, null, null]);
    expect(cm.meanIou()).toBeCloseTo(1 / 3, 12);
    // pred 0 3 1 1 0 2: class 3 predicted once where truth is 0, so IoU3 = 0 / (0 + 1 − 0) = 0 enters the mean;
    // IoU0 = 1 / (2 + 2 − 1) = 1/3, IoU1 = 2 / (2 + 2 − 2) = 1, IoU2 = 0 → mIoU = (1/3 + 1 + 0 + 0) / 4 = 1/3.
    const withFalsePositive = new ConfusionMatrix(5).update(Int32Array.from([0, 3, 1, 1, 0, 2]), truth);
    expect(withFalsePositive.iou()).toEqual([expect.closeTo(1 / 3, 12), 1, 0, 0, null]);
    expect(withFalsePositive.meanIou()).toBeCloseTo(1 / 3, 12);
    expect(withFalsePositive.classAccuracy()).toEqual([0.5, 1, 0, null, null]);
  });

  it('accumulates over batches and merges: the split matrix is the sum', () => {
    const whole = new ConfusionMatrix(3).update(pred, truth);
    const parts = new ConfusionMatrix(3).update(pred.subarray(0, 2), truth.subarray(0, 2));
    parts.update(pred.subarray(2), truth.subarray(2));
    expect([...parts.counts]).toEqual([...whole.counts]);
    const other = new ConfusionMatrix(3).update(pred.subarray(3), truth.subarray(3));
    const merged = new ConfusionMatrix(3).update(pred.subarray(0, 3), truth.subarray(0, 3)).merge(other);
    expect([...merged.counts]).toEqual([...whole.counts]);
    expect([...ConfusionMatrix.fromJSON(JSON.parse(JSON.stringify(whole.toJSON()))).counts]).toEqual([...whole.counts]);
    expect(whole.reset().total).toBe(0);
  });

  it('takes tensors: labels [B,H,W], or scores [B,H,W,K] reduced by argmax; no leak', async () => {
    const truthTensor = tf.tensor3d(truth, [1, 2, 3], 'int32');
    const predTensor = tf.tensor3d(pred, [1, 2, 3], 'int32');
    const scores = tf.oneHot(predTensor.flatten(), 3).reshape([1, 2, 3, 3]).mul(5) as tf.Tensor4D;
    const fromLabels = new ConfusionMatrix(3).update(predTensor, truthTensor);
    const fromScores = new ConfusionMatrix(3).update(scores, truthTensor);
    expect([...fromLabels.counts]).toEqual([...new ConfusionMatrix(3).update(pred, truth).counts]);
    expect([...fromScores.counts]).toEqual([...fromLabels.counts]);
    await expectNoLeak(() => new ConfusionMatrix(3).update(scores, truthTensor).meanIou());
    tf.dispose([truthTensor, predTensor, scores]);
  });

  it('rejects bad input with typed errors', () => {
    const cm = new ConfusionMatrix(3);
    expect(() => cm.update(pred.subarray(1), truth)).toThrow(ShapeError);
    expect(() => cm.update(Int32Array.from([3]), Int32Array.from([0]))).toThrow(/pred must hold class indices in \[0, 3\) \(element 0\), got 3/);
    expect(() => cm.update(Int32Array.from([0]), Int32Array.from([7]))).toThrow(/truth must hold class indices in \[0, 3\) or 255 \(element 0\), got 7/);
    expect(() => cm.update(Float32Array.from([NaN]), Int32Array.from([0]))).toThrow(DataError);
    expect(() => new ConfusionMatrix(0)).toThrow(ConfigError);
    expect(() => new ConfusionMatrix(3, { ignoreLabel: 1 })).toThrow(/ignoreLabel must be an integer outside \[0, 3\)/);
    expect(() => new ConfusionMatrix(3).update([0, 1], [255, 255]).meanIou()).toThrow(/ConfusionMatrix.meanIou needs at least one counted pixel/);
    expect(() => new ConfusionMatrix(3).pixelAccuracy()).toThrow(DataError);
    expect(() => new ConfusionMatrix(3).merge(new ConfusionMatrix(4))).toThrow(ConfigError);
  });
});
