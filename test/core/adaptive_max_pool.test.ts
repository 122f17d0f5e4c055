import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { adaptiveMaxPool } from '../../src/core/ops/adaptive_max_pool.js';
import { expectNoLeak, expectTensorClose } from '../../src/testing/index.js';
import { describeOnBackends } from '../helpers/backends.js';

// adaptiveMaxPool's block max pool has its own gradient on wasm and cpu (one
// pass over x); it must equal the cpu backend's MaxPoolGrad, which routes dy
// to the first maximum of each block.
describeOnBackends('adaptiveMaxPool', () => {
  it('pools blocks and routes the gradient to the first maximum (ties included), as tfjs-cpu does', async () => {
    // Rounded values: many ties inside each 4×3 block.
    const values = tf.tidy(() => tf.round(tf.mul(tf.randomNormal([2, 8, 9, 5], 0, 1, 'float32', 3), 2))).arraySync() as number[][][][];
    const weights = tf.randomNormal([2, 2, 3, 5], 0, 1, 'float32', 4).arraySync() as number[][][][];
    const ours = tf.tidy(() => {
      const x = tf.tensor4d(values);
      const loss = (v: tf.Tensor): tf.Scalar => tf.sum(tf.mul(adaptiveMaxPool(v as tf.Tensor4D, [2, 3]), tf.tensor4d(weights)));
      return [adaptiveMaxPool(x, [2, 3]).arraySync(), tf.grad(loss)(x).arraySync()];
    });
    const backend = tf.getBackend();
    await tf.setBackend('cpu');
    const reference = tf.tidy(() => {
      const x = tf.tensor4d(values);
      const loss = (v: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, [4, 3], [4, 3], 'valid'), tf.tensor4d(weights)));
      return [tf.maxPool(x, [4, 3], [4, 3], 'valid').arraySync(), tf.grad(loss)(x).arraySync()];
    });
    await tf.setBackend(backend);
    tf.tidy(() => {
      expectTensorClose(tf.tensor4d(ours[0] as number[][][][]), reference[0] as number[][][][]);
      expectTensorClose(tf.tensor4d(ours[1] as number[][][][]), reference[1] as number[][][][]);
    });
  });

  it('does not leak, forward and backward', async () => {
    const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    await expectNoLeak(() => adaptiveMaxPool(x, [2, 2]));
    await expectNoLeak(() => tf.grad((v: tf.Tensor) => tf.sum(adaptiveMaxPool(v as tf.Tensor4D, [2, 2])))(x));
    x.dispose();
  });
});

describe('adaptiveMaxPool sizes', () => {
  it('returns the input at its own size', () => {
    const x = tf.ones([1, 4, 4, 2]) as tf.Tensor4D;
    expect(adaptiveMaxPool(x, [4, 4]).shape).toEqual([1, 4, 4, 2]);
    x.dispose();
  });
});
