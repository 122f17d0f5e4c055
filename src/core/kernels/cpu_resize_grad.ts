/**
 * tfjs-backend-cpu's `ResizeBilinearGrad` fills the right values but labels
 * them with height and width swapped (`[b, w, h, c]`), so training through
 * any non-square bilinear resize fails on cpu. This wraps the kernel and
 * returns the input's shape.
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** Registers the shape-correct cpu ResizeBilinearGrad (idempotent). */
export function registerCpuResizeBilinearGrad(): void {
  const original = tf.getKernel('ResizeBilinearGrad', 'cpu');
  if (original === undefined || (original.kernelFunc as { segrefine?: boolean }).segrefine === true) return;
  const kernelFunc: tf.KernelFunc = (args) => {
    const out = original.kernelFunc(args) as tf.TensorInfo;
    const images = args.inputs['images'] as tf.TensorInfo;
    // The values are laid out for the images' shape; only the label is wrong.
    return { dataId: out.dataId, dtype: out.dtype, shape: [...images.shape] };
  };
  (kernelFunc as { segrefine?: boolean }).segrefine = true;
  tf.unregisterKernel('ResizeBilinearGrad', 'cpu');
  tf.registerKernel({ kernelName: 'ResizeBilinearGrad', backendName: 'cpu', kernelFunc });
}
