import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, denseCrf, SeededRandom, type DenseCrfParams } from '../../../src/index.js';
import { defaultMeanFieldImplementation, meanField, type MeanFieldKernel, type MeanFieldResult } from '../../../src/refiners/crf/mean_field.js';
import { assembleMeanFieldKernels } from '../../../src/refiners/crf/mean_field_kernels_wasm.js';
import { meanFieldWasmAvailable } from '../../../src/refiners/crf/mean_field_wasm.js';
import type { CrfNormalization } from '../../../src/refiners/crf/params.js';
import { PermutohedralLattice } from '../../../src/refiners/crf/permutohedral.js';
import { compareMarginals } from './brute_force.js';
import { fixtureImage, fixtureProbabilities } from './fixture.js';

/** Seeded uniform numbers in [0, 1). */
function random(seed: number): () => number {
  const rng = new SeededRandom(seed);
  return () => rng.next();
}

/** A tiny two-region image, its pos and bilateral lattices, and noisy unaries for `labels`. */
function problem(height: number, width: number, labels: number, seed: number, normalization: CrfNormalization = 'symmetric') {
  const next = random(seed);
  const n = height * width;
  const pos = new Float32Array(n * 2);
  const bilateral = new Float32Array(n * 5);
  const unary = new Float32Array(n * labels);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const region = x < width / 2 ? 0 : 1;
      pos[i * 2] = x / 2;
      pos[i * 2 + 1] = y / 2;
      bilateral[i * 5] = x / 5;
      bilateral[i * 5 + 1] = y / 5;
      for (let c = 0; c < 3; c++) bilateral[i * 5 + 2 + c] = (region === 0 ? 60 : 190) / 20 + next();
      for (let m = 0; m < labels; m++) unary[i * labels + m] = (m === region ? 0.5 : 1.5) + 2 * next();
    }
  }
  const kernels: MeanFieldKernel[] = [
    { lattice: new PermutohedralLattice(pos, n, 2), compat: 3, normalization },
    { lattice: new PermutohedralLattice(bilateral, n, 5), compat: 5, normalization },
  ];
  return { n, unary, kernels };
}

function expectAgreement(a: MeanFieldResult, b: MeanFieldResult, labels: number): void {
  expect(a.q.length).toBe(b.q.length);
  expect(compareMarginals(a.q, b.q, labels).maxAbs).toBeLessThan(2e-6);
  // Logits to float32 precision relative to their size (huge weights give huge logits).
  let logits = 0;
  for (let i = 0; i < a.logits.length; i++) logits = Math.max(logits, Math.abs(a.logits[i]! - b.logits[i]!) / Math.max(1, Math.abs(b.logits[i]!)));
  expect(logits).toBeLessThan(2e-5);
}

function expectDistributions(q: Float32Array, labels: number): void {
  for (let i = 0; i < q.length; i += labels) {
    let sum = 0;
    for (let m = 0; m < labels; m++) {
      expect(Number.isFinite(q[i + m]!) && q[i + m]! >= 0).toBe(true);
      sum += q[i + m]!;
    }
    expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
  }
}

describe('meanField: the WebAssembly SIMD kernels against the TypeScript path', () => {
  it('WebAssembly SIMD is the default under Node', () => {
    expect(meanFieldWasmAvailable()).toBe(true);
    expect(process.env['SEGREFINE_CRF_KERNEL']).toBeUndefined();
    expect(defaultMeanFieldImplementation()).toBe('wasm');
  });

  it('assembles modules under 4 KB (older Chrome versions compiled larger ones synchronously only in workers)', () => {
    for (let pixel = 1; pixel <= 8; pixel++) {
      for (const blur of [1, 2, 3, 4]) {
        const bytes = assembleMeanFieldKernels({ pixel, blur });
        expect(WebAssembly.validate(bytes)).toBe(true);
        expect(bytes.length).toBeLessThan(4096);
      }
    }
  });

  // 2 … 5 labels: one v128 (padded), 21: six, 37: ten in two chunks of five.
  for (const labels of [2, 3, 4, 5, 21, 37]) {
    it(`agrees to float32 precision with ${labels} labels`, () => {
      const { n, unary, kernels } = problem(7, 9, labels, labels);
      const js = meanField(unary, n, labels, kernels, 4, 'js');
      const wasm = meanField(unary, n, labels, kernels, 4, 'wasm');
      expectAgreement(wasm, js, labels);
      expectDistributions(wasm.q, labels);
      // The CRF did something: Q differs from softmax(−U).
      expect(compareMarginals(wasm.q, meanField(unary, n, labels, kernels, 0, 'wasm').q, labels).maxAbs).toBeGreaterThan(1e-2);
    });
  }

  for (const normalization of ['after', 'none'] as const) {
    it(`agrees with normalisation '${normalization}' and a single kernel`, () => {
      const { n, unary, kernels } = problem(6, 5, 3, 11, normalization);
      expectAgreement(meanField(unary, n, 3, kernels, 3, 'wasm'), meanField(unary, n, 3, kernels, 3, 'js'), 3);
      expectAgreement(meanField(unary, n, 3, kernels.slice(1), 3, 'wasm'), meanField(unary, n, 3, kernels.slice(1), 3, 'js'), 3);
    });
  }

  it('takes probabilities and their clip instead of U (SIMD log on the wasm path)', () => {
    const labels = 7;
    const { n, unary, kernels } = problem(5, 6, labels, 9);
    const probabilities = unary.map((u) => Math.exp(-u));
    probabilities[0] = 0; // clipped to 1e-4
    probabilities[1] = 1.0000005; // clipped to 1
    const clip = 1e-4;
    const u = probabilities.map((p) => -Math.log(Math.min(1, Math.max(p, clip))));
    for (const iterations of [0, 3]) {
      const fromU = meanField(u, n, labels, kernels, iterations, 'js');
      expectAgreement(meanField({ probabilities, clip }, n, labels, kernels, iterations, 'wasm'), fromU, labels);
      expectAgreement(meanField({ probabilities, clip }, n, labels, kernels, iterations, 'js'), fromU, labels);
    }
    const logits = meanField({ probabilities, clip }, n, labels, kernels, 0, 'wasm').logits;
    expect(logits[0]).toBeCloseTo(Math.log(clip), 5);
    expect(logits[1]).toBe(0);
    // A clip below float32's normal range (log taken in TypeScript).
    const tiny = meanField({ probabilities, clip: 1e-40 }, n, labels, kernels, 0, 'wasm').logits;
    expect(tiny[0]).toBeCloseTo(Math.log(1e-40), 4);
  });

  it('row sums equal filtering ones (the normaliser)', () => {
    const { kernels } = problem(6, 7, 2, 4);
    for (const { lattice } of kernels) expect(lattice.rowSums()).toEqual(lattice.filter(new Float32Array(lattice.pointCount).fill(1), 1));
  });

  it('0 iterations, or no kernels, give softmax(−U) and the logits −U', () => {
    const labels = 6;
    const { n, unary, kernels } = problem(4, 5, labels, 3);
    for (const [iterations, terms] of [[0, kernels], [3, []]] as const) {
      const wasm = meanField(unary, n, labels, terms, iterations, 'wasm');
      expectAgreement(wasm, meanField(unary, n, labels, terms, iterations, 'js'), labels);
      for (let i = 0; i < n * labels; i++) expect(wasm.logits[i]).toBe(-unary[i]!);
      let sum = 0;
      for (let m = 0; m < labels; m++) sum += Math.exp(-unary[m]!);
      expect(wasm.q[0]).toBeCloseTo(Math.exp(-unary[0]!) / sum, 6);
    }
  });

  it('stays finite on extreme inputs: one-hot unaries, huge weights, a constant image', () => {
    const labels = 5;
    const { n, unary, kernels } = problem(6, 6, labels, 5);
    for (let i = 0; i < unary.length; i++) unary[i] = i % labels === Math.floor(i / labels) % 3 ? 0 : -Math.log(1e-5);
    const strong = kernels.map((k) => ({ ...k, compat: 1e4 }));
    const flat = new PermutohedralLattice(new Float32Array(n * 5).fill(3), n, 5);
    const constant = [{ lattice: flat, compat: 1e3, normalization: 'none' as const }];
    for (const terms of [kernels, strong, constant]) {
      const wasm = meanField(unary, n, labels, terms, 5, 'wasm');
      expectDistributions(wasm.q, labels);
      expect(wasm.logits.every(Number.isFinite)).toBe(true);
      expectAgreement(wasm, meanField(unary, n, labels, terms, 5, 'js'), labels);
    }
  });
});

describe('denseCrf on the fixture with SEGREFINE_CRF_KERNEL', () => {
  afterEach(() => {
    delete process.env['SEGREFINE_CRF_KERNEL'];
  });

  it('gives the same Q on both paths (the variable forces the TypeScript one)', () => {
    const params: DenseCrfParams = { iterations: 5 };
    const wasm = denseCrf(fixtureImage, fixtureProbabilities, params).data;
    process.env['SEGREFINE_CRF_KERNEL'] = 'js';
    expect(defaultMeanFieldImplementation()).toBe('js');
    const js = denseCrf(fixtureImage, fixtureProbabilities, params).data;
    expect(compareMarginals(wasm, js, 4).maxAbs).toBeLessThan(1e-5);
    expect(compareMarginals(wasm, js, 4).agreement).toBeGreaterThan(0.9995);
  });

  it('rejects any other value with a ConfigError naming the variable', () => {
    process.env['SEGREFINE_CRF_KERNEL'] = 'simd';
    expect(() => defaultMeanFieldImplementation()).toThrow(ConfigError);
    expect(() => defaultMeanFieldImplementation()).toThrow(/SEGREFINE_CRF_KERNEL must be js or wasm, got "?simd/);
  });
});
