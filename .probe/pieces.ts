import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/index.js';
import { windowKernelTaps, windowMessages } from '../src/refiners/crf/conv_crf_window.js';
await initBackend('wasm');
const f2 = tf.randomUniform([8, 64, 64, 2], 0, 20, 'float32', 1) as tf.Tensor4D;
const f5 = tf.randomUniform([8, 64, 64, 5], 0, 20, 'float32', 2) as tf.Tensor4D;
const q = tf.randomUniform([8, 64, 64, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
const w = [tf.scalar(3), tf.scalar(10)];
const best = (name: string, fn: () => tf.TensorContainer) => {
  let min = Infinity;
  for (let i = 0; i < 6; i++) { const t = performance.now(); const r = fn(); min = Math.min(min, performance.now() - t); tf.dispose(r as tf.Tensor[]); }
  console.log(name, min.toFixed(1));
};
best('taps fwd', () => windowKernelTaps([f2, f5], w, 7, 'symmetric'));
const taps = windowKernelTaps([f2, f5], w, 7, 'symmetric');
const proj = tf.randomNormal(taps.shape, 0, 1, 'float32', 4);
best('taps fwd+bwd', () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(windowKernelTaps([a as tf.Tensor4D, b as tf.Tensor4D], w, 7, 'symmetric'), proj)))([f2, f5]));
best('msg fwd', () => windowMessages(taps, q, 7));
best('msg fwd+bwd', () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(windowMessages(a as tf.Tensor2D, b as tf.Tensor4D, 7)))([taps, q]));
best('dataSync taps', () => { taps.dataSync(); return []; });
