import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { ConfigError, localMasks, segAwareFilter, ShapeError } from '../../../src/index.js';
import { checkGradients, expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';
import { spacedEmbedding } from './helpers.js';

const E = Math.exp;

describeOnBackends('localMasks', () => {
  it('computes exp(−λ·L1) per tap and zeroes out-of-image taps (1×3 image, 3×3 window)', () => {
    const e = tf.tensor4d([0, 1, 3], [1, 1, 3, 1]);
    const m = localMasks(e, { kernelSize: 3, lambda: 0.5 });
    expect(m.shape).toEqual([1, 1, 3, 9]);
    // Only the middle window row (taps 3, 4, 5) lies inside a one-row image.
    expectTensorClose(m, [
      [0, 0, 0, 0, 1, E(-0.5 * 1), 0, 0, 0],
      [0, 0, 0, E(-0.5 * 1), 1, E(-0.5 * 2), 0, 0, 0],
      [0, 0, 0, E(-0.5 * 2), 1, 0, 0, 0, 0],
    ]);
    tf.dispose([e, m]);
  });

  it('sums channel distances, honours dilation and the l2 (½ΣΔ²) norm', () => {
    // 3×3 image, 2 channels; with dilation 2 the only in-image taps of the centre pixel are the corners.
    const values = [
      [0, 0], [5, 5], [1, 2],
      [5, 5], [0.5, 0], [5, 5],
      [2, 0], [5, 5], [0, 1],
    ];
    const e = tf.tensor4d(values.flat(), [1, 3, 3, 2]);
    const l1 = localMasks(e, { kernelSize: 3, dilation: 2, lambda: 1 });
    const l2 = localMasks(e, { kernelSize: 3, dilation: 2, lambda: 1, norm: 'l2' });
    const l1Values = l1.arraySync()[0]!;
    const l2Values = l2.arraySync()[0]!;
    // Corner (0,0) = [0, 0]: taps (0,+2) → [1, 2], (+2,0) → [2, 0], (+2,+2) → [0, 1].
    expectTensorClose(l1Values[0]![0]!, [0, 0, 0, 0, 1, E(-3), 0, E(-2), E(-1)], { atol: 1e-6 });
    expectTensorClose(l2Values[0]![0]!, [0, 0, 0, 0, 1, E(-2.5), 0, E(-2), E(-0.5)], { atol: 1e-6 });
    // Centre (1,1): every dilated tap but its own lies outside a 3×3 image.
    expectTensorClose(l1Values[1]![1]!, [0, 0, 0, 0, 1, 0, 0, 0, 0]);
    // Corner (0,2) = [1, 2]: taps (0,−2) → [0, 0], (+2,−2) → [2, 0], (+2,0) → [0, 1].
    expectTensorClose(l1Values[0]![2]!, [0, 0, 0, E(-3), 1, 0, E(-3), E(-2), 0], { atol: 1e-6 });
    expectTensorClose(l2Values[0]![2]!, [0, 0, 0, E(-2.5), 1, 0, E(-2.5), E(-1), 0], { atol: 1e-6 });
    // Corner (2,2) = [0, 1]: taps (−2,−2) → [0, 0], (−2,0) → [1, 2], (0,−2) → [2, 0].
    expectTensorClose(l1Values[2]![2]!, [E(-1), E(-2), 0, E(-3), 1, 0, 0, 0, 0], { atol: 1e-6 });
    tf.dispose([e, l1, l2]);
  });

  it('gives 1 on every in-image tap at λ = 0', () => {
    const e = tf.randomNormal([2, 3, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const m = localMasks(e, { kernelSize: 3, lambda: 0 });
    // Per pixel: the number of in-image 3×3 neighbours (corners 4, edges 6, inside 9).
    const counts = tf.sum(m, 3);
    expectTensorClose(counts, [0, 1].map(() => [[4, 6, 6, 4], [6, 9, 9, 6], [4, 6, 6, 4]]));
    tf.dispose([e, m, counts]);
  });

  it('differentiates w.r.t. the embedding and λ (finite differences)', () => {
    const e = spacedEmbedding([1, 3, 4, 2], 11);
    const lambda = tf.scalar(0.4);
    const f = (em: tf.Tensor, l: tf.Tensor): tf.Tensor => localMasks(em as tf.Tensor4D, { kernelSize: 3, dilation: 1, lambda: l });
    checkGradients(f, [e, lambda], { epsilon: 1e-2, rtol: 2e-3 });
    const fl2 = (em: tf.Tensor, l: tf.Tensor): tf.Tensor => localMasks(em as tf.Tensor4D, { kernelSize: 3, dilation: 2, lambda: l, norm: 'l2' });
    checkGradients(fl2, [e, lambda], { epsilon: 1e-2, rtol: 2e-3 });
    tf.dispose([e, lambda]);
  });

  it('rejects bad options with typed errors naming the argument', () => {
    const e = tf.zeros([1, 3, 3, 2]) as tf.Tensor4D;
    expect(() => localMasks(e, { kernelSize: 4, lambda: 1 })).toThrow(ConfigError);
    expect(() => localMasks(e, { kernelSize: 4, lambda: 1 })).toThrow(/localMasks\.kernelSize must be odd.*got 4/);
    expect(() => localMasks(e, { kernelSize: 3, dilation: 0, lambda: 1 })).toThrow(/localMasks\.dilation must be an integer >= 1, got 0/);
    expect(() => localMasks(e, { kernelSize: 3, lambda: -1 })).toThrow(/localMasks\.lambda must be a finite number >= 0, got -1/);
    expect(() => localMasks(e, { kernelSize: 3, lambda: 1, norm: 'l3' as 'l1' })).toThrow(/localMasks\.norm must be one of/);
    expect(() => localMasks(tf.zeros([3, 3, 2]) as unknown as tf.Tensor4D, { kernelSize: 3, lambda: 1 })).toThrow(ShapeError);
    expect(() => localMasks(tf.zeros([3, 3, 2]) as unknown as tf.Tensor4D, { kernelSize: 3, lambda: 1 })).toThrow(/^embedding must be rank 4/);
    e.dispose();
  });
});

describeOnBackends('segAwareFilter', () => {
  it('is the normalised masked average (Eq. 4), borders averaging over fewer neighbours', () => {
    const e = tf.tensor4d([0, 1, 3], [1, 1, 3, 1]);
    const x = tf.tensor4d([1, 10, 2, 20, 4, 40], [1, 1, 3, 2]);
    const masks = localMasks(e, { kernelSize: 3, lambda: 0.5 });
    const y = segAwareFilter(x, masks, { kernelSize: 3 });
    const a = E(-0.5);
    const b = E(-1);
    const once = [(1 + a * 2) / (1 + a), (a * 1 + 2 + b * 4) / (a + 1 + b), (b * 2 + 4) / (b + 1)];
    expectTensorClose(y, [once.flatMap((v) => [v, 10 * v])], { atol: 1e-6 });
    // Repeats reuse the same masks: a second pass filters `once` again.
    const twice = [(once[0]! + a * once[1]!) / (1 + a), (a * once[0]! + once[1]! + b * once[2]!) / (a + 1 + b), (b * once[1]! + once[2]!) / (b + 1)];
    const y2 = segAwareFilter(x, masks, { kernelSize: 3, repeats: 2 });
    expectTensorClose(y2, [twice.flatMap((v) => [v, 10 * v])], { atol: 1e-5 });
    tf.dispose([e, x, masks, y, y2]);
  });

  it('with uniform masks is a box mean over the in-image part of the window', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const masks = tf.ones([1, 3, 3, 9]) as tf.Tensor4D;
    const y = segAwareFilter(x, masks, { kernelSize: 3 });
    // Out-of-image taps are excluded even when the given masks are 1 there.
    expectTensorClose(y, [[[[3], [3.5], [4]], [[4.5], [5], [5.5]], [[6], [6.5], [7]]]], { atol: 1e-6 });
    tf.dispose([x, masks, y]);
  });

  it('broadcasts batch-1 masks and matches per-item filtering', () => {
    const e = spacedEmbedding([1, 4, 5, 2], 3);
    const x = tf.randomNormal([2, 4, 5, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const masks = localMasks(e, { kernelSize: 3, dilation: 2, lambda: 0.7 });
    const both = segAwareFilter(x, masks, { kernelSize: 3, dilation: 2 });
    const second = segAwareFilter(tf.slice(x, [1, 0, 0, 0], [1, 4, 5, 3]), masks, { kernelSize: 3, dilation: 2 });
    expectTensorClose(tf.slice(both, [1, 0, 0, 0], [1, 4, 5, 3]), second, { atol: 1e-6 });
    tf.dispose([e, x, masks, both, second]);
  });

  it('differentiates w.r.t. x, the embedding and λ through the masks (finite differences)', () => {
    const e = spacedEmbedding([2, 3, 4, 2], 5);
    const x = tf.randomNormal([2, 3, 4, 2], 0, 1, 'float32', 6) as tf.Tensor4D;
    const lambda = tf.scalar(0.6);
    const f = (xs: tf.Tensor, em: tf.Tensor, l: tf.Tensor): tf.Tensor =>
      segAwareFilter(xs as tf.Tensor4D, localMasks(em as tf.Tensor4D, { kernelSize: 3, lambda: l }), { kernelSize: 3, repeats: 2 });
    checkGradients(f, [x, e, lambda], { epsilon: 1e-2, rtol: 2e-3 });
    tf.dispose([e, x, lambda]);
  });

  it('does not leak, forward or backward', async () => {
    const e = spacedEmbedding([1, 3, 4, 2], 7);
    const x = tf.randomNormal([1, 3, 4, 2], 0, 1, 'float32', 8) as tf.Tensor4D;
    const lambda = tf.scalar(0.5);
    const run = (xs: tf.Tensor, em: tf.Tensor, l: tf.Tensor): tf.Tensor =>
      tf.sum(segAwareFilter(xs as tf.Tensor4D, localMasks(em as tf.Tensor4D, { kernelSize: 3, lambda: l }), { kernelSize: 3, repeats: 3 }));
    await expectNoLeak(() => tf.tidy(() => segAwareFilter(x, localMasks(e, { kernelSize: 3, lambda: 0.5 }), { kernelSize: 3, repeats: 2 })));
    await expectNoLeak(() => tf.grads(run)([x, e, lambda]));
    tf.dispose([e, x, lambda]);
  });

  it('rejects bad inputs with typed errors naming the argument', () => {
    const x = tf.zeros([1, 3, 4, 2]) as tf.Tensor4D;
    const masks = tf.ones([1, 3, 4, 9]) as tf.Tensor4D;
    expect(() => segAwareFilter(x, masks, { kernelSize: 2 })).toThrow(/segAwareFilter\.kernelSize must be odd.*got 2/);
    expect(() => segAwareFilter(x, masks, { kernelSize: 3, dilation: 0 })).toThrow(/segAwareFilter\.dilation must be an integer >= 1, got 0/);
    expect(() => segAwareFilter(x, masks, { kernelSize: 3, repeats: 0 })).toThrow(/segAwareFilter\.repeats must be an integer >= 1, got 0/);
    expect(() => segAwareFilter(x, masks, { kernelSize: 5 })).toThrow(/^masks must have kernelSize² = 25 channels/);
    const small = tf.ones([1, 2, 4, 9]) as tf.Tensor4D;
    expect(() => segAwareFilter(x, small, { kernelSize: 3 })).toThrow(ShapeError);
    expect(() => segAwareFilter(x, small, { kernelSize: 3 })).toThrow(/^masks must have the height and width of x \(3×4\), got tensor of shape \[1, 2, 4, 9\]/);
    const batch3 = tf.ones([3, 3, 4, 9]) as tf.Tensor4D;
    expect(() => segAwareFilter(tf.zeros([2, 3, 4, 2]) as tf.Tensor4D, batch3, { kernelSize: 3 })).toThrow(/^masks must have x's batch size 2/);
    tf.dispose([x, masks, small, batch3]);
  });
});
