import { expect, it } from 'vitest';
import { main } from '../../examples/sdn-neck.js';

it('examples/sdn-neck.ts runs in fast mode and compares the baseline with both SDN modes', async () => {
  const lines: string[] = [];
  const results = await main({ fast: true, log: (line) => lines.push(line) });
  expect(results.map((r) => r.label)).toEqual(['baseline', 'sdn multi-scale', 'sdn single-scale']);
  for (const r of results) {
    for (const metric of [r.pixelAccuracy, r.meanIoU, r.boundaryAccuracy]) {
      expect(metric).toBeGreaterThanOrEqual(0);
      expect(metric).toBeLessThanOrEqual(1);
    }
    expect(Number.isFinite(r.finalLoss)).toBe(true);
  }
  // The neck adds parameters; the baseline and the neck variants share the backbone and head.
  expect(results[1]!.parameters).toBeGreaterThan(results[0]!.parameters);
  expect(results[2]!.parameters).toBeGreaterThan(results[0]!.parameters);
  expect(lines.some((l) => l.startsWith('| sdn multi-scale |'))).toBe(true);
});
