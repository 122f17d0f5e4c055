/** Where a fused ConvCrf forward (`refine`) spends its time: `npx tsx bench/probes/conv_crf_forward_kernels.ts B,S,K,s`. */
import * as tf from '@tensorflow/tfjs';
import { initBackend, ConvCrf } from '../../src/index.js';
await initBackend('wasm');
const [B, S, K, s] = (process.argv[2] ?? '8,64,4,1').split(',').map(Number) as [number, number, number, number];
const scores = tf.randomNormal([B, S / 8, S / 8, K], 0, 1.5, 'float32', 1) as tf.Tensor4D;
const image = tf.randomUniform([B, S, S, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
const layer = new ConvCrf({ downsample: s, outputSize: [S, S] });
for (let i = 0; i < 3; i++) layer.refine({ scores, image }).dispose();
const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
const original = engine.runKernel.bind(engine);
const stats = new Map<string, { n: number; ms: number }>();
engine.runKernel = (name: string, ...rest: unknown[]) => {
  const t = performance.now();
  const out = original(name, ...rest);
  const e = stats.get(name) ?? { n: 0, ms: 0 };
  e.n++; e.ms += performance.now() - t; stats.set(name, e);
  return out;
};
const t0 = performance.now();
layer.refine({ scores, image }).dispose();
console.log('total', (performance.now() - t0).toFixed(1), 'tfjs kernels', [...stats.values()].reduce((a, e) => a + e.ms, 0).toFixed(1));
console.log([...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8));
