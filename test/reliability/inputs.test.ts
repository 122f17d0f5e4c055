// Bad input is a typed error that names the argument, before any work and without leaks (issue 16).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRefiner, createSegmenter, ShapeError } from '../../src/index.js';

describe('createSegmenter argument checks', () => {
  it('rejects an unknown option (a typo) and a refiner the pyramid cannot feed, before any weight exists', () => {
    const before = tf.memory().numTensors;
    expect(() => createSegmenter({ backbone: { type: 'fcn', classes: 4 }, refinr: { type: 'spn' } } as never)).toThrow(/createSegmenter options.refinr is not a known option/);
    expect(() => createSegmenter({ backbone: { type: 'fcn', classes: 4 }, refiner: { type: 'difnet', walks: 7 } })).toThrow(/refiner 'difnet' takes 7 pyramid level\(s\)/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects an outputSize that is not [height, width] of positive integers', () => {
    const model = createSegmenter({ backbone: { type: 'fcn', classes: 3, channels: 4 }, refiner: { type: 'none' } });
    const refiner = model.getLayer('refiner') as unknown as { refine: (inputs: { scores: tf.Tensor4D }, options: object) => tf.Tensor4D };
    const scores = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
    for (const outputSize of [[8.5, 8], [-4, -4], [0, 5], 'big']) {
      expect(() => refiner.refine({ scores }, { outputSize })).toThrow(/options.outputSize must be \[height, width\] of positive integers/);
    }
    scores.dispose();
    model.dispose();
  });
});

describe('refine() on empty tensors', () => {
  it('is a ShapeError naming the input, for every layer refiner', () => {
    const empty = tf.zeros([0, 4, 4, 3]) as tf.Tensor4D;
    const zeroWide = tf.zeros([1, 4, 0, 3]) as tf.Tensor4D;
    for (const type of ['none', 'spn', 'conv-crf']) {
      const refiner = createRefiner({ type });
      const image = tf.zeros([1, 4, 4, 3]) as tf.Tensor4D;
      const inputs = type === 'none' ? {} : { image };
      expect(() => refiner.refine({ scores: zeroWide, ...inputs }), type).toThrow(ShapeError);
      expect(() => refiner.refine({ scores: zeroWide, ...inputs }), type).toThrow(/inputs.scores must not have a zero-size dimension/);
      image.dispose();
      refiner.dispose();
    }
    expect(() => createRefiner({ type: 'none' }).refine({ scores: empty })).toThrow(/must not have a zero-size dimension/);
    tf.dispose([empty, zeroWide]);
  });
});
