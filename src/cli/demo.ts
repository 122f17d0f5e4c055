/**
 * A tiny end-to-end demo: a noisy synthetic score map refined by a
 * DiffusionHead whose walks see the (synthetic) image, with what it did printed.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { startBackend } from './start_backend.js';
import { DiffusionHead } from '../refiners/diffusion/index.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Backend preference. */
  backend: string;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
}

/**
 * Refines a noisy two-class score map of a disc with an (untrained)
 * DiffusionHead and prints the pixel accuracy before and after, and the
 * head's intermediates.
 * @param options - backend and logger
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  const log = options.log ?? console.log;
  await startBackend(options.backend, log);
  const size = 32;
  const truth = tf.tidy(() => {
    const ys = tf.range(0, size).reshape([size, 1]);
    const xs = tf.range(0, size).reshape([1, size]);
    return tf.cast(tf.less(tf.add(tf.square(tf.sub(ys, 16)), tf.square(tf.sub(xs, 16))), 100), 'int32');
  });
  const scores = tf.tidy(() => {
    const oneHot = tf.oneHot(truth.flatten(), 2).reshape([1, size, size, 2]);
    return tf.add(tf.mul(oneHot, 2), tf.randomNormal([1, size, size, 2], 0, 1.5, 'float32', 1)) as tf.Tensor4D;
  });
  // The image: the disc is brighter; the walks' affinity comes from it.
  const image = tf.tidy(() => tf.tile(tf.reshape(tf.add(0.2, tf.mul(0.6, tf.cast(truth, 'float32'))), [1, size, size, 1]), [1, 1, 1, 3]) as tf.Tensor4D);
  const head = new DiffusionHead({ walks: 2, embeddingDim: 8, importance: false, initialAlpha: -3 });
  const started = performance.now();
  const refined = head.refine({ scores, features: [image, image] });
  const elapsed = performance.now() - started;
  const accuracy = (logits: tf.Tensor4D): number =>
    tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 3).reshape([size, size]), truth), 'float32')).dataSync()[0]!);
  log(`scores: noisy logits [1, ${size}, ${size}, 2] of a disc, pixel accuracy ${accuracy(scores).toFixed(3)}`);
  log(`DiffusionHead(walks 2, mu ${head.mu().map((m) => m.toFixed(3)).join('/')}): ${elapsed.toFixed(0)} ms, output [${refined.shape.join(', ')}], pixel accuracy ${accuracy(refined).toFixed(3)}`);
  const inspection = head.inspect({ scores, features: [image, image] });
  const rows = inspection.transitionRows(0, [[16, 16], [2, 2]]);
  const inside = tf.tidy(() => tf.sum(tf.mul(rows, tf.cast(truth, 'float32')), [1, 2]).dataSync());
  log(`P_1 row of the centre node puts ${(inside[0]! * 100).toFixed(1)}% of its mass inside the disc; a corner node puts ${(inside[1]! * 100).toFixed(1)}%`);
  tf.dispose([rows, image]);
  inspection.dispose();
  head.dispose();
  tf.dispose([truth, scores, refined]);
}
