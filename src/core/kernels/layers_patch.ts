/**
 * tfjs-layers runs a linear-activation `conv2d` layer through `tf.fused.conv2d`,
 * whose gradient is a closure that rejects `dilationRate > 1`; it cannot be
 * replaced by registering a gradient. For dilated 2-D convolutions only, the
 * layer's `call` is routed through the unfused `tf.conv2d` (whose gradient
 * segrefine replaces), so `tf.layers.conv2d({ dilationRate: 2 })` trains.
 * Undilated layers keep tfjs's fused path untouched.
 * @module
 */
import * as tf from '@tensorflow/tfjs';

interface ConvLayerInternals {
  rank: number;
  dilationRate: number | number[];
  strides: number[];
  padding: 'same' | 'valid' | 'causal';
  dataFormat: 'channelsFirst' | 'channelsLast';
  kernel: { read(): tf.Tensor4D };
  bias: { read(): tf.Tensor1D } | null;
  activation: { apply(x: tf.Tensor): tf.Tensor } | null;
}

const PATCHED = Symbol.for('segrefine.dilatedConv2dCall');

function isDilated(rate: number | number[]): boolean {
  return Array.isArray(rate) ? rate.some((r) => r !== 1) : rate !== 1;
}

/** Installs the dilated-conv routing on tfjs-layers' Conv2D (idempotent). */
export function patchDilatedConv2dLayer(): void {
  const probe = tf.layers.conv2d({ filters: 1, kernelSize: 1 });
  const proto = Object.getPrototypeOf(probe) as Record<string | symbol, unknown>;
  if (proto[PATCHED] === true) return;
  const original = proto['call'] as (this: unknown, inputs: tf.Tensor | tf.Tensor[], kwargs: object) => tf.Tensor | tf.Tensor[];
  proto['call'] = function call(this: ConvLayerInternals, inputs: tf.Tensor | tf.Tensor[], kwargs: object) {
    if (this.rank !== 2 || !isDilated(this.dilationRate) || this.dataFormat !== 'channelsLast' || this.padding === 'causal') {
      return original.call(this, inputs, kwargs);
    }
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const rate = this.dilationRate as number | [number, number];
      let y: tf.Tensor = tf.conv2d(x, this.kernel.read(), this.strides as [number, number], this.padding as 'same' | 'valid', 'NHWC', rate);
      if (this.bias !== null) y = tf.add(y, this.bias.read());
      return this.activation !== null ? this.activation.apply(y) : y;
    });
  };
  proto[PATCHED] = true;
}
