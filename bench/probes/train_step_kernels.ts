/**
 * Where a Sim-DeepLab-18 training step (`trainOnBatch`: forward,
 * cross-entropy, backward, momentum SGD) spends its time in tfjs kernels
 * (`engine.runKernel`), on wasm: `npx tsx bench/probes/train_step_kernels.ts
 * [width] [steps]` (128×128, batch 4, 21 classes, as the train-step bench).
 * `bench/ops/torch/profile_train_step.py` prints PyTorch's side.
 */
import * as tf from '@tensorflow/tfjs';
import { SegmentationOptimizer, createSegmenter, initBackend, trainOnBatch } from '../../src/index.js';
import { kernelLines, kernelTotal, recordKernelTimes } from './kernel_times.js';

await initBackend('wasm');
const width = Number(process.argv[2] ?? '1');
const steps = Number(process.argv[3] ?? '2');
const model = createSegmenter({ backbone: { type: 'sim-deeplab', depth: 18, width, classes: 21, seed: 1 }, inputSize: [128, 128] });
const optimizer = new SegmentationOptimizer({ type: 'sgd', learningRate: 1e-3, momentum: 0.9, weightDecay: 5e-4 });
const batch = { images: tf.randomUniform([4, 128, 128, 3], 0, 1, 'float32', 1) as tf.Tensor4D, labels: tf.randomUniform([4, 128, 128], 0, 21, 'int32', 2) as tf.Tensor3D };
await trainOnBatch(model, batch, optimizer);
const stats = recordKernelTimes();
const t0 = performance.now();
for (let i = 0; i < steps; i++) await trainOnBatch(model, batch, optimizer);
const total = (performance.now() - t0) / steps;
console.log(`width ${width}: ${total.toFixed(0)} ms/step, tfjs kernels ${(kernelTotal(stats) / steps).toFixed(0)} ms`);
for (const line of kernelLines(stats, steps, total)) console.log(line);
