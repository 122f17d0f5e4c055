/**
 * Segmentation-aware refinement of blurry scores: a SegAwareBilateral and a
 * SegAwareCrf take coarse, noisy "backbone" scores of synthetic discs and the
 * image, learn embeddings from the image with the embedding loss (plus the
 * segmentation loss on their output), and sharpen the scores along the disc
 * boundaries. Prints pixel accuracy before and after, and the learned λ.
 *
 * Run: `npx tsx examples/segaware.ts` (`SEGREFINE_FAST=1` for a quick run).
 */
import * as tf from '@tensorflow/tfjs';
import { describeBackend, embeddingLoss, initBackend, SegAwareBilateral, SegAwareCrf } from 'segrefine';

const SIZE = 32;
const CLASSES = 2;

/** Discs on noise (label 1 inside), and blurry, noisy scores of them at stride 2. Seeded. */
function syntheticBatch(batch: number, seed: number): { images: tf.Tensor4D; labels: tf.Tensor3D; scores: tf.Tensor4D } {
  return tf.tidy(() => {
    const centres = tf.randomUniform([batch, 1, 1, 2], 9, SIZE - 9, 'float32', seed);
    const radii = tf.randomUniform([batch, 1, 1, 1], 5, 8, 'float32', seed + 1);
    const ys = tf.reshape(tf.range(0, SIZE), [1, SIZE, 1, 1]);
    const xs = tf.reshape(tf.range(0, SIZE), [1, 1, SIZE, 1]);
    const dy = tf.sub(ys, tf.slice(centres, [0, 0, 0, 0], [-1, 1, 1, 1]));
    const dx = tf.sub(xs, tf.slice(centres, [0, 0, 0, 1], [-1, 1, 1, 1]));
    const inside = tf.cast(tf.less(tf.add(tf.square(dy), tf.square(dx)), tf.square(radii)), 'float32');
    const noise = tf.randomUniform([batch, SIZE, SIZE, 3], 0, 0.3, 'float32', seed + 2);
    const images = tf.clipByValue(tf.add(noise, tf.mul(inside, tf.tensor1d([0.6, 0.2, 0.5]))), 0, 1) as tf.Tensor4D;
    // The "backbone": ±2 logits, blurred by a 4× down/up-sampling, with noise, at stride 2.
    const logits = tf.mul(tf.concat([tf.sub(1, inside), inside], 3), 4);
    const coarse = tf.image.resizeBilinear(tf.image.resizeBilinear(logits as tf.Tensor4D, [SIZE / 8, SIZE / 8]), [SIZE / 2, SIZE / 2]);
    const scores = tf.add(tf.sub(coarse, 2), tf.randomNormal([batch, SIZE / 2, SIZE / 2, CLASSES], 0, 0.5, 'float32', seed + 3)) as tf.Tensor4D;
    return { images, labels: tf.cast(tf.squeeze(inside, [3]), 'int32') as tf.Tensor3D, scores };
  });
}

/** Pixel accuracy of logits (resized to the labels' size) against the labels. */
function accuracy(logits: tf.Tensor4D, labels: tf.Tensor3D): number {
  return tf.tidy(() => {
    const full = tf.image.resizeBilinear(logits, [SIZE, SIZE]);
    return tf.mean(tf.cast(tf.equal(tf.argMax(full, 3), labels), 'float32')).dataSync()[0]!;
  });
}

/** What {@link main} reports. */
export interface SegawareExampleResult {
  /** Accuracy of the blurry input scores on held-out scenes. */
  baseline: number;
  /** Accuracy after each refiner (trained), on the same scenes. */
  refined: Record<'bilateral' | 'crf', number>;
  /** Learned |λ| of each refiner. */
  lambda: Record<'bilateral' | 'crf', number>;
  /** Training losses per step, per refiner. */
  losses: Record<'bilateral' | 'crf', number[]>;
}

/** Trains each refiner for a few steps (segmentation loss + embedding loss) and evaluates it. */
export async function main(steps = process.env['SEGREFINE_FAST'] === '1' ? 2 : 60): Promise<SegawareExampleResult> {
  console.log(`backend: ${describeBackend(await initBackend())}`);
  // The image is the only embedding source here (no pyramid): featureLevels 0, useImage.
  const common = { featureLevels: 0, useImage: true, embeddingDim: 8, seed: 1 };
  const refiners = {
    bilateral: new SegAwareBilateral({ ...common, kernelSize: 7, repeats: 2, initialLambda: 1 }),
    crf: new SegAwareCrf({ ...common, kernelSize: 5, dilationRate: 2, iterations: 2, initialLambda: 1 }),
  };
  const test = syntheticBatch(4, 1000);
  const baseline = accuracy(test.scores, test.labels);
  console.log(`blurry scores: accuracy ${baseline.toFixed(4)}`);
  const result: SegawareExampleResult = { baseline, refined: { bilateral: 0, crf: 0 }, lambda: { bilateral: 0, crf: 0 }, losses: { bilateral: [], crf: [] } };
  for (const [name, refiner] of Object.entries(refiners) as Array<['bilateral' | 'crf', SegAwareBilateral | SegAwareCrf]>) {
    const optimizer = tf.train.adam(0.02);
    tf.dispose(refiner.refine({ scores: test.scores, image: test.images })); // builds the weights
    const weights = refiner.trainableWeights.map((w) => w.read() as tf.Variable);
    for (let step = 0; step < steps; step++) {
      const { images, labels, scores } = syntheticBatch(4, step);
      const loss = optimizer.minimize(() => {
        const inputs = { scores, image: images };
        const refined = refiner.apply([scores, images], { training: true }) as tf.Tensor4D;
        const full = tf.image.resizeBilinear(refined, [SIZE, SIZE]);
        const segmentation = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, CLASSES), full);
        // The embedding loss wants labels at the embeddings' (the scores') resolution.
        const coarseLabels = tf.squeeze(tf.image.resizeNearestNeighbor(tf.expandDims(labels, 3) as tf.Tensor4D, [SIZE / 2, SIZE / 2]), [3]);
        return tf.add(segmentation, tf.mul(embeddingLoss(refiner.embed(inputs), coarseLabels), 0.1)) as tf.Scalar;
      }, true, weights) as tf.Scalar;
      result.losses[name].push(loss.dataSync()[0]!);
      tf.dispose([images, labels, scores, loss]);
      if (step % 20 === 0 || step === steps - 1) console.log(`${name} step ${step}: loss ${result.losses[name][step]!.toFixed(4)}`);
    }
    const refined = refiner.refine({ scores: test.scores, image: test.images });
    result.refined[name] = accuracy(refined, test.labels);
    result.lambda[name] = refiner.lambda();
    console.log(`${name}: accuracy ${result.refined[name].toFixed(4)}, |λ| ${result.lambda[name].toFixed(3)}`);
    refined.dispose();
    optimizer.dispose();
    refiner.dispose();
  }
  tf.dispose([test.images, test.labels, test.scores]);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
