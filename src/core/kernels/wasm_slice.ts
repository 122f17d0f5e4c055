/**
 * A faster `Slice` for wasm. tfjs's wasm Slice first copies its whole input
 * out of the heap (`readSync`) and then copies the requested range, so
 * slicing one column of a large tensor costs as much as copying the tensor.
 * This version reads the input through a heap view and copies only the range.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { replaceWasmKernel } from './replace_wasm_kernel.js';

/** The parts of the wasm backend this kernel uses. */
interface WasmBackendView {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function copyStrided(src: ArrayLike<number>, dst: { [i: number]: number }, shape: number[], begin: number[], size: number[]): void {
  const rank = shape.length;
  const strides = tf.util.computeStrides(shape);
  const inner = size[rank - 1]!;
  const outer = size.slice(0, rank - 1).reduce((a, b) => a * b, 1);
  const index = new Array<number>(Math.max(0, rank - 1)).fill(0);
  let out = 0;
  for (let row = 0; row < outer; row++) {
    let offset = begin[rank - 1]!;
    for (let d = 0; d < rank - 1; d++) offset += (begin[d]! + index[d]!) * strides[d]!;
    for (let i = 0; i < inner; i++) dst[out++] = src[offset + i]!;
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d]! < size[d]!) break;
      index[d] = 0;
    }
  }
}

/** Registers the heap-view Slice for wasm, keeping tfjs's for string tensors (idempotent). */
export function registerWasmSlice(): void {
  replaceWasmKernel('Slice', (original) => (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (x.dtype === 'string' || x.shape.length === 0) return original(args);
    const { begin, size } = args.attrs as unknown as { begin: number[]; size: number[] };
    const [begin_, size_] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
    const backend = args.backend as unknown as WasmBackendView;
    // Allocate first: the allocation may grow the heap and invalidate views.
    const out = backend.makeOutput(size_, x.dtype);
    if (tf.util.sizeFromShape(size_) === 0) return out;
    const source = backend.typedArrayFromHeap(x);
    const target = backend.typedArrayFromHeap(out);
    if (tf.slice_util.isSliceContinous(x.shape, begin_, size_)) {
      const offset = tf.slice_util.computeFlatOffset(begin_, tf.util.computeStrides(x.shape));
      target.set(source.subarray(offset, offset + target.length));
    } else {
      copyStrided(source, target, x.shape, begin_, size_);
    }
    return out;
  });
}
