/**
 * Runs assembled kernels on tensors, wherever they live: on tfjs-wasm the
 * module imports the backend's own memory and works on the tensors in place
 * (no copies); on any other backend (cpu, webgl, or a threaded wasm build
 * whose memory is shared) it runs on a memory of its own, with the inputs
 * copied in and the outputs copied out.
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs';
import { instantiateWithOwnMemory, reserveMemory } from './instantiate.js';
import { KernelCache } from './kernel_cache.js';

/** Byte addresses handed to a kernel call. */
export interface KernelAddresses {
  /** Each input's data, in the order given. */
  readonly inputs: readonly number[];
  /** Each output's data, in the order given. */
  readonly outputs: readonly number[];
  /** Zeroed float32 scratch (0 when none was asked for). */
  readonly scratch: number;
}

/** An output a call writes: its shape, and whether it must start zeroed (an accumulator). */
export interface KernelOutput {
  /** The output's shape. */
  readonly shape: number[];
  /** Start from zeros (the kernel adds into it) rather than uninitialised memory it overwrites. */
  readonly zeroed?: boolean;
}

/** Kernels bound to a memory, and the means to run them on tensors. */
export interface TensorKernelHost<Exports> {
  /** The module's exports. */
  readonly exports: Exports;
  /**
   * Runs `body` with the byte addresses of `inputs` (float32), of fresh
   * `outputs` and of `scratchFloats` zeroed floats; returns the outputs as
   * tensors (the caller owns them).
   */
  run(inputs: readonly tf.Tensor[], outputs: readonly KernelOutput[], scratchFloats: number, body: (addresses: KernelAddresses) => void): tf.Tensor[];
}

/** The part of tfjs-wasm's backend the in-place host uses. */
interface WasmBackendLike {
  wasm?: { asm?: { memory?: unknown } };
  getMemoryOffset?(dataId: object): number;
  makeOutput?(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap?(info: tf.TensorInfo): Float32Array;
}

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;
const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function requireFloat32(t: tf.Tensor): void {
  if (t.dtype !== 'float32') throw new Error(`wasm kernel: expected a float32 tensor, got ${t.dtype}`);
}

/** In place on tfjs-wasm's memory. */
function inPlaceHost<Exports>(exports: Exports, backend: Required<WasmBackendLike>): TensorKernelHost<Exports> {
  return {
    exports,
    run(inputs, outputs, scratchFloats, body) {
      inputs.forEach(requireFloat32);
      // Fresh buffers (zeroed through a heap view: tf.zeros would build and copy a JS array).
      const fresh = (shape: number[], zeroed: boolean): tf.Tensor => {
        const info = backend.makeOutput(shape, 'float32');
        if (zeroed) backend.typedArrayFromHeap(info).fill(0);
        return tf.engine().makeTensorFromTensorInfo(info);
      };
      const made = outputs.map(({ shape, zeroed }) => fresh(shape, zeroed === true));
      const scratch = scratchFloats > 0 ? fresh([scratchFloats], true) : undefined;
      try {
        body({
          inputs: inputs.map((t) => backend.getMemoryOffset(t.dataId)),
          outputs: made.map((t) => backend.getMemoryOffset(t.dataId)),
          scratch: scratch === undefined ? 0 : backend.getMemoryOffset(scratch.dataId),
        });
      } catch (error) {
        tf.dispose(made);
        throw error;
      } finally {
        scratch?.dispose();
      }
      return made;
    },
  };
}

/** On a memory of its own: inputs copied in, outputs copied out. */
function ownMemoryHost<Exports>(key: string, exports: Exports, memory: WebAssembly.Memory): TensorKernelHost<Exports> {
  return {
    exports,
    run(inputs, outputs, scratchFloats, body) {
      inputs.forEach(requireFloat32);
      let end = 0;
      const take = (floats: number): number => {
        const start = end;
        end += align(4 * floats);
        return start;
      };
      const inputAt = inputs.map((t) => take(t.size));
      const outputAt = outputs.map(({ shape }) => take(sizeOf(shape)));
      const scratch = scratchFloats > 0 ? take(scratchFloats) : 0;
      if (!reserveMemory(memory, end)) throw new RangeError(`wasm kernel: cannot grow its memory to ${end} bytes`);
      const heap = new Float32Array(memory.buffer);
      inputs.forEach((t, i) => heap.set(t.dataSync() as Float32Array, inputAt[i]! / 4));
      outputs.forEach(({ shape, zeroed }, i) => {
        if (zeroed === true) heap.fill(0, outputAt[i]! / 4, outputAt[i]! / 4 + sizeOf(shape));
      });
      if (scratchFloats > 0) heap.fill(0, scratch / 4, scratch / 4 + scratchFloats);
      try {
        body({ inputs: inputAt, outputs: outputAt, scratch });
        const after = new Float32Array(memory.buffer);
        return outputs.map(({ shape }, i) => tf.tensor(after.slice(outputAt[i]! / 4, outputAt[i]! / 4 + sizeOf(shape)), shape));
      } finally {
        ownMemoryCache.release(key);
      }
    },
  };
}

const ownMemoryCache = new KernelCache<string, TensorKernelHost<unknown> & { memory: WebAssembly.Memory }>();
const inPlaceCache = new WeakMap<object, Map<string, TensorKernelHost<unknown> | null>>();

/** A kernel module bound to tfjs-wasm's memory, or null when the active backend is not one it can share. */
function inPlaceFor<Exports>(key: string, bytes: () => Uint8Array<ArrayBuffer>): TensorKernelHost<Exports> | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as WasmBackendLike;
  let hosts = inPlaceCache.get(backend);
  if (hosts === undefined) inPlaceCache.set(backend, (hosts = new Map()));
  if (!hosts.has(key)) {
    let host: TensorKernelHost<unknown> | null = null;
    try {
      const memory = backend.wasm?.asm?.memory;
      if (memory instanceof WebAssembly.Memory && typeof backend.getMemoryOffset === 'function' && typeof backend.makeOutput === 'function' && typeof backend.typedArrayFromHeap === 'function') {
        const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes()), { env: { memory } });
        host = inPlaceHost(instance.exports, backend as Required<WasmBackendLike>);
      }
    } catch {
      host = null; // no SIMD, or a shared (threaded) memory
    }
    hosts.set(key, host);
  }
  return hosts.get(key) as TensorKernelHost<Exports> | null;
}

/**
 * The kernels of the module `key` for the active backend: in place on
 * tfjs-wasm, else on their own memory; null when this engine cannot compile
 * them (no WebAssembly SIMD), so the caller takes its tfjs-ops path.
 * @param key - names the module (one instance per key and memory)
 * @param bytes - assembles the module (called once per memory)
 */
export function tensorKernelHost<Exports>(key: string, bytes: () => Uint8Array<ArrayBuffer>): TensorKernelHost<Exports> | null {
  const inPlace = inPlaceFor<Exports>(key, bytes);
  if (inPlace !== null) return inPlace;
  const own = ownMemoryCache.get(key, () => {
    const instance = instantiateWithOwnMemory(bytes());
    return instance === null ? null : Object.assign(ownMemoryHost(key, instance.exports, instance.memory), { memory: instance.memory });
  });
  return own as TensorKernelHost<Exports> | null;
}
