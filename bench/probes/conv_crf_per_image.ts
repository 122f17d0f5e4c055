/**
 * Per-image time of the default bench's ConvCrf call (64×64 images, K = 4,
 * batch 8, the layer's defaults: k 7, downsample 1, 5 iterations), old
 * (tfjs ops) vs new (fused), alternating, medians. Run:
 * `npx tsx bench/probes/conv_crf_per_image.ts [profile]`.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, ConvCrf } from '../../src/index.js';

await initBackend('wasm');
const B = 8, S = 64, K = 4;
const scores = tf.randomNormal([B, 8, 8, K], 0, 1.5, 'float32', 1) as tf.Tensor4D;
const image = tf.randomUniform([B, S, S, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
const layer = new ConvCrf({ outputSize: [S, S] });
const call = async (kernel: string): Promise<number> => {
  process.env['SEGREFINE_CONV_CRF_KERNEL'] = kernel;
  const t0 = performance.now();
  const out = layer.refine({ scores, image }, { outputSize: [S, S] });
  await out.data();
  out.dispose();
  return performance.now() - t0;
};
const times: Record<string, number[]> = { ops: [], fused: [] };
for (let round = 0; round < 9; round++) for (const kernel of ['ops', 'fused']) { const ms = await call(kernel); if (round > 0) times[kernel]!.push(ms); }
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ops = median(times['ops']!) / B, fused = median(times['fused']!) / B;
console.log(`ms per image: ops ${ops.toFixed(2)}, fused ${fused.toFixed(2)}, ratio ${(ops / fused).toFixed(2)}×`);
if (process.argv[2] === 'profile') {
  process.env['SEGREFINE_CONV_CRF_KERNEL'] = 'fused';
  const prof = await tf.profile(() => layer.refine({ scores, image }));
  const byName = new Map<string, { n: number; ms: number }>();
  for (const k of prof.kernels) {
    const e = byName.get(k.name) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byName.set(k.name, e);
  }
  console.log([...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12));
}
