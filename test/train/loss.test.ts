import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, ShapeError, segmentationCrossEntropy } from '../../src/index.js';
import { checkLabelValues } from '../../src/train/loss.js';
import { checkGradients, expectNoLeak } from '../../src/testing/index.js';
import { describeOnBackends } from '../helpers/backends.js';

/** Reference cross-entropy in plain numbers: weighted mean of −log softmax over valid pixels. */
function reference(logits: number[][], labels: number[], weights?: number[]): number {
  let num = 0;
  let den = 0;
  logits.forEach((row, i) => {
    const label = labels[i]!;
    if (label === 255) return;
    const max = Math.max(...row);
    const logSum = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
    const w = weights?.[label] ?? 1;
    num += w * (logSum - row[label]!);
    den += w;
  });
  return num / den;
}

describeOnBackends('segmentationCrossEntropy', () => {
  const logitRows = [[2, -1, 0.5], [0, 0, 0], [-3, 4, 1], [1, 2, 3]];
  const logits = (): tf.Tensor4D => tf.tensor4d(logitRows.flat(), [1, 2, 2, 3]);

  it('is the mean −log softmax over non-ignored pixels, optionally class-weighted', () => {
    const labels = tf.tensor3d([0, 255, 1, 2], [1, 2, 2], 'int32');
    const plain = segmentationCrossEntropy(logits(), labels);
    expect(plain.dataSync()[0]).toBeCloseTo(reference(logitRows, [0, 255, 1, 2]), 5);
    const weighted = segmentationCrossEntropy(logits(), labels, { classWeights: [1, 0.5, 3] });
    expect(weighted.dataSync()[0]).toBeCloseTo(reference(logitRows, [0, 255, 1, 2], [1, 0.5, 3]), 5);
    const otherVoid = segmentationCrossEntropy(logits(), tf.tensor3d([0, 9, 1, 2], [1, 2, 2], 'int32'), { ignoreLabel: 9 });
    expect(otherVoid.dataSync()[0]).toBeCloseTo(plain.dataSync()[0]!, 6);
    tf.dispose([labels, plain, weighted, otherVoid]);
  });

  it('rejects a label ≥ K that is not the ignore label (it would add a silent 0), unless told not to check', () => {
    const logits = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    const labels = tf.tensor3d([[[0, 1], [5, 255]]], [1, 2, 2], 'int32');
    expect(() => segmentationCrossEntropy(logits, labels)).toThrow(DataError);
    expect(() => segmentationCrossEntropy(logits, labels)).toThrow(/labels must be in \[0, 3\) or 255 \(void\), got 5/);
    const unchecked = segmentationCrossEntropy(logits, labels, { checkLabels: false });
    expect(Number.isFinite(unchecked.dataSync()[0])).toBe(true);
    tf.dispose([logits, labels, unchecked]);
  });

  it('is 0 (not NaN) when every pixel is void', () => {
    const loss = segmentationCrossEntropy(logits(), tf.fill([1, 2, 2], 255, 'int32') as tf.Tensor3D);
    expect(loss.dataSync()[0]).toBe(0);
    loss.dispose();
  });

  it('resizes low-resolution logits bilinearly (alignCorners false) to the label size', () => {
    const small = logits();
    const labels = tf.tensor3d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 255], [1, 4, 4], 'int32');
    const expected = segmentationCrossEntropy(tf.image.resizeBilinear(small, [4, 4], false, false), labels);
    const got = segmentationCrossEntropy(small, labels);
    expect(got.dataSync()[0]).toBeCloseTo(expected.dataSync()[0]!, 6);
    tf.dispose([small, labels, expected, got]);
  });

  it('has gradients matching finite differences (through the resize)', () => {
    const labels = tf.tensor3d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 255], [1, 4, 4], 'int32');
    const x = tf.randomNormal([1, 2, 2, 3], 0, 1, 'float32', 4);
    const result = checkGradients((l) => segmentationCrossEntropy(l as tf.Tensor4D, labels, { classWeights: [1, 2, 0.5] }), [x], { epsilon: 2e-2, rtol: 2e-3 });
    expect(result.maxRelError).toBeLessThan(2e-3);
    tf.dispose([labels, x]);
  });
});

describe('segmentationCrossEntropy errors and leaks', () => {
  it('names the argument at fault', () => {
    const logits = tf.zeros([1, 2, 2, 3]) as tf.Tensor4D;
    const labels = tf.zeros([1, 2, 2], 'int32') as tf.Tensor3D;
    expect(() => segmentationCrossEntropy(logits, tf.zeros([1, 2, 2], 'float32') as tf.Tensor3D)).toThrow(DataError);
    expect(() => segmentationCrossEntropy(logits, tf.zeros([1, 2, 2], 'float32') as tf.Tensor3D)).toThrow(/labels must have dtype int32, got "float32"/);
    expect(() => segmentationCrossEntropy(logits, tf.zeros([2, 2, 2], 'int32') as tf.Tensor3D)).toThrow(/labels must have the logits' batch size 1/);
    expect(() => segmentationCrossEntropy(tf.zeros([2, 2, 3]) as unknown as tf.Tensor4D, labels)).toThrow(ShapeError);
    expect(() => segmentationCrossEntropy(logits, labels, { classWeights: [1, 2] })).toThrow(ConfigError);
    expect(() => segmentationCrossEntropy(logits, labels, { classWeights: [1, 2] })).toThrow(/classWeights must have one weight per class \(3\)/);
    tf.dispose([logits, labels]);
  });

  it('checkLabelValues reports the offending label', () => {
    const good = tf.tensor3d([0, 2, 255, 1], [1, 2, 2], 'int32');
    expect(() => checkLabelValues(good, 3)).not.toThrow();
    const bad = tf.tensor3d([0, 7, 255, 1], [1, 2, 2], 'int32');
    expect(() => checkLabelValues(bad, 3)).toThrow(/labels must be in \[0, 3\) or 255 \(void\), got 7/);
    tf.dispose([good, bad]);
  });

  it('does not leak', async () => {
    const logits = tf.randomNormal([2, 3, 3, 4]) as tf.Tensor4D;
    const labels = tf.randomUniform([2, 6, 6], 0, 4, 'int32') as tf.Tensor3D;
    await expectNoLeak(() => segmentationCrossEntropy(logits, labels, { classWeights: [1, 1, 2, 2] }));
    await expectNoLeak(() => tf.grad((l: tf.Tensor) => segmentationCrossEntropy(l as tf.Tensor4D, labels))(logits));
    tf.dispose([logits, labels]);
  });
});
