import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { main } from '../../examples/difnet-head.js';

it('examples/difnet-head.ts trains in fast mode and reports μ_t, β_t', async () => {
  const before = tf.memory().numTensors;
  const { mu, beta, losses } = await main(3);
  expect(mu).toHaveLength(3);
  expect(beta).toHaveLength(3);
  // Adam moved the walk weights away from their initial 0.5.
  expect(mu.some((m) => Math.abs(m - 0.5) > 1e-4)).toBe(true);
  expect(losses.every(Number.isFinite)).toBe(true);
  expect(tf.memory().numTensors).toBe(before);
});
