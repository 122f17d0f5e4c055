import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { ConfigError, EmbeddingHead, ShapeError } from '../../../src/index.js';
import { expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';
import { saveAndReload } from './helpers.js';

describeOnBackends('EmbeddingHead', () => {
  it('equals a 1×1 convolution of the upsampled, concatenated sources', () => {
    const fine = tf.randomNormal([2, 6, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const coarse = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 2) as tf.Tensor4D;
    const image = tf.randomUniform([2, 6, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const head = new EmbeddingHead({ embeddingDim: 4, featureLevels: 2, useImage: true, seed: 7 });
    const out = head.apply([fine, coarse, image]) as tf.Tensor4D;
    expect(out.shape).toEqual([2, 6, 8, 4]);
    // Reference: concat(up(sources)) · [K_fine; K_coarse; K_image] + b.
    const [kFine, bias, kCoarse, kImage] = head.getWeights();
    const up = tf.image.resizeBilinear(coarse, [6, 8], false, false);
    const stacked = tf.reshape(tf.concat([fine, up, image], 3), [2 * 6 * 8, 11]);
    const kernel = tf.concat([tf.reshape(kFine!, [3, 4]), tf.reshape(kCoarse!, [5, 4]), tf.reshape(kImage!, [3, 4])], 0);
    const expected = tf.reshape(tf.add(tf.matMul(stacked, kernel), bias!), [2, 6, 8, 4]);
    expectTensorClose(out, expected, { atol: 1e-5 });
    // A given output size resizes every source to it.
    const sized = new EmbeddingHead({ embeddingDim: 2, featureLevels: 1, outputSize: [3, 4] });
    expect((sized.apply(fine) as tf.Tensor).shape).toEqual([2, 3, 4, 2]);
    tf.dispose([fine, coarse, image, out, up, stacked, kernel, expected]);
    head.dispose();
    sized.dispose();
  });

  it('round-trips through save/load inside a functional model and does not leak', async () => {
    const a = tf.input({ shape: [6, 8, 3] });
    const b = tf.input({ shape: [3, 4, 2] });
    const head = new EmbeddingHead({ embeddingDim: 3, featureLevels: 2 });
    const out = head.apply([a, b]) as tf.SymbolicTensor;
    expect(out.shape).toEqual([null, 6, 8, 3]);
    const model = tf.model({ inputs: [a, b], outputs: out });
    const reloaded = await saveAndReload(model);
    const x = tf.randomNormal([1, 6, 8, 3], 0, 1, 'float32', 4);
    const y = tf.randomNormal([1, 3, 4, 2], 0, 1, 'float32', 5);
    expectTensorClose(reloaded.predict([x, y]) as tf.Tensor, model.predict([x, y]) as tf.Tensor, { atol: 0, rtol: 0 });
    await expectNoLeak(() => model.predict([x, y]));
    tf.dispose([x, y]);
    model.dispose();
    reloaded.dispose();
  });

  it('rejects bad arguments and inputs with typed errors', () => {
    expect(() => new EmbeddingHead({ featureLevels: 0 })).toThrow(ConfigError);
    expect(() => new EmbeddingHead({ featureLevels: 0 })).toThrow(/EmbeddingHeadArgs\/featureLevels must be >= 1 when useImage is false/);
    expect(() => new EmbeddingHead({ embeddingDim: 0 })).toThrow(/EmbeddingHeadArgs\/embeddingDim must be >= 1, got 0/);
    const head = new EmbeddingHead({ featureLevels: 2 });
    const x = tf.zeros([1, 4, 4, 2]);
    expect(() => head.apply([x])).toThrow(ShapeError);
    expect(() => head.apply([x])).toThrow(/EmbeddingHead inputs must be 2 level\(s\) \(2 tensors\), got "1 tensor\(s\)"/);
    x.dispose();
  });
});
