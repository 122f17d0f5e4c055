/**
 * SPN: one four-direction, max-merged, three-way pass (`spn(x, gates,
 * { passes: 1 })`), forward and forward + backward, with the production
 * custom-gradient scan and, on a smaller map, the plain per-column reference
 * differentiated by tfjs's own backprop.
 */
import * as tf from '@tensorflow/tfjs';
import { spn, type SpnMode } from '../../../src/index.js';
import { spnReference } from '../../../src/refiners/spn/reference.js';
import { timeMedian, type BenchRow, type OpBenchCase } from '../harness.js';

type Pass = (x: tf.Tensor4D, gates: tf.Tensor4D) => tf.Tensor4D;

async function measure(label: string, pass: Pass, shape: [number, number, number, number], mode: SpnMode, reps: number): Promise<BenchRow> {
  const [b, h, w, c] = shape;
  const taps = mode === 'three-way' ? 3 : 1;
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D;
  const gates = tf.randomUniform([b, h, w, 4 * taps * c], -0.5, 0.5, 'float32', 2) as tf.Tensor4D;
  const forward = await timeMedian(() => pass(x, gates), { reps });
  const backward = await timeMedian(() => tf.grads((xi: tf.Tensor, gi: tf.Tensor) => tf.sum(pass(xi as tf.Tensor4D, gi as tf.Tensor4D)))([x, gates]), { reps });
  tf.dispose([x, gates]);
  return { impl: label, mode, shape: `[${shape.join(', ')}]`, 'forward ms': forward, 'forward+backward ms': backward };
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
