import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, coarseScores } from '../../src/index.js';

// 4×4 labels, two 2×2 cells per row of cells: [[0,0,1,1],[0,1,1,1],[2,2,255,255],[2,2,255,255]].
const labels = (): tf.Tensor3D => tf.tensor3d([[[0, 0, 1, 1], [0, 1, 1, 1], [2, 2, 255, 255], [2, 2, 255, 255]]], [1, 4, 4], 'int32');

describe('coarseScores', () => {
  it('gives the class fractions of each cell (void excluded, all-void cells uniform) without noise at temperature 1', () => {
    const input = labels();
    const before = tf.memory().numTensors;
    const scores = coarseScores(input, ['a'], { classes: 3, stride: 2, noise: 0, temperature: 1 });
    expect(scores.shape).toEqual([1, 2, 2, 3]);
    const values = Array.from(scores.dataSync());
    const expected = [0.75, 0.25, 0, 0, 1, 0, 0, 0, 1, 1 / 3, 1 / 3, 1 / 3];
    values.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    scores.dispose();
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
  });

  it('divides by the temperature and rounds the grid up for sizes that are not multiples of the stride', () => {
    const input = tf.zeros([2, 10, 7], 'int32') as tf.Tensor3D;
    const scores = coarseScores(input, ['a', 'b'], { classes: 2, stride: 4, noise: 0, temperature: 0.5 });
    expect(scores.shape).toEqual([2, 3, 2, 2]);
    expect(Array.from(scores.dataSync()).slice(0, 2)).toEqual([2, 0]);
    tf.dispose([input, scores]);
  });

  it('draws the noise from the seed and the sample id: same sample, same scores, in any batch', () => {
    const a = labels();
    const pair = tf.concat([tf.zeros([1, 4, 4], 'int32'), labels()]) as tf.Tensor3D;
    const alone = coarseScores(a, ['s1'], { classes: 3, stride: 2, seed: 7 });
    const inBatch = coarseScores(pair, ['other', 's1'], { classes: 3, stride: 2, seed: 7 });
    const otherSeed = coarseScores(a, ['s1'], { classes: 3, stride: 2, seed: 8 });
    const first = Array.from(alone.dataSync());
    expect(Array.from(inBatch.dataSync()).slice(12, 24)).toEqual(first);
    expect(Array.from(otherSeed.dataSync())).not.toEqual(first);
    // Noise of the default size moves values off the exact fractions / 0.25.
    expect(first.some((v, i) => Math.abs(v - [3, 1, 0, 0, 4, 0, 0, 0, 4, 4 / 3, 4 / 3, 4 / 3][i]!) > 0.05)).toBe(true);
    tf.dispose([a, pair, alone, inBatch, otherSeed]);
  });

  it('rejects bad options and inputs with typed errors naming them', () => {
    const input = labels();
    expect(() => coarseScores(input, ['a'], { classes: 1 })).toThrow(ConfigError);
    expect(() => coarseScores(input, ['a'], { classes: 3, stride: 0 })).toThrow(/coarseScores.stride must be an integer >= 1/);
    expect(() => coarseScores(input, ['a'], { classes: 3, temperature: 0 })).toThrow(/temperature/);
    expect(() => coarseScores(input, ['a', 'b'], { classes: 3 })).toThrow(ShapeError);
    input.dispose();
  });
});
