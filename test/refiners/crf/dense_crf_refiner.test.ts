import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DataError, DenseCrf, ShapeError, createRefiner, denseCrf, defaultRegistry, type DenseCrfParams } from '../../../src/index.js';
import { expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';

const PARAMS: DenseCrfParams = { iterations: 3, pos: { sxy: 2, compat: 2 }, bilateral: { sxy: 5, srgb: 30, compat: 4 } };

function batch(): { scores: tf.Tensor4D; image: tf.Tensor4D } {
  return tf.tidy(() => {
    // Two images whose left and right halves differ in colour; scores at half resolution.
    const left = tf.concat([tf.ones([2, 10, 6, 1]), tf.zeros([2, 10, 6, 1])], 2);
    const noise = tf.randomUniform([2, 10, 12, 3], 0, 0.15, 'float32', 4);
    const image = tf.clipByValue(tf.add(tf.mul(tf.tile(left, [1, 1, 1, 3]), tf.tensor1d([0.8, 0.2, 0.1])), noise), 0, 1) as tf.Tensor4D;
    const scores = tf.randomNormal([2, 5, 6, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    return { scores, image };
  });
}

describe('DenseCrf refiner (dense-crf)', () => {
  it('is registered, not differentiable, and built from a config', () => {
    expect(defaultRegistry().refinerIds()).toContain('dense-crf');
    const refiner = createRefiner({ type: 'dense-crf', iterations: 2, bilateral: { srgb: 5 } });
    expect(refiner).toBeInstanceOf(DenseCrf);
    expect(refiner.refinerId).toBe('dense-crf');
    expect(refiner.differentiable).toBe(false);
    expect((refiner as DenseCrf).args.bilateral).toEqual({ sxy: 80, srgb: 5, compat: 10 });
  });

  it('equals denseCrf on each batch item (softmaxed, resized scores; image × 255)', () => {
    const { scores, image } = batch();
    const refiner = new DenseCrf(PARAMS);
    const out = refiner.refine({ scores, image }, { outputSize: [10, 12] });
    expect(out.shape).toEqual([2, 10, 12, 3]);
    for (let b = 0; b < 2; b++) {
      const [probabilities, rgb] = tf.tidy(() => [
        tf.squeeze(tf.softmax(tf.image.resizeBilinear(tf.slice(scores, [b, 0, 0, 0], [1, -1, -1, -1]), [10, 12])), [0]) as tf.Tensor3D,
        tf.squeeze(tf.mul(tf.slice(image, [b, 0, 0, 0], [1, -1, -1, -1]), 255), [0]) as tf.Tensor3D,
      ]);
      const q = denseCrf(rgb, probabilities, PARAMS);
      const mine = tf.tidy(() => tf.squeeze(tf.softmax(tf.slice(out, [b, 0, 0, 0], [1, -1, -1, -1])), [0]));
      expectTensorClose(mine, q, { atol: 1e-6 });
      tf.dispose([probabilities, rgb, q, mine]);
    }
    tf.dispose([scores, image, out]);
  });

  it('returns the scores’ size by default, or the configured size', () => {
    const { scores, image } = batch();
    const a = new DenseCrf({ iterations: 1 }).refine({ scores, image });
    const b = new DenseCrf({ iterations: 1, outputSize: [7, 9] }).refine({ scores, image });
    expect(a.shape).toEqual([2, 5, 6, 3]);
    expect(b.shape).toEqual([2, 7, 9, 3]);
    tf.dispose([scores, image, a, b]);
  });

  it('sharpens along the image edge: the refined argmax follows the colour halves', () => {
    const { image } = batch();
    // Noisy scores that favour label 0 on the left and 1 on the right, 30 % of pixels flipped.
    const scores = tf.tidy(() => {
      const truth = tf.concat([tf.zeros([2, 10, 6], 'int32'), tf.ones([2, 10, 6], 'int32')], 2);
      const flip = tf.less(tf.randomUniform([2, 10, 12], 0, 1, 'float32', 9), 0.3);
      return tf.mul(tf.oneHot(tf.where(flip, tf.sub(tf.scalar(1, 'int32'), truth), truth), 3), 1.5) as tf.Tensor4D;
    });
    const out = new DenseCrf({ iterations: 5, bilateral: { sxy: 20, srgb: 20, compat: 5 } }).refine({ scores, image });
    const labels = tf.tidy(() => tf.argMax(out, 3).dataSync());
    let correct = 0;
    labels.forEach((label, i) => (correct += label === (i % 12 < 6 ? 0 : 1) ? 1 : 0));
    expect(correct / labels.length).toBeGreaterThan(0.97);
    tf.dispose([scores, image, out]);
  });

  it('does not leak', async () => {
    const { scores, image } = batch();
    const refiner = new DenseCrf({ iterations: 1 });
    await expectNoLeak(() => refiner.refine({ scores, image }, { outputSize: [10, 12] }));
    await expectNoLeak(() => refiner.refine({ scores, image }));
    tf.dispose([scores, image]);
  });

  it('rejects bad inputs with typed errors', () => {
    const { scores, image } = batch();
    const refiner = new DenseCrf();
    expect(() => refiner.refine({ scores })).toThrow(/inputs.image is required by dense-crf/);
    expect(() => refiner.refine({ scores, image, features: [scores] })).toThrow(/inputs.features must have exactly 0 level/);
    expect(() => refiner.refine({ scores: tf.zeros([5, 6, 3]) as unknown as tf.Tensor4D, image })).toThrow(ShapeError);
    const one = tf.zeros([1, 10, 12, 3]) as tf.Tensor4D;
    expect(() => refiner.refine({ scores, image: one })).toThrow(/inputs.image must have the scores' batch size 2/);
    const single = tf.zeros([2, 5, 6, 1]) as tf.Tensor4D;
    expect(() => refiner.refine({ scores: single, image })).toThrow(/inputs.scores must have at least 2 classes/);
    const bright = tf.mul(image, 2) as tf.Tensor4D;
    expect(() => refiner.refine({ scores, image: bright })).toThrow(DataError);
    expect(() => refiner.refine({ scores, image: bright })).toThrow(/inputs.image must hold RGB values in \[0, 1\]/);
    const nan = tf.fill([2, 5, 6, 3], NaN) as tf.Tensor4D;
    expect(() => refiner.refine({ scores: nan, image })).toThrow(/inputs.scores must contain only finite values/);
    expect(() => new DenseCrf({ iterations: -2 })).toThrow('dense-crf/iterations must be >= 0, got -2');
    expect(() => refiner.refine({ scores, image }, { outputSize: [0, 3] })).toThrow(/options.outputSize must be \[height, width\] of positive integers/);
    tf.dispose([scores, image, one, single, bright, nan]);
  });
});
