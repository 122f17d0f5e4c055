/**
 * The dense CRF's numeric kernels (lattice geometry, mean field) exist twice:
 * WebAssembly (SIMD for the mean field; the default wherever it compiles)
 * and TypeScript (the fallback and the reference the kernels are tested
 * against).
 * @module
 * @internal
 */
import { ConfigError } from '../../core/errors.js';

/** Which implementation runs a kernel. */
export type CrfImplementation = 'wasm' | 'js';

/**
 * The implementation forced by the environment variable
 * `SEGREFINE_CRF_KERNEL=js|wasm` (for benchmarks and debugging), if any;
 * any other non-empty value is a `ConfigError` (as for `SEGREFINE_BACKEND`).
 */
export function forcedCrfImplementation(): CrfImplementation | undefined {
  const forced = typeof process === 'object' ? process.env?.['SEGREFINE_CRF_KERNEL'] : undefined;
  if (forced === undefined || forced === '') return undefined;
  if (forced !== 'js' && forced !== 'wasm') throw new ConfigError('SEGREFINE_CRF_KERNEL', 'must be js or wasm', forced);
  return forced;
}
