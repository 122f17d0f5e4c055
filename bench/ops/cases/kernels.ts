/**
 * One training step of the foundation's test net (2 atrous convs, dilation 2,
 * batch norm, a depthwise conv) on wasm vs cpu, alternating A/B in one run:
 * what segrefine's wasm kernels buy over falling back to the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import { median, type OpBenchCase } from '../harness.js';

function atrousNet(): tf.LayersModel {
  const input = tf.input({ shape: [64, 64, 3] });
  let x = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', dilationRate: 2, kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: tf.initializers.glorotNormal({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', dilationRate: 2, kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

async function stepMs(model: tf.LayersModel, optimizer: tf.Optimizer, xs: tf.Tensor, ys: tf.Tensor): Promise<number> {
  const start = performance.now();
  const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor), true) as tf.Scalar;
  await loss.data();
  loss.dispose();
  return performance.now() - start;
}

export const cases: OpBenchCase[] = [
  {
    group: 'kernels',
    name: 'atrous net training step, wasm vs cpu',
    async run() {
      const initial = tf.getBackend();
      const model = atrousNet();
      const optimizer = tf.train.adam(1e-3);
      const xs = tf.randomUniform([4, 64, 64, 3], 0, 1, 'float32', 1);
      const ys = tf.oneHot(tf.randomUniform([4, 64, 64], 0, 4, 'int32', 2), 4);
      const times: Record<string, number[]> = { wasm: [], cpu: [] };
      for (let rep = 0; rep < 6; rep++) {
        for (const backend of ['wasm', 'cpu']) {
          await tf.setBackend(backend);
          const ms = await stepMs(model, optimizer, xs, ys);
          if (rep > 0) times[backend]!.push(ms); // first pass of each backend is warm-up
        }
      }
      await tf.setBackend(initial);
      tf.dispose([xs, ys]);
      optimizer.dispose();
      model.dispose();
      const wasm = median(times['wasm']!);
      const cpu = median(times['cpu']!);
      return [{ net: '2×atrous conv (d=2) + BN + depthwise, [4,64,64,3]', 'wasm ms/step': wasm, 'cpu ms/step': cpu, 'cpu / wasm': cpu / wasm }];
    },
  },
];
