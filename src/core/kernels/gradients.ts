/**
 * Conv gradients that accept `dilationRate > 1` on every backend. tfjs-core's
 * own gradients assert dilation 1, so an atrous backbone could not train.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import {
  conv2dFilterGradient,
  conv2dInputGradient,
  depthwiseFilterGradient,
  depthwiseInputGradient,
  geometryFromAttrs,
  isUndilated,
} from './conv_backprop.js';

const conv2dGradient: tf.GradConfig = {
  kernelName: 'Conv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const g = geometryFromAttrs(attrs as Record<string, unknown>);
    const dy4 = dy as tf.Tensor4D;
    if (isUndilated(g)) {
      // Native kernels where they exist (wasm's filter kernel is ours).
      const pad = g.pad as 'same' | 'valid' | number;
      return {
        x: () => tf.conv2dTranspose(dy4, filter, x.shape, g.strides, pad, g.dimRoundingMode),
        filter: () => conv2dFilterGradient(x, dy4, filter.shape, g),
      };
    }
    return {
      x: () => conv2dInputGradient(x.shape, dy4, filter, g),
      filter: () => conv2dFilterGradient(x, dy4, filter.shape, g),
    };
  },
};

const depthwiseGradient: tf.GradConfig = {
  kernelName: 'DepthwiseConv2dNative',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const g = geometryFromAttrs(attrs as Record<string, unknown>);
    const dy4 = dy as tf.Tensor4D;
    return {
      x: () => depthwiseInputGradient(x.shape, dy4, filter, g),
      filter: () => depthwiseFilterGradient(x, dy4, filter.shape, g),
    };
  },
};

/** Replaces tfjs-core's Conv2D and DepthwiseConv2dNative gradients (idempotent). */
export function registerDilatedConvGradients(): void {
  // tfjs warns when a gradient is overridden; the override is deliberate.
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    tf.registerGradient(conv2dGradient);
    tf.registerGradient(depthwiseGradient);
  } finally {
    console.warn = warn;
  }
}
