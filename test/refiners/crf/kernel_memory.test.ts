import { afterEach, describe, expect, it } from 'vitest';
import { crfMemoryBytes, denseCrf, releaseCrfMemory, type DenseCrfParams } from '../../../src/index.js';
import { KernelCache } from '../../../src/core/wasm/kernel_cache.js';
import { fixtureImage, fixtureProbabilities } from './fixture.js';

const image = fixtureImage;
const probabilities = fixtureProbabilities;
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
