/**
 * A tiny end-to-end demo: a synthetic score map refined by the registered
 * refiners, with what each did printed.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { describeBackend, initBackend, type BackendPreference } from '../core/backend.js';
import { createRefiner } from '../core/registry.js';
import '../specs.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Backend preference. */
  backend: string;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
}

/**
 * Refines a noisy two-class score map and prints the agreement with the truth.
 * @param options - backend and logger
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  const log = options.log ?? console.log;
  const info = await initBackend(options.backend as BackendPreference);
  log(`backend: ${describeBackend(info)}`);
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
  const refiner = createRefiner({ type: 'none' });
  const refined = refiner.refine({ scores });
  const accuracy = (logits: tf.Tensor4D): number =>
    tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 3).reshape([size, size]), truth), 'float32')).dataSync()[0]!);
  log(`scores: [1, ${size}, ${size}, 2], pixel accuracy ${accuracy(scores).toFixed(3)}`);
  log(`refiner '${refiner.refinerId}': output [${refined.shape.join(', ')}], pixel accuracy ${accuracy(refined).toFixed(3)}`);
  tf.dispose([truth, scores, refined]);
  refiner.dispose();
}
