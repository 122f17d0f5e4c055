import { expect, it } from 'vitest';
import { main } from '../../examples/sdn-neck.js';

it('examples/sdn-neck.ts runs in fast mode and compares the baseline, a control neck and both SDN modes', async () => {
  const lines: string[] = [];
  const results = await main({ fast: true, log: (line) => lines.push(line) });
  expect(results.map((r) => r.label)).toEqual(['baseline', 'plain conv neck (control)', 'sdn multi-scale', 'sdn single-scale']);
  for (const r of results) {
    for (const metric of [r.pixelAccuracy, r.meanIoU, r.boundaryAccuracy]) {
      expect(metric).toBeGreaterThanOrEqual(0);
      expect(metric).toBeLessThanOrEqual(1);
    }
    expect(Number.isFinite(r.finalLoss)).toBe(true);
  }
  // Every neck adds parameters to the shared backbone and head; the control is about SDN's size.
  for (const r of results.slice(1)) expect(r.parameters).toBeGreaterThan(results[0]!.parameters);
  expect(Math.abs(results[1]!.parameters - results[2]!.parameters) / results[2]!.parameters).toBeLessThan(0.25);
  expect(lines.some((l) => l.startsWith('| sdn multi-scale |'))).toBe(true);
});
