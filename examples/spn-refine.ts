/**
 * SPN refinement of coarse scores. Synthetic discs on noise: the "backbone"
 * scores are the true labels seen at stride 8 (blocky, blurred at the disc
 * edges once upsampled). An SpnRefiner, guided by the image, propagates them
 * at full resolution and learns, in a few Adam steps, gates that follow the
 * disc edges. Prints the pixel accuracy of the plain upsampled scores and of
 * the refined ones, and the raw op on a toy map.
 *
 * Run: `npx tsx examples/spn-refine.ts` (`SEGREFINE_FAST=1` for a quick run).
 */
import * as tf from '@tensorflow/tfjs';
import { describeBackend, initBackend, spnPropagate, SpnRefiner } from 'segrefine';

const SIZE = 32;
const STRIDE = 8;

/** Discs on noise: image, one-hot labels, and coarse logits (labels at stride 8, ×4). Seeded. */
function syntheticBatch(batch: number, seed: number): { images: tf.Tensor4D; labels: tf.Tensor4D; scores: tf.Tensor4D } {
  return tf.tidy(() => {
    const centres = tf.randomUniform([batch, 1, 1, 2], 9, SIZE - 9, 'float32', seed);
    const radii = tf.randomUniform([batch, 1, 1, 1], 5, 9, 'float32', seed + 1);
    const ys = tf.reshape(tf.range(0, SIZE), [1, SIZE, 1, 1]);
    const xs = tf.reshape(tf.range(0, SIZE), [1, 1, SIZE, 1]);
    const dy = tf.sub(ys, tf.slice(centres, [0, 0, 0, 0], [-1, 1, 1, 1]));
    const dx = tf.sub(xs, tf.slice(centres, [0, 0, 0, 1], [-1, 1, 1, 1]));
    const inside = tf.cast(tf.less(tf.add(tf.square(dy), tf.square(dx)), tf.square(radii)), 'float32');
    const noise = tf.randomUniform([batch, SIZE, SIZE, 3], 0, 0.5, 'float32', seed + 2);
    const images = tf.clipByValue(tf.add(noise, tf.mul(inside, 0.5)), 0, 1) as tf.Tensor4D;
    const labels = tf.concat([tf.sub(1, inside), inside], 3) as tf.Tensor4D;
    const coarse = tf.image.resizeBilinear(labels, [SIZE / STRIDE, SIZE / STRIDE]);
    const scores = tf.mul(tf.sub(coarse, 0.5), 4) as tf.Tensor4D;
    return { images, labels, scores };
  });
}

/** Fraction of pixels whose argmax matches the labels. */
function accuracy(logits: tf.Tensor4D, labels: tf.Tensor4D): number {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 3), tf.argMax(labels, 3)), 'float32')).dataSync()[0]!);
}

/** The functional op on a toy map: one impulse spread right by the gates g2 = 0.9. */
function toyPropagation(): number[] {
  return tf.tidy(() => {
    const x = tf.tensor4d([1, 0, 0, 0, 0], [1, 1, 5, 1]);
    const gates = tf.concat([tf.zeros([1, 1, 5, 1]), tf.fill([1, 1, 5, 1], 0.9), tf.zeros([1, 1, 5, 1])], 3) as tf.Tensor4D;
    return Array.from(spnPropagate(x, gates, { direction: 'left-to-right' }).dataSync());
  });
}

/** Trains the refiner for `steps` Adam steps; returns the accuracies and losses. */
export async function main(steps = process.env['SEGREFINE_FAST'] === '1' ? 3 : 60): Promise<{ baseline: number; refined: number; losses: number[]; toy: number[] }> {
  console.log(`backend: ${describeBackend(await initBackend())}`);
  const toy = toyPropagation();
  console.log(`toy left-to-right propagation of [1, 0, 0, 0, 0] with g2 = 0.9: [${toy.map((v) => v.toFixed(3)).join(', ')}]`);

  const refiner = new SpnRefiner({ guidanceWidth: 8, guidanceDepth: 2, gateInitScale: 0.05, outputSize: [SIZE, SIZE], seed: 1 });
  // Build the weights before training: the optimizer collects the variables
  // that exist when minimize() is called.
  const warmup = syntheticBatch(1, 99);
  tf.dispose([refiner.refine({ scores: warmup.scores, image: warmup.images }), warmup.images, warmup.labels, warmup.scores]);
  const optimizer = tf.train.adam(0.01);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const { images, labels, scores } = syntheticBatch(4, 100 + step);
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, refiner.apply([scores, images], { training: true }) as tf.Tensor), true) as tf.Scalar;
    losses.push(loss.dataSync()[0]!);
    tf.dispose([images, labels, scores, loss]);
    if (step % 10 === 0 || step === steps - 1) console.log(`step ${step}: loss ${losses[step]!.toFixed(4)}`);
  }

  const test = syntheticBatch(8, 7);
  const upsampled = tf.image.resizeBilinear(test.scores, [SIZE, SIZE]);
  const refinedLogits = refiner.refine({ scores: test.scores, image: test.images });
  const baseline = accuracy(upsampled, test.labels);
  const refined = accuracy(refinedLogits, test.labels);
  console.log(`pixel accuracy: upsampled scores ${(100 * baseline).toFixed(2)} %, SPN-refined ${(100 * refined).toFixed(2)} %`);
  tf.dispose([test.images, test.labels, test.scores, upsampled, refinedLogits]);
  optimizer.dispose();
  refiner.dispose();
  return { baseline, refined, losses, toy };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
