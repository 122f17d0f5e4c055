/**
 * The dense CRF's numeric kernels (lattice geometry, mean field) exist twice:
 * WebAssembly (SIMD for the mean field; the default wherever it compiles)
 * and TypeScript (the fallback and the reference the kernels are tested
 * against).
 * @module
 * @internal
 */

/** Which implementation runs a kernel. */
export type CrfImplementation = 'wasm' | 'js';

/**
 * The implementation forced by the environment variable
 * `SEGREFINE_CRF_KERNEL=js|wasm` (for benchmarks and debugging), if any.
 */
export function forcedCrfImplementation(): CrfImplementation | undefined {
  const forced = typeof process === 'object' ? process.env?.['SEGREFINE_CRF_KERNEL'] : undefined;
  return forced === 'js' || forced === 'wasm' ? forced : undefined;
}
