/**
 * Kernels the wasm backend lacks (DESIGN §4), built from ops wasm does have,
 * so the gradients of conv2d, depthwise conv and gather run on wasm's fast
 * paths instead of failing.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { replaceWasmKernel } from './replace_wasm_kernel.js';
import { conv2dFilterGradient, conv2dInputGradient, depthwiseFilterGradient, depthwiseInputGradient, geometryFromAttrs } from './conv_backprop.js';

type KernelInputs = tf.NamedTensorInfoMap;

/**
 * Wraps a kernel's TensorInfo input as a Tensor for the duration of a tidy.
 * The engine's wrapper does not take a backend reference, so one is taken
 * here; the tidy's dispose gives it back and the caller's data survives.
 */
function asTensor<R extends tf.Rank>(info: tf.TensorInfo | undefined, name: string, backend: tf.KernelBackend): tf.Tensor<R> {
  if (info === undefined) throw new Error(`segrefine kernel: missing input ${name}`);
  const tensor = tf.engine().makeTensorFromTensorInfo(info, backend) as tf.Tensor<R>;
  backend.incRef(info.dataId);
  return tensor;
}

// A kernel may return a Tensor (the engine adopts it as is), so each kernel is
// a tidy over tfjs ops that dispatch to wasm's own kernels.
const kernels: tf.KernelConfig[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => tf.tidy(() => {
      const x = asTensor<tf.Rank.R4>((inputs as KernelInputs)['x'], 'x', backend as tf.KernelBackend);
      const dy = asTensor<tf.Rank.R4>((inputs as KernelInputs)['dy'], 'dy', backend as tf.KernelBackend);
      const a = attrs as unknown as Record<string, unknown>;
      return conv2dFilterGradient(x, dy, a['filterShape'] as number[], geometryFromAttrs(a));
    }) as unknown as tf.TensorInfo,
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => tf.tidy(() => {
      const dy = asTensor<tf.Rank.R4>((inputs as KernelInputs)['dy'], 'dy', backend as tf.KernelBackend);
      const filter = asTensor<tf.Rank.R4>((inputs as KernelInputs)['filter'], 'filter', backend as tf.KernelBackend);
      const a = attrs as unknown as Record<string, unknown>;
      return depthwiseInputGradient(a['inputShape'] as number[], dy, filter, geometryFromAttrs(a));
    }) as unknown as tf.TensorInfo,
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => tf.tidy(() => {
      const x = asTensor<tf.Rank.R4>((inputs as KernelInputs)['x'], 'x', backend as tf.KernelBackend);
      const dy = asTensor<tf.Rank.R4>((inputs as KernelInputs)['dy'], 'dy', backend as tf.KernelBackend);
      const a = attrs as unknown as Record<string, unknown>;
      return depthwiseFilterGradient(x, dy, a['filterShape'] as number[], geometryFromAttrs(a));
    }) as unknown as tf.TensorInfo,
  },
  {
    // The gradient of gather. ScatterNd sums duplicate indices, which is the
    // segment sum; ids outside [0, numSegments) are dropped as in TensorFlow.
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => tf.tidy(() => {
      const x = asTensor((inputs as KernelInputs)['x'], 'x', backend as tf.KernelBackend);
      const ids = asTensor((inputs as KernelInputs)['segmentIds'], 'segmentIds', backend as tf.KernelBackend);
      const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
      const count = ids.size;
      const inner = x.shape.slice(ids.rank);
      const flatIds = tf.cast(tf.reshape(ids, [count]), 'int32');
      const valid = tf.logicalAnd(tf.greaterEqual(flatIds, 0), tf.less(flatIds, numSegments));
      const safeIds = tf.where(valid, flatIds, tf.zerosLike(flatIds));
      const updates = tf.reshape(x, [count, ...inner]);
      const mask = tf.reshape(tf.cast(valid, x.dtype), [count, ...inner.map(() => 1)]);
      return tf.scatterND(tf.reshape(safeIds, [count, 1]), tf.mul(updates, mask), [numSegments, ...inner]);
    }) as unknown as tf.TensorInfo,
  },
];

/** Registers the missing wasm kernels (idempotent). */
export function registerWasmKernels(): void {
  for (const config of kernels) {
    if (tf.getKernel(config.kernelName, 'wasm') === undefined) tf.registerKernel(config);
  }
}

/**
 * wasm's own `Conv2DBackpropInput` (the input gradient of every fused conv,
 * i.e. of every `tf.layers.conv2d`) is a plain loop: 750 ms for a 3×3, 32→32
 * conv on [8, 64, 64, 32] (most of an SpnRefiner training step). This one
 * correlates the spread dy with the flipped filter through XNNPACK's conv2d:
 * 2–7× faster on the default bench's layers, equal on a 7×7 stem. Installs it
 * (idempotent, see `replaceWasmKernel`).
 */
export function registerWasmConv2dBackpropInput(): void {
  replaceWasmKernel('Conv2DBackpropInput', () => ({ inputs, attrs, backend }) => tf.tidy(() => {
    const dy = asTensor<tf.Rank.R4>((inputs as KernelInputs)['dy'], 'dy', backend as tf.KernelBackend);
    const filter = asTensor<tf.Rank.R4>((inputs as KernelInputs)['filter'], 'filter', backend as tf.KernelBackend);
    const a = attrs as unknown as Record<string, unknown>;
    if (a['dataFormat'] === 'NCHW') throw new Error('segrefine kernel: Conv2DBackpropInput supports NHWC only');
    return conv2dInputGradient(a['inputShape'] as number[], dy, filter, { ...geometryFromAttrs(a), dilations: [1, 1] });
  }) as unknown as tf.TensorInfo);
}

/** Names of the kernels segrefine adds to wasm (for docs and reports). */
export const wasmKernelNames: readonly string[] = [
  ...kernels.map((k) => k.kernelName),
  'Conv2DBackpropInput (faster replacement)',
  'Slice (faster replacement)',
  'Identity (copy-free replacement)',
];
