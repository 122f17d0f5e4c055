/**
 * Replacing a kernel the wasm package registers itself, once.
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** Marks the kernel functions segrefine installed, so a second call sees them. */
type Marked = tf.KernelFunc & { segrefine?: boolean };

/**
 * Replaces wasm's `kernelName` by the function `replacement` builds from the
 * original (which it may call, e.g. for string tensors). Idempotent, and a
 * no-op until the wasm package has registered its own kernel, which it does
 * when it is imported — so callers repeat it on every install.
 */
export function replaceWasmKernel(kernelName: string, replacement: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const original = tf.getKernel(kernelName, 'wasm');
  if (original === undefined || (original.kernelFunc as Marked).segrefine === true) return;
  const kernelFunc: Marked = replacement(original.kernelFunc);
  kernelFunc.segrefine = true;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
}
