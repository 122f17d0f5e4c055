import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { main } from '../../examples/train-difnet.js';

it('examples/train-difnet.ts trains Sim-DeepLab-18 and DifNet-18 in fast mode and reports them', async () => {
  const before = tf.memory().numTensors;
  const reports = await main({ size: 32, width: 0.0625, batchSize: 2, numTrain: 4, numVal: 2, epochs: 1, window: 1 });
  expect(reports.map((r) => r.name)).toEqual(['sim-deeplab-18', 'difnet-18']);
  for (const report of reports) {
    expect(report.params).toBeGreaterThan(0);
    expect(report.windowLosses).toHaveLength(2);
    expect(report.windowLosses.every(Number.isFinite)).toBe(true);
    expect(report.miou).toHaveLength(1);
    expect(report.miou[0]).toBeGreaterThanOrEqual(0);
    expect(report.miou[0]).toBeLessThanOrEqual(1);
  }
  // Only what the process keeps alive anyway (no model, batch or optimiser tensors).
  expect(tf.memory().numTensors).toBe(before);
});
