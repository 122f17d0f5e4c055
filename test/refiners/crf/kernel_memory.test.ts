import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { crfMemoryBytes, denseCrf, releaseCrfMemory, type DenseCrfParams } from '../../../src/index.js';
import { KernelCache } from '../../../src/core/wasm/kernel_cache.js';

const fixtures = new URL('../../fixtures/densecrf/', import.meta.url);
const bytes = readFileSync(new URL('prob_h80_w96_m4.f32', fixtures));
const probabilities = { data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)), height: 80, width: 96, labels: 4 };
const image = { data: new Uint8Array(readFileSync(new URL('image_h80_w96.u8', fixtures))), height: 80, width: 96 };
const params: DenseCrfParams = { iterations: 5 };

describe('the dense CRF kernels\' memory', () => {
  const defaultLimit = KernelCache.retainLimitBytes;
  afterEach(() => {
    KernelCache.retainLimitBytes = defaultLimit;
  });

  it('is kept between calls until releaseCrfMemory(), and the next call gives the same Q', () => {
    releaseCrfMemory();
    expect(crfMemoryBytes()).toBe(0);
    const first = denseCrf(image, probabilities, params).data;
    const kept = crfMemoryBytes();
    // 80×96 pixels: the mean field's buffers and the 5-d lattice's hash table, at least.
    expect(kept).toBeGreaterThan(80 * 96 * 4 * 4);
    expect(denseCrf(image, probabilities, params).data).toEqual(first);
    expect(crfMemoryBytes()).toBe(kept);
    releaseCrfMemory();
    expect(crfMemoryBytes()).toBe(0);
    expect(denseCrf(image, probabilities, params).data).toEqual(first);
    expect(crfMemoryBytes()).toBe(kept);
  });

  it('is not kept after a call that grew it past the retain limit', () => {
    releaseCrfMemory();
    const kept = denseCrf(image, probabilities, params).data;
    releaseCrfMemory();
    KernelCache.retainLimitBytes = 2 * 65536; // below this problem's memory, above a fresh one-page instance
    expect(denseCrf(image, probabilities, params).data).toEqual(kept);
    expect(crfMemoryBytes()).toBe(0);
    KernelCache.retainLimitBytes = defaultLimit;
    denseCrf(image, probabilities, params);
    expect(crfMemoryBytes()).toBeGreaterThan(0);
  });
});
