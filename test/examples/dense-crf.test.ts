import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { main } from '../../examples/dense-crf.js';

it('examples/dense-crf.ts runs in fast mode and the CRFs fix most of the noise', async () => {
  const before = tf.memory().numTensors;
  const result = await main(48);
  expect(result.unary).toBeLessThan(0.7);
  expect(result.denseCrf).toBeGreaterThan(result.unary + 0.25);
  expect(result.refiner).toBeGreaterThan(result.upsampled);
  expect(result.convCrf).toBeGreaterThan(result.upsampled);
  expect(tf.memory().numTensors).toBe(before);
});
