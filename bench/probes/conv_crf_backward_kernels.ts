/**
 * Where a fused ConvCrf training step (`tf.variableGrads` through `apply`)
 * spends its time in tfjs kernels (`engine.runKernel`, so the fused window
 * steps themselves are the rest): `npx tsx bench/probes/conv_crf_backward_kernels.ts B,S,K,s`.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, ConvCrf } from '../../src/index.js';
import { kernelLines, kernelTotal, recordKernelTimes } from './kernel_times.js';
await initBackend('wasm');
const [B, S, K, s] = (process.argv[2] ?? '8,64,4,1').split(',').map(Number) as [number, number, number, number];
const scores = tf.randomNormal([B, S / 8, S / 8, K], 0, 1.5, 'float32', 1) as tf.Tensor4D;
const image = tf.randomUniform([B, S, S, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
const projection = tf.randomNormal([B, S, S, K], 0, 1, 'float32', 3);
const layer = new ConvCrf({ downsample: s, outputSize: [S, S] });
layer.refine({ scores, image }).dispose();
const fn = () => tf.variableGrads(() => tf.sum(tf.mul(layer.apply([scores, image], { training: true }) as tf.Tensor, projection)), layer.trainableWeights.map((w) => w.read() as tf.Variable));
for (let i = 0; i < 2; i++) { const r = fn(); tf.dispose([r.value, ...Object.values(r.grads)]); }
const stats = recordKernelTimes();
const t0 = performance.now();
const r = fn();
tf.dispose([r.value, ...Object.values(r.grads)]);
const wall = performance.now() - t0;
console.log(`total ${wall.toFixed(1)} ms, tfjs kernels ${kernelTotal(stats).toFixed(1)} ms`);
for (const line of kernelLines(stats, 1, wall)) console.log(line);
