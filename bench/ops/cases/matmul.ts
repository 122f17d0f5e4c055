/** Plain matMul throughput: the reference every op's GFLOP/s is compared with. */
import * as tf from '@tensorflow/tfjs';
import { timeMedian, type OpBenchCase } from '../harness.js';

export const cases: OpBenchCase[] = [
  {
    group: 'matmul',
    name: '[N, 64] × [64, N]',
    async run() {
      const rows = [];
      for (const n of [1024, 4096]) {
        const a = tf.randomNormal([n, 64], 0, 1, 'float32', 1);
        const b = tf.randomNormal([64, n], 0, 1, 'float32', 2);
        const ms = await timeMedian(() => tf.matMul(a, b), { reps: 5 });
        rows.push({ N: n, d: 64, ms, 'GFLOP/s': (2 * n * n * 64) / (ms * 1e6) });
        tf.dispose([a, b]);
      }
      return rows;
    },
  },
];
