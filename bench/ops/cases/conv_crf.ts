/**
 * ConvCrf old vs new in the same run: the tfjs-ops window path (k² shifted
 * tensors per step, `SEGREFINE_CONV_CRF_KERNEL=ops`, the reference) against
 * the fused WebAssembly SIMD window kernels (`fused`, the default on wasm and
 * cpu), forward (`refine`, what the bench's evaluation times) and forward +
 * backward (`tf.variableGrads` of a projected loss through `apply`, what a
 * training step does). Layer defaults (k 7, 5 iterations, pos 3/3, bilateral
 * 80/13/10, symmetric). The first size is the default bench's: batches of 8
 * images of 64×64 with 4 classes. Variants alternate within each round after
 * a warm-up round; medians of 7 rounds.
 */
import * as tf from '@tensorflow/tfjs';
import { ConvCrf } from '../../../src/index.js';
import { interleaved, median, type BenchRow, type OpBenchCase } from '../harness.js';

const ROUNDS = 7;
const IMPLEMENTATIONS = ['ops', 'fused'] as const;
const SETTINGS = [
  { size: 64, batch: 8, labels: 4, downsample: 1 },
  { size: 128, batch: 1, labels: 4, downsample: 1 },
  { size: 128, batch: 1, labels: 21, downsample: 1 },
  { size: 128, batch: 1, labels: 4, downsample: 2 },
];

/** Runs `fn` with the ConvCrf implementation forced through `SEGREFINE_CONV_CRF_KERNEL`. */
function withImplementation<T>(implementation: (typeof IMPLEMENTATIONS)[number], fn: () => T): T {
  const saved = process.env['SEGREFINE_CONV_CRF_KERNEL'];
  process.env['SEGREFINE_CONV_CRF_KERNEL'] = implementation;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env['SEGREFINE_CONV_CRF_KERNEL'];
    else process.env['SEGREFINE_CONV_CRF_KERNEL'] = saved;
  }
}

export const cases: OpBenchCase[] = [
  {
    group: 'conv-crf',
    name: 'ConvCrf tfjs ops vs fused window kernels, forward and forward + backward',
    async run() {
      const rows: BenchRow[] = [];
      for (const { size, batch, labels, downsample } of SETTINGS) {
        const scores = tf.randomNormal([batch, size / 8, size / 8, labels], 0, 1.5, 'float32', 1) as tf.Tensor4D;
        const image = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
        const projection = tf.randomNormal([batch, size, size, labels], 0, 1, 'float32', 3);
        const layer = new ConvCrf({ downsample, outputSize: [size, size] });
        const forward = (): tf.Tensor => layer.refine({ scores, image });
        const backward = (): tf.TensorContainer =>
          tf.variableGrads(() => tf.sum(tf.mul(layer.apply([scores, image], { training: true }) as tf.Tensor, projection)), layer.trainableWeights.map((w) => w.read() as tf.Variable));
        for (const [pass, fn] of [['forward', forward], ['forward + backward', backward]] as const) {
          const variants = Object.fromEntries(IMPLEMENTATIONS.map((impl) => [impl, () => withImplementation(impl, fn)]));
          const times = await interleaved(variants, ROUNDS);
          const ops = median(times['ops']!);
          const fused = median(times['fused']!);
          rows.push({
            op: `ConvCrf ${pass}`,
            size: `${size}×${size}`,
            batch,
            labels,
            'k / downsample / iterations': `7 / ${downsample} / 5`,
            'ops ms': ops,
            'fused ms': fused,
            'ops ms / image': ops / batch,
            'fused ms / image': fused / batch,
            speedup: ops / fused,
            backend: tf.getBackend(),
          });
        }
        layer.dispose();
        tf.dispose([scores, image, projection]);
      }
      return rows;
    },
  },
];
