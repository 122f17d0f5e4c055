/**
 * An uploaded image as a playground input. There is no ground truth and no
 * backbone, so the coarse scores come from the image itself: its colours are
 * clustered into K classes by k-means, and the clustering is turned into
 * stride-8 scores with `coarseScores`, as the truth of a synthetic scene is.
 */
import * as tf from '@tensorflow/tfjs';
import type { Core, PlaygroundInput, SceneSettings } from './pipeline.ts';

/** How an upload becomes an input. */
export interface UploadSettings {
  /** The longer side is scaled down to this many pixels (the refiners' cost grows with the pixel count). */
  readonly maxSide: number;
  /** Number of colour clusters, i.e. classes K. */
  readonly classes: number;
  /** k-means iterations. */
  readonly iterations: number;
  /** Arguments of `coarseScores` besides the class count. */
  readonly coarse: SceneSettings['coarse'];
}

/** The file's pixels as RGB bytes, scaled down to at most `maxSide` pixels per side. */
export async function readImageFile(file: Blob, maxSide: number): Promise<{ image: Uint8Array; height: number; width: number }> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  // coarseScores and the refiners need at least a few stride-8 cells per side.
  const height = Math.max(16, Math.round(bitmap.height * scale));
  const width = Math.max(16, Math.round(bitmap.width * scale));
  const pixels = tf.tidy(() => tf.round(tf.image.resizeBilinear(tf.browser.fromPixels(bitmap), [height, width], false, true)));
  bitmap.close();
  const image = Uint8Array.from(await pixels.data());
  pixels.dispose();
  return { image, height, width };
}

/**
 * k-means on the colours: each pixel's class is its nearest centre in RGB.
 * The centres start at the pixels of evenly spaced brightness quantiles, so the
 * clustering is deterministic (no random start to seed).
 */
export function kMeansLabels(image: Uint8Array, classes: number, iterations: number): Int32Array {
  const n = image.length / 3;
  const brightness = Array.from({ length: n }, (_, i) => image[3 * i]! + image[3 * i + 1]! + image[3 * i + 2]!);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => brightness[a]! - brightness[b]!);
  const starts = Array.from({ length: classes }, (_, k) => order[Math.floor(((k + 0.5) / classes) * n)]!);
  return tf.tidy(() => {
    const points = tf.tensor2d(image, [n, 3], 'float32');
    let centres = tf.gather(points, starts);
    let labels: tf.Tensor1D = tf.zeros([n], 'int32');
    for (let step = 0; step < iterations; step++) {
      // |p − c|² = |p|² − 2 p·c + |c|²; |p|² is the same for every centre, so it does not change the argmin.
      const distances = tf.add(tf.mul(-2, tf.matMul(points, centres, false, true)), tf.sum(tf.square(centres), 1));
      labels = tf.argMin<tf.Tensor1D>(distances, 1);
      const sums = tf.unsortedSegmentSum(points, labels, classes);
      const counts = tf.unsortedSegmentSum(tf.onesLike(labels), labels, classes).toFloat().expandDims(1);
      // A centre that lost all its pixels stays where it was.
      centres = tf.where(tf.greater(counts, 0), tf.div<tf.Tensor2D>(sums, tf.maximum(counts, 1)), centres);
    }
    return labels.dataSync() as Int32Array;
  });
}

/** An uploaded file as an input: scaled, clustered into K colour classes, coarse scores from the clusters. */
export async function uploadInput(core: Core, file: Blob, settings: UploadSettings): Promise<PlaygroundInput> {
  const { image, height, width } = await readImageFile(file, settings.maxSide);
  const clusters = kMeansLabels(image, settings.classes, settings.iterations);
  const labels = tf.tensor3d(clusters, [1, height, width], 'int32');
  const scores = core.coarseScores(labels, ['upload'], { ...settings.coarse, classes: settings.classes });
  labels.dispose();
  return { image, height, width, classes: settings.classes, scores, truth: null };
}
