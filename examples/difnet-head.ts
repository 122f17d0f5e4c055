/**
 * A DiffusionHead on a tiny network: the scores come from a small conv stack
 * at stride 4, the walks see the image and two conv levels. It trains a few
 * steps on synthetic discs and prints the learned μ_t and β_t.
 *
 * Run: `npx tsx examples/difnet-head.ts` (`SEGREFINE_FAST=1` for a quick run).
 */
import * as tf from '@tensorflow/tfjs';
import { DiffusionHead, describeBackend, initBackend } from 'segrefine';

const SIZE = 32;
const CLASSES = 2;

/** Discs on noise: label 1 inside the disc. Seeded, so every run is the same. */
function syntheticBatch(batch: number, seed: number): { images: tf.Tensor4D; labels: tf.Tensor4D } {
  return tf.tidy(() => {
    const centres = tf.randomUniform([batch, 1, 1, 2], 8, SIZE - 8, 'float32', seed);
    const ys = tf.reshape(tf.range(0, SIZE), [1, SIZE, 1, 1]);
    const xs = tf.reshape(tf.range(0, SIZE), [1, 1, SIZE, 1]);
    const dy = tf.sub(ys, tf.slice(centres, [0, 0, 0, 0], [-1, 1, 1, 1]));
    const dx = tf.sub(xs, tf.slice(centres, [0, 0, 0, 1], [-1, 1, 1, 1]));
    const inside = tf.cast(tf.less(tf.add(tf.square(dy), tf.square(dx)), 36), 'float32');
    const noise = tf.randomUniform([batch, SIZE, SIZE, 3], 0, 0.6, 'float32', seed + 1);
    const images = tf.clipByValue(tf.add(noise, tf.mul(inside, 0.4)), 0, 1) as tf.Tensor4D;
    const labels = tf.concat([tf.sub(1, inside), inside], 3) as tf.Tensor4D;
    return { images, labels };
  });
}

/** image → (coarse scores, pyramid) → DiffusionHead → logits at the image size. */
export function buildModel(): { model: tf.LayersModel; head: DiffusionHead } {
  const image = tf.input({ shape: [SIZE, SIZE, 3] });
  const conv = (filters: number, strides: number, seed: number) =>
    tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed }) });
  const level1 = conv(8, 2, 1).apply(image) as tf.SymbolicTensor; // stride 2
  const level2 = conv(16, 2, 2).apply(level1) as tf.SymbolicTensor; // stride 4
  const scores = tf.layers.conv2d({ filters: CLASSES, kernelSize: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(level2) as tf.SymbolicTensor;
  const head = new DiffusionHead({ walks: 3, embeddingDim: 16, outputSize: [SIZE, SIZE] });
  const logits = head.apply([scores, image, level1, level2]) as tf.SymbolicTensor;
  return { model: tf.model({ inputs: image, outputs: logits }), head };
}

/** Trains for a few steps and returns the learned weights. */
export async function main(steps = process.env['SEGREFINE_FAST'] === '1' ? 3 : 40): Promise<{ mu: number[]; beta: number[]; losses: number[] }> {
  console.log(`backend: ${describeBackend(await initBackend())}`);
  const { model, head } = buildModel();
  const optimizer = tf.train.adam(0.01);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const { images, labels } = syntheticBatch(4, step);
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(images, { training: true }) as tf.Tensor), true) as tf.Scalar;
    losses.push(loss.dataSync()[0]!);
    tf.dispose([images, labels, loss]);
    if (step % 10 === 0 || step === steps - 1) console.log(`step ${step}: loss ${losses[step]!.toFixed(4)}`);
  }
  const mu = head.mu();
  const beta = head.betaWeights();
  console.log(`learned mu_t:   ${mu.map((v) => v.toFixed(3)).join(', ')}`);
  console.log(`learned beta_t: ${beta.map((v) => v.toFixed(3)).join(', ')}`);
  optimizer.dispose();
  model.dispose();
  return { mu, beta, losses };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
