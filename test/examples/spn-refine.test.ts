import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { main } from '../../examples/spn-refine.js';

it('examples/spn-refine.ts trains in fast mode and reports accuracies', async () => {
  const before = tf.memory().numTensors;
  const { baseline, refined, losses, toy } = await main(3);
  // h_t = 0.1·x_t + 0.9·h_{t−1}: the impulse decays by 0.9 per column.
  expect(toy.map((v) => Number(v.toFixed(5)))).toEqual([1, 0.9, 0.81, 0.729, 0.6561]);
  expect(losses).toHaveLength(3);
  expect(losses.every(Number.isFinite)).toBe(true);
  expect(baseline).toBeGreaterThan(0.5);
  expect(refined).toBeGreaterThanOrEqual(0);
  expect(refined).toBeLessThanOrEqual(1);
  expect(tf.memory().numTensors).toBe(before);
});
