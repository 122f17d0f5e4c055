/**
 * SDN: the semantic difference convolution against a plain 3×3 conv2d of the
 * same size (its lower bound: same taps, no differences or similarity), and
 * the whole neck on a small pyramid, forward and forward + backward.
 */
import * as tf from '@tensorflow/tfjs';
import { SdnNeck, semanticDifferenceConv } from '../../../src/index.js';
import { timeMedian, type BenchRow, type OpBenchCase } from '../harness.js';

const sizes: [number, number, number][] = [
  [32, 32, 64],
  [64, 64, 64],
  [64, 64, 128],
];

export const cases: OpBenchCase[] = [
  {
    group: 'sdn',
    name: 'semantic difference conv vs conv2d 3×3',
    async run() {
      const rows: BenchRow[] = [];
      for (const [h, w, c] of sizes) {
        const u = tf.randomNormal([1, h, w, c], 0, 1, 'float32', 1) as tf.Tensor4D;
        const v = tf.randomNormal([1, h, w, c], 0, 1, 'float32', 2) as tf.Tensor4D;
        const kernel = tf.randomNormal([3, 3, c, c], 0, 0.1, 'float32', 3) as tf.Tensor4D;
        const lambda = tf.ones([c]) as tf.Tensor1D;
        const sdc = (a: tf.Tensor, b: tf.Tensor, k: tf.Tensor, l: tf.Tensor): tf.Tensor4D =>
          semanticDifferenceConv(a as tf.Tensor4D, b as tf.Tensor4D, k as tf.Tensor4D, l as tf.Tensor1D, { kernelSize: 3 });
        const conv = (a: tf.Tensor, k: tf.Tensor): tf.Tensor4D => tf.conv2d(a as tf.Tensor4D, k as tf.Tensor4D, 1, 'same');
        const flops = 2 * 8 * h * w * c * c; // the 8 non-centre taps' multiply-adds
        const sdcMs = await timeMedian(() => sdc(u, v, kernel, lambda), { reps: 5 });
        const convMs = await timeMedian(() => conv(u, kernel), { reps: 5 });
        const sdcGradMs = await timeMedian(() => tf.grads((a, b, k, l) => tf.sum(sdc(a!, b!, k!, l!)))([u, v, kernel, lambda]), { reps: 3 });
        const convGradMs = await timeMedian(() => tf.grads((a, k) => tf.sum(conv(a!, k!)))([u, kernel]), { reps: 3 });
        rows.push({
          shape: `[1, ${h}, ${w}, ${c}]→${c}`,
          'sdc ms': sdcMs,
          'sdc GFLOP/s': flops / (sdcMs * 1e6),
          'conv2d ms': convMs,
          'sdc fwd+bwd ms': sdcGradMs,
          'conv2d fwd+bwd ms': convGradMs,
        });
        tf.dispose([u, v, kernel, lambda]);
      }
      return rows;
    },
  },
  {
    group: 'sdn',
    name: 'SdnNeck on a 3-level pyramid',
    async run() {
      const rows: BenchRow[] = [];
      const shapes: [number, number, number, number][] = [
        [1, 64, 64, 64],
        [1, 32, 32, 128],
        [1, 16, 16, 256],
      ];
      const features = shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', 10 + i) as tf.Tensor4D);
      for (const mode of ['multi', 'single'] as const) {
        const neck = new SdnNeck({ mode, fusionInitializer: 'random' });
        const forwardMs = await timeMedian(() => neck.apply(features), { reps: 3 });
        const vars = neck.trainableWeights.map((w) => w.read() as tf.Variable);
        const trainMs = await timeMedian(
          () => tf.variableGrads(() => tf.addN(neck.apply(features, { training: true }).map((o) => tf.mean(tf.square(o)))) as tf.Scalar, vars).grads,
          { reps: 3 },
        );
        rows.push({ shape: `pyramid ${shapes.map((s) => `${s[1]}²×${s[3]}`).join(', ')} (${mode})`, 'neck fwd ms': forwardMs, 'neck fwd+bwd ms': trainMs });
        neck.dispose();
      }
      tf.dispose(features);
      return rows;
    },
  },
];
