/**
 * A copy-free `Identity` for wasm. tfjs's wasm Identity copies its input
 * into a fresh buffer, and the engine clones every tensor a gradient saves
 * (`customGrad`'s `save`, each kernel's saved inputs and outputs), so on wasm
 * training copies every saved activation once more: 36 MB per SPN pass on a
 * 128² map with 32 channels, about as long as the pass itself. The cpu and
 * webgl backends share the buffer and count references instead (tfjs never
 * writes into a tensor's buffer in place: `Variable.assign` swaps buffers),
 * which this does on wasm too, as wasm's own `Reshape` already does.
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import { replaceWasmKernel } from './replace_wasm_kernel.js';

/** The part of the wasm backend this kernel uses. */
interface ReferenceCounting {
  incRef(dataId: object): void;
}

/** Registers the reference-counting Identity for wasm, keeping tfjs's for strings (idempotent). */
export function registerWasmIdentity(): void {
  replaceWasmKernel('Identity', (original) => (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (x.dtype === 'string') return original(args);
    (args.backend as unknown as ReferenceCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}
