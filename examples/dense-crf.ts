/**
 * The dense CRF as post-processing, three ways, on a synthetic scene whose
 * class probabilities are noisy: `denseCrf` on raw arrays (as pydensecrf
 * users call it), the `dense-crf` refiner on a batch of logits, and the
 * trainable `ConvCrf` layer. Prints the pixel accuracy before and after.
 *
 * Run: `npx tsx examples/dense-crf.ts` (`SEGREFINE_FAST=1` for a quick run).
 */
import * as tf from '@tensorflow/tfjs';
import { ConvCrf, createRefiner, denseCrf, describeBackend, initBackend } from 'segrefine';

const LABELS = 4;

/** Seeded scene: a rectangle, a disc and a band on a background, N(0, 12) colour noise, noisy probabilities. */
function scene(height: number, width: number): { rgb: Uint8Array; probabilities: Float32Array; truth: Uint8Array } {
  let state = 42;
  const random = (): number => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const palette = [[90, 110, 90], [200, 60, 50], [50, 80, 200], [220, 200, 60]];
  const rgb = new Uint8Array(height * width * 3);
  const probabilities = new Float32Array(height * width * LABELS);
  const truth = new Uint8Array(height * width);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      let label = 0;
      if (x > 0.1 * width && x < 0.45 * width && y > 0.15 * height && y < 0.6 * height) label = 1;
      if ((x - 0.68 * width) ** 2 + (y - 0.4 * height) ** 2 < (0.2 * height) ** 2) label = 2;
      if (y > 0.75 * height && y < 0.9 * height) label = 3;
      truth[i] = label;
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.max(0, Math.min(255, Math.round(palette[label]![c]! + 12 * gauss())));
      const logits = Array.from({ length: LABELS }, (_, m) => (m === label ? 1.5 : 0) + 1.2 * gauss());
      const sum = logits.reduce((a, v) => a + Math.exp(v), 0);
      for (let m = 0; m < LABELS; m++) probabilities[i * LABELS + m] = Math.exp(logits[m]!) / sum;
    }
  }
  return { rgb, probabilities, truth };
}

function accuracy(labels: ArrayLike<number>, truth: Uint8Array): number {
  let correct = 0;
  for (let i = 0; i < truth.length; i++) if (labels[i] === truth[i]) correct++;
  return correct / truth.length;
}

function argmax(q: Float32Array, labels: number): Uint8Array {
  const out = new Uint8Array(q.length / labels);
  for (let i = 0; i < out.length; i++) {
    let best = 0;
    for (let m = 1; m < labels; m++) if (q[i * labels + m]! > q[i * labels + best]!) best = m;
    out[i] = best;
  }
  return out;
}

/** Accuracies of the unary, of `denseCrf`, of the `dense-crf` refiner and of `ConvCrf`. */
export interface DenseCrfExampleResult {
  /** Argmax of the noisy probabilities. */
  unary: number;
  /** `denseCrf` on raw arrays. */
  denseCrf: number;
  /** Argmax of the stride-4 logits upsampled bilinearly (no CRF). */
  upsampled: number;
  /** The `dense-crf` refiner on stride-4 logits (upsampled, then refined at the image's size). */
  refiner: number;
  /** `ConvCrf` on the same stride-4 logits, initial weights (a 7×7 window, messages on a grid pooled by 2). */
  convCrf: number;
}

/** Runs the three CRFs and prints their accuracies. */
export async function main(size = process.env['SEGREFINE_FAST'] === '1' ? 48 : 160): Promise<DenseCrfExampleResult> {
  console.log(`backend: ${describeBackend(await initBackend())}`);
  const { rgb, probabilities, truth } = scene(size, size);

  // 1. pydensecrf-style: bytes and probabilities in, Q out.
  const params = { iterations: 10, pos: { sxy: 3, compat: 3 }, bilateral: { sxy: 40, srgb: 13, compat: 10 } };
  const start = performance.now();
  const q = denseCrf({ data: rgb, height: size, width: size }, { data: probabilities, height: size, width: size, labels: LABELS }, params);
  const ms = performance.now() - start;

  // 2. The refiner: coarse logits [B, h, w, K] (here stride 4, as a backbone
  //    gives them) and the RGB image in [0, 1]. The CRF runs at the image's
  //    size; ask for that size back (the default is the scores' size).
  const image = tf.tidy(() => tf.div(tf.tensor4d(rgb, [1, size, size, 3], 'float32'), 255)) as tf.Tensor4D;
  const scores = tf.tidy(() => tf.avgPool(tf.log(tf.tensor4d(probabilities, [1, size, size, LABELS])), 4, 4, 'valid')) as tf.Tensor4D;
  const refiner = createRefiner({ type: 'dense-crf', ...params, outputSize: [size, size] });
  const refined = refiner.refine({ scores, image });
  const refinerLabels = tf.tidy(() => tf.argMax(refined, 3).dataSync());

  // 3. ConvCrf: the same mean field in a local window, in tfjs ops (trainable).
  const conv = new ConvCrf({ iterations: 5, kernelSize: 7, downsample: 2, bilateral: { sxy: 40, srgb: 13, compat: 10 }, outputSize: [size, size] });
  const convOut = conv.refine({ scores, image });
  const convLabels = tf.tidy(() => tf.argMax(convOut, 3).dataSync());
  const upsampledLabels = tf.tidy(() => tf.argMax(tf.image.resizeBilinear(scores, [size, size]), 3).dataSync());

  const result: DenseCrfExampleResult = {
    unary: accuracy(argmax(probabilities, LABELS), truth),
    denseCrf: accuracy(argmax(q.data, LABELS), truth),
    upsampled: accuracy(upsampledLabels, truth),
    refiner: accuracy(refinerLabels, truth),
    convCrf: accuracy(convLabels, truth),
  };
  console.log(`${size}×${size}, ${LABELS} labels`);
  console.log(`pixel accuracy, unary argmax:      ${(100 * result.unary).toFixed(1)} %`);
  console.log(`pixel accuracy, denseCrf:          ${(100 * result.denseCrf).toFixed(1)} %  (${ms.toFixed(0)} ms)`);
  console.log(`from stride-4 logits (upsampled argmax: ${(100 * result.upsampled).toFixed(1)} %):`);
  console.log(`pixel accuracy, dense-crf refiner: ${(100 * result.refiner).toFixed(1)} %`);
  console.log(`pixel accuracy, ConvCrf (untrained): ${(100 * result.convCrf).toFixed(1)} %`);
  tf.dispose([image, scores, refined, convOut]);
  refiner.dispose();
  conv.dispose();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
