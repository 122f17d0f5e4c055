import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { main } from '../../examples/segaware.js';

it('examples/segaware.ts trains both refiners in fast mode and reports accuracy and λ', async () => {
  const before = tf.memory().numTensors;
  const result = await main(2);
  expect(result.baseline).toBeGreaterThan(0.5);
  for (const name of ['bilateral', 'crf'] as const) {
    expect(result.losses[name]).toHaveLength(2);
    expect(result.losses[name].every(Number.isFinite)).toBe(true);
    expect(result.refined[name]).toBeGreaterThan(0.5);
    expect(result.refined[name]).toBeLessThanOrEqual(1);
    // Adam moved λ away from its initial value 1.
    expect(Math.abs(result.lambda[name] - 1)).toBeGreaterThan(1e-4);
  }
  expect(tf.memory().numTensors).toBe(before);
});
