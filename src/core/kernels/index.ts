/**
 * segrefine's kernel fixes (DESIGN §4): the wasm kernels tfjs lacks and
 * dilation-capable conv gradients, installed once per process.
 * @module
 */
import { registerBatchNormGradient } from './batch_norm_gradient.js';
import { registerCpuResizeBilinearGrad } from './cpu_resize_grad.js';
import { registerDilatedConvGradients } from './gradients.js';
import { patchDilatedConv2dLayer } from './layers_patch.js';
import { registerWasmConv2dBackpropInput, registerWasmKernels } from './wasm_kernels.js';
import { registerWasmIdentity } from './wasm_identity.js';
import { registerWasmSlice } from './wasm_slice.js';

export { wasmKernelNames } from './wasm_kernels.js';
export { registerWasmIdentity } from './wasm_identity.js';
export { registerWasmSlice } from './wasm_slice.js';
export {
  conv2dFilterGradient,
  conv2dInputGradient,
  depthwiseFilterGradient,
  depthwiseInputGradient,
  type ConvGeometry,
  type ConvPad,
} from './conv_backprop.js';

let installed = false;

/**
 * Registers the wasm kernels `Conv2DBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropInput/Filter` and `UnsortedSegmentSum`, a
 * faster wasm `Slice` and `Conv2DBackpropInput`, a copy-free wasm `Identity`
 * (tensor clones share their buffer, as on cpu and webgl; these three once
 * the wasm backend is loaded), a shape-correct cpu
 * `ResizeBilinearGrad`, the
 * dilation-capable gradients of `Conv2D` and `DepthwiseConv2dNative`, a
 * `FusedBatchNorm` gradient that broadcasts instead of tiling, and the
 * dilated `tf.layers.conv2d` routing. Safe to call many times.
 *
 * Importing segrefine changes nothing in tfjs: {@link initBackend},
 * `train()` and `trainOnBatch()` call this. Call it yourself when you pick
 * the backend with `tf.setBackend` and run segrefine's layers forward only
 * on wasm (the faster `Slice`), or train your own dilated `tf.layers.conv2d`
 * (after it, their gradient works where upstream tfjs throws).
 */
export function installKernelFixes(): void {
  // The Slice, Identity and Conv2DBackpropInput overrides replace kernels the wasm package registers on import,
  // which may happen after the first call.
  registerWasmSlice();
  registerWasmIdentity();
  registerWasmConv2dBackpropInput();
  if (installed) return;
  registerWasmKernels();
  registerCpuResizeBilinearGrad();
  registerDilatedConvGradients();
  registerBatchNormGradient();
  patchDilatedConv2dLayer();
  installed = true;
}
