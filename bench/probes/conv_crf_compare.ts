/**
 * Quick check outside vitest: ConvCrf's fused path against the tfjs-ops path,
 * logits and every gradient, max |difference| / max |reference| per output,
 * and the tensor count after both. `npx tsx bench/probes/conv_crf_compare.ts [wasm|cpu]`.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/index.js';
import { convCrfMeanField, type ConvCrfConfig } from '../../src/refiners/crf/conv_crf_ops.js';
import { resolveKernels } from '../../src/refiners/crf/params.js';

await initBackend((process.argv[2] ?? 'wasm') as 'wasm');
for (const [b, h, w, m, k, s, norm] of [[2, 7, 9, 3, 3, 1, 'symmetric'], [1, 11, 8, 5, 5, 2, 'after'], [2, 9, 10, 6, 7, 1, 'none'], [1, 12, 13, 4, 7, 2, 'symmetric']] as const) {
  const scores = tf.randomNormal([b, h, w, m], 0, 1.5, 'float32', 3) as tf.Tensor4D;
  const image = tf.randomUniform([b, h, w, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
  const weights = [tf.scalar(1.2), tf.scalar(0.7)];
  const compat = tf.tidy(() => tf.add(tf.eye(m), tf.randomUniform([m, m], -0.3, 0.3, 'float32', 5))) as tf.Tensor2D;
  const proj = tf.randomNormal([b, h, w, m], 0, 1, 'float32', 9);
  const run = (implementation: 'fused' | 'ops') => {
    const config: ConvCrfConfig = { iterations: 3, kernelSize: k, downsample: s, kernels: resolveKernels({ sxy: 2, compat: 1 }, { sxy: 4, srgb: 60, compat: 2 }), normalization: norm, clip: 1e-5, implementation };
    const f = (sc: tf.Tensor, im: tf.Tensor, w0: tf.Tensor, w1: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(convCrfMeanField(sc as tf.Tensor4D, im as tf.Tensor4D, [w0, w1], c as tf.Tensor2D, config), proj));
    const out = convCrfMeanField(scores, image, weights, compat, config);
    const grads = tf.grads(f)([scores, image, weights[0]!, weights[1]!, compat]);
    return [out, ...grads];
  };
  const before = tf.memory().numTensors;
  const a = run('ops');
  const c = run('fused');
  const diffs = a.map((t, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(t, c[i]!))).dataSync()[0]! / Math.max(1e-6, tf.max(tf.abs(t)).dataSync()[0]!)));
  console.log(b, h, w, m, k, s, norm, diffs.map((d) => d.toExponential(2)).join(' '));
  tf.dispose([...a, ...c]);
  console.log('leak', tf.memory().numTensors - before);
}
