/**
 * The dense CRF's numeric kernels (lattice geometry, mean field) exist twice:
 * WebAssembly (SIMD for the mean field; the default wherever it compiles)
 * and TypeScript (the fallback and the reference the kernels are tested
 * against). The ConvCrf's window steps exist twice too: fused kernels and
 * the tfjs-ops reference.
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

/**
 * How the ConvCrf's window steps run: `fused` — WebAssembly SIMD window
 * kernels, one pass over the grid per step and no shifted copies (the
 * default on the wasm and cpu backends); `ops` — tfjs ops with k² shifted
 * tensors per step (any backend; the reference). `SEGREFINE_CONV_CRF_KERNEL`
 * forces one; {@link convCrfMemoryBytes} estimates each.
 */
export type ConvCrfImplementation = 'fused' | 'ops';

/** Backends whose tensors live in CPU memory, where the fused steps' `dataSync` costs a copy, not a GPU read-back. */
const FUSED_BACKENDS = new Set(['wasm', 'cpu']);

/**
 * The ConvCrf implementation to run: `requested` if given, else the one
 * forced by `SEGREFINE_CONV_CRF_KERNEL=fused|ops` (any other non-empty value
 * is a `ConfigError`), else `fused` on the wasm and cpu backends where the
 * engine has WebAssembly SIMD (measured several times faster there,
 * `docs/performance.md`) and `ops` otherwise (GPU backends would read every
 * step's inputs back from the device). Asking for `fused` where it cannot run
 * is a `ConfigError`, not a silent fallback.
 * @param backend - the active tfjs backend's name
 * @param fusedAvailable - whether the fused kernels can run in this engine
 * @param requested - an explicit choice (tests, benchmarks)
 */
export function convCrfImplementation(backend: string, fusedAvailable: () => boolean, requested?: ConvCrfImplementation): ConvCrfImplementation {
  let choice = requested;
  let source = 'ConvCrfConfig/implementation';
  const forced = typeof process === 'object' ? process.env?.['SEGREFINE_CONV_CRF_KERNEL'] : undefined;
  if (choice === undefined && forced !== undefined && forced !== '') {
    if (forced !== 'fused' && forced !== 'ops') throw new ConfigError('SEGREFINE_CONV_CRF_KERNEL', 'must be fused or ops', forced);
    choice = forced;
    source = 'SEGREFINE_CONV_CRF_KERNEL';
  }
  if (choice === 'fused' && !fusedAvailable()) throw new ConfigError(source, 'cannot be fused here: the fused window kernels need WebAssembly SIMD, which this engine lacks', choice);
  return choice ?? (FUSED_BACKENDS.has(backend) && fusedAvailable() ? 'fused' : 'ops');
}
