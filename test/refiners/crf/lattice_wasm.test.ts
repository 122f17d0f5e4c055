import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../../src/index.js';
import { assembleLatticeKernel, latticeWasmAvailable } from '../../../src/refiners/crf/lattice_wasm.js';
import { PermutohedralLattice } from '../../../src/refiners/crf/permutohedral.js';

/** Seeded uniform numbers in [0, 1). */
function random(seed: number): () => number {
  const rng = new SeededRandom(seed);
  return () => rng.next();
}

function expectSameLattice(a: PermutohedralLattice, b: PermutohedralLattice): void {
  expect(a.vertexCount).toBe(b.vertexCount);
  expect(a.offsets).toEqual(b.offsets);
  // Bit for bit, not just close.
  expect(new Uint32Array(a.weights.buffer, a.weights.byteOffset, a.weights.length)).toEqual(new Uint32Array(b.weights.buffer, b.weights.byteOffset, b.weights.length));
  expect(a.chains).toEqual(b.chains);
}

describe('PermutohedralLattice: WebAssembly and TypeScript builds', () => {
  it('WebAssembly is available, and its modules for the CRF kernels (d = 2, 5) stay under 4 KB', () => {
    for (const d of [1, 2, 5, 8]) expect(latticeWasmAvailable(d)).toBe(true);
    for (const d of [2, 5]) expect(assembleLatticeKernel(d).length).toBeLessThan(4096);
  });

  for (const d of [1, 2, 3, 5, 8]) {
    it(`build the same lattice, bit for bit (d = ${d})`, () => {
      const next = random(d);
      const n = 500;
      // Smooth coordinates (shared vertices), noise, negative values, and exact
      // small multiples of ¼ (rounding ties and equal residuals).
      const features = Float32Array.from({ length: n * d }, (_, i) => {
        const point = Math.floor(i / d);
        if (point % 5 === 0) return Math.round((next() - 0.5) * 16) / 4;
        return (point % 23) / 7 + 3 * (next() - 0.5) - (i % d);
      });
      const wasm = new PermutohedralLattice(features, n, d, 'wasm');
      const js = new PermutohedralLattice(features, n, d, 'js');
      expect(wasm.vertexCount).toBeGreaterThan(d + 1);
      expectSameLattice(wasm, js);
    });
  }

  it('agree when the hash table grows several times (scattered points, few shared vertices)', () => {
    const next = random(99);
    const n = 400;
    const features = Float32Array.from({ length: n * 5 }, () => 40 * next());
    const wasm = new PermutohedralLattice(features, n, 5, 'wasm');
    // The table starts with 2·N slots and doubles when half full.
    expect(wasm.vertexCount).toBeGreaterThan(2 * n);
    expectSameLattice(wasm, new PermutohedralLattice(features, n, 5, 'js'));
    // A second build reuses the kernel's memory and table.
    const again = new PermutohedralLattice(features.subarray(0, 50 * 5), 50, 5, 'wasm');
    expectSameLattice(again, new PermutohedralLattice(features.subarray(0, 50 * 5), 50, 5, 'js'));
  });

  it('falls back to TypeScript when the kernel traps (coordinates beyond the i32 range)', () => {
    const features = Float32Array.from([1e12, -3, 2, 5e11]);
    const lattice = new PermutohedralLattice(features, 2, 2);
    expectSameLattice(lattice, new PermutohedralLattice(features, 2, 2, 'js'));
  });
});
