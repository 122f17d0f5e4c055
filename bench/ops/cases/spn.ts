/**
 * SPN: one four-direction, max-merged, three-way pass (`spn(x, gates,
 * { passes: 1 })`), forward and forward + backward, with the production
 * custom-gradient scan and, on a smaller map, the plain per-column reference
 * differentiated by tfjs's own backprop. Besides the median wall time, the
 * rows give the median CPU time of the process (user + system), which a busy
 * shared machine inflates far less: this code runs on one thread.
 */
import * as tf from '@tensorflow/tfjs';
import { spn, type SpnMode } from '../../../src/index.js';
import { spnReference } from '../../../src/refiners/spn/reference.js';
import { median, timeMedian, type BenchRow, type OpBenchCase } from '../harness.js';

type Pass = (x: tf.Tensor4D, gates: tf.Tensor4D) => tf.Tensor4D;

/** Median wall and CPU milliseconds of `fn` (its result's data awaited, then disposed). */
async function timeWallAndCpu(fn: () => tf.TensorContainer, reps: number): Promise<{ wall: number; cpu: number }> {
  const cpu: number[] = [];
  const wall = await timeMedian(() => {
    const start = process.cpuUsage();
    const out = fn();
    const tensors = (Array.isArray(out) ? out : [out]) as tf.Tensor[];
    tensors.forEach((t) => t.dataSync());
    const used = process.cpuUsage(start);
    cpu.push((used.user + used.system) / 1000);
    return out;
  }, { reps });
  return { wall, cpu: median(cpu.slice(1)) };
}

async function measure(label: string, pass: Pass, shape: [number, number, number, number], mode: SpnMode, reps: number): Promise<BenchRow> {
  const [b, h, w, c] = shape;
  const taps = mode === 'three-way' ? 3 : 1;
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D;
  const gates = tf.randomUniform([b, h, w, 4 * taps * c], -0.5, 0.5, 'float32', 2) as tf.Tensor4D;
  const forward = await timeWallAndCpu(() => pass(x, gates), reps);
  const backward = await timeWallAndCpu(() => tf.grads((xi: tf.Tensor, gi: tf.Tensor) => tf.sum(pass(xi as tf.Tensor4D, gi as tf.Tensor4D)))([x, gates]), reps);
  tf.dispose([x, gates]);
  return {
    impl: label,
    mode,
    shape: `[${shape.join(', ')}]`,
    'forward ms': forward.wall,
    'forward+backward ms': backward.wall,
    'forward cpu ms': forward.cpu,
    'forward+backward cpu ms': backward.cpu,
  };
}

export const cases: OpBenchCase[] = [
  {
    group: 'spn',
    name: 'one four-direction pass (spn, passes: 1)',
    async run() {
      const custom = (mode: SpnMode): Pass => (x, g) => spn(x, g, { passes: 1, mode });
      const reference = (mode: SpnMode): Pass => (x, g) => spnReference(x, g, 1, mode);
      return [
        await measure('custom gradient', custom('three-way'), [1, 128, 128, 32], 'three-way', 3),
        await measure('custom gradient', custom('one-way'), [1, 128, 128, 32], 'one-way', 3),
        await measure('custom gradient', custom('three-way'), [1, 64, 64, 32], 'three-way', 3),
        await measure('autodiff reference', reference('three-way'), [1, 64, 64, 32], 'three-way', 1),
      ];
    },
  },
];
