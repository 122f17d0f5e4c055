/**
 * The dense CRF's WebAssembly memory, for users who need it back.
 * @module
 */
import { latticeKernelCache } from './lattice_wasm.js';
import { meanFieldKernelCache } from './mean_field_wasm.js';

/**
 * Bytes of WebAssembly memory that {@link denseCrf}'s kernels keep for their
 * next call (0 before the first call, on the TypeScript path, or after
 * {@link releaseCrfMemory}).
 *
 * The kernels keep their memory, grown to the largest image so far, because
 * allocating it afresh costs more than a call's copies. They keep at most
 * 256 MiB between calls: a kernel whose call takes them past that is dropped
 * after the call. Measured with 21 labels: 82–95 MiB after a 320×320 call,
 * 196–220 MiB after 500×500; from about 640×640 on only the lattice kernel's
 * is kept (172 MiB at 640×640, 241 MiB at 800×800).
 */
export function crfMemoryBytes(): number {
  return meanFieldKernelCache.bytes() + latticeKernelCache.bytes();
}

/**
 * Drops the memory {@link denseCrf}'s kernels keep between calls (see
 * {@link crfMemoryBytes}), for the garbage collector to free. The next call
 * allocates it again (40–150 ms more at 320×320 with 21 labels, measured) and
 * gives the same numbers.
 *
 * @example
 * ```ts
 * const q = denseCrf(image, probabilities, params);
 * releaseCrfMemory(); // done with CRFs for now
 * ```
 */
export function releaseCrfMemory(): void {
  meanFieldKernelCache.clear();
  latticeKernelCache.clear();
}
