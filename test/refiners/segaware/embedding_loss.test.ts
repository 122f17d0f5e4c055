import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { ConfigError, embeddingLoss, ShapeError } from '../../../src/index.js';
import { checkGradients, expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';
import { spacedEmbedding } from './helpers.js';

describeOnBackends('embeddingLoss', () => {
  it('averages the hinge costs over explicit pairs, per dilation, summed over dilations', () => {
    // One row of three pixels, labels [0, 0, 1], 1-D embeddings [0, 0.9, 1.5].
    const e = tf.tensor4d([0, 0.9, 1.5], [1, 1, 3, 1]);
    const labels = tf.tensor3d([0, 0, 1], [1, 1, 3], 'int32');
    // Dilation 1: (0,1) same, d = 0.9 → 0.9 − 0.5 = 0.4; (1,2) different, d = 0.6 → 2 − 0.6 = 1.4.
    expectTensorClose(embeddingLoss(e, labels, { dilations: [1] }), (0.4 + 1.4) / 2);
    // Dilation 2: (0,2) different, d = 1.5 → 0.5.
    expectTensorClose(embeddingLoss(e, labels, { dilations: [2] }), 0.5);
    expectTensorClose(embeddingLoss(e, labels, { dilations: [1, 2] }), 0.9 + 0.5);
    // Dilation 5 reaches no pixel of a 1×3 image: no pairs, no cost.
    expectTensorClose(embeddingLoss(e, labels, { dilations: [5] }), 0);
    // Margins: with α = 1 the same-label pair is inside its margin.
    expectTensorClose(embeddingLoss(e, labels, { dilations: [1], alpha: 1, beta: 2 }), 1.4 / 2);
    tf.dispose([e, labels]);
  });

  it('uses L1 over channels, the diagonal neighbours, and leaves out ignored pixels', () => {
    // 2×2 image: labels [[0, 255], [0, 1]]; embeddings (2 channels).
    const e = tf.tensor4d([0, 0, 9, 9, 1, 0, 0.5, 0.7], [1, 2, 2, 2]);
    const labels = tf.tensor4d([0, 255, 0, 1], [1, 2, 2, 1], 'int32');
    // Valid pairs: (0,0)-(1,0) same, d = 1 → 0.5; (0,0)-(1,1) different, d = 1.2 → 0.8;
    // (1,0)-(1,1) different, d = 0.5 + 0.7 = 1.2 → 0.8. Pairs with the 255 pixel are left out.
    expectTensorClose(embeddingLoss(e, labels, { dilations: [1] }), (0.5 + 0.8 + 0.8) / 3, { atol: 1e-6 });
    // A custom ignore label.
    const relabelled = tf.tensor4d([0, 7, 0, 1], [1, 2, 2, 1], 'int32');
    expectTensorClose(embeddingLoss(e, relabelled, { dilations: [1], ignoreLabel: 7 }), (0.5 + 0.8 + 0.8) / 3, { atol: 1e-6 });
    tf.dispose([e, labels, relabelled]);
  });

  it('averages over the valid pairs of the whole batch', () => {
    const e = tf.tensor4d([0, 0.9, 1.5, 0, 0, 0], [2, 1, 3, 1]);
    const labels = tf.tensor3d([0, 0, 1, 255, 255, 3], [2, 1, 3], 'int32');
    // Item 2 has no valid pair; item 1 gives 0.4 and 1.4.
    expectTensorClose(embeddingLoss(e, labels, { dilations: [1] }), 0.9);
    tf.dispose([e, labels]);
  });

  it('differentiates w.r.t. the embedding (finite differences)', () => {
    // Integer-spaced embeddings give integer L1 distances, and margins 0.5 and
    // 2.25 keep every hinge ≥ 0.25 away from its kink, beyond the reach of the steps.
    const e = spacedEmbedding([2, 3, 4, 2], 21, 1);
    const labels = tf.tensor3d([0, 0, 1, 1, 0, 255, 1, 1, 2, 2, 2, 1, 0, 1, 0, 1, 1, 1, 255, 2, 2, 0, 0, 0], [2, 3, 4], 'int32');
    const f = (x: tf.Tensor): tf.Tensor => embeddingLoss(x as tf.Tensor4D, labels, { dilations: [1, 2], alpha: 0.5, beta: 2.25 });
    // The loss is piecewise linear; float32 round-off of its sum bounds the agreement.
    const { entries } = checkGradients(f, [e], { epsilon: 5e-2, rtol: 1e-2 });
    expect(entries.some((entry) => Math.abs(entry.analytic) > 1e-3)).toBe(true);
    // Exactly, on the 1×3 example: L = (max(|e1 − e0| − 0.5, 0) + max(2 − |e2 − e1|, 0)) / 2.
    const small = tf.tensor4d([0, 0.9, 1.5], [1, 1, 3, 1]);
    const smallLabels = tf.tensor3d([0, 0, 1], [1, 1, 3], 'int32');
    const grad = tf.grad((x: tf.Tensor) => embeddingLoss(x as tf.Tensor4D, smallLabels, { dilations: [1] }))(small);
    expectTensorClose(grad, [[[[-0.5], [1], [-0.5]]]]);
    tf.dispose([e, labels, small, smallLabels, grad]);
  });

  it('does not leak, forward or backward', async () => {
    const e = spacedEmbedding([1, 3, 3, 2], 2);
    const labels = tf.tensor3d([0, 0, 1, 1, 0, 1, 1, 1, 0], [1, 3, 3], 'int32');
    await expectNoLeak(() => embeddingLoss(e, labels));
    await expectNoLeak(() => tf.grad((x: tf.Tensor) => embeddingLoss(x as tf.Tensor4D, labels))(e));
    tf.dispose([e, labels]);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    const e = tf.zeros([1, 3, 4, 2]) as tf.Tensor4D;
    const labels = tf.zeros([1, 3, 4], 'int32');
    expect(() => embeddingLoss(e, tf.zeros([1, 3, 5], 'int32'))).toThrow(ShapeError);
    expect(() => embeddingLoss(e, tf.zeros([1, 3, 5], 'int32'))).toThrow(/^labels must match the embedding's batch, height and width \[1, 3, 4\]/);
    expect(() => embeddingLoss(e, tf.zeros([1, 3, 4, 2]))).toThrow(/^labels must be a \[B, H, W\] or \[B, H, W, 1\] tensor/);
    expect(() => embeddingLoss(e, labels, { alpha: 2, beta: 1 })).toThrow(ConfigError);
    expect(() => embeddingLoss(e, labels, { alpha: 2, beta: 1 })).toThrow(/embeddingLoss\.beta must be a finite number > alpha \(2\), got 1/);
    expect(() => embeddingLoss(e, labels, { dilations: [1, 0] })).toThrow(/embeddingLoss\.dilations\[1\] must be an integer >= 1, got 0/);
    expect(() => embeddingLoss(e, labels, { dilations: [] })).toThrow(/embeddingLoss\.dilations must be a non-empty array/);
    expect(() => embeddingLoss(tf.zeros([3, 4, 2]) as unknown as tf.Tensor4D, labels)).toThrow(/^embedding must be rank 4/);
    tf.dispose([e, labels]);
  });
});
