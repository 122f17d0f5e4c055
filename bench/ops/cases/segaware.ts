/**
 * Segmentation-aware bilateral filter (`npm run bench:ops -- --only segaware`):
 * a 9×9 window on `[1, 128, 128, 21]` scores with 64-d embeddings, ×1 and ×4
 * (same masks), through the public ops (`localMasks` + `segAwareFilter`,
 * pixel-major masks) and through the refiner's internal path (per-tap masks,
 * no layout conversion), forward and forward + backward, with peak memory.
 * Two other ways to unfold the window are measured for the record: one 4-D
 * slice per tap (tfjs autodiff), and the full stack of k² shifted copies.
 * Variants are interleaved round by round, so load from other processes hits
 * them alike; each row gives the median and the fastest round (on a shared
 * machine the minimum is the better estimate of the cost itself).
 * `SEGREFINE_BENCH_SEGAWARE_REPS` sets the rounds (default 5).
 */
import * as tf from '@tensorflow/tfjs';
import { localMasks, segAwareFilter } from '../../../src/index.js';
import { tapMajorMasks } from '../../../src/refiners/segaware/local_masks.js';
import { prepareBatch, repeatedMaskedAverage } from '../../../src/refiners/segaware/seg_aware_filter.js';
import { windowGeometry } from '../../../src/refiners/segaware/window.js';
import { interleaved, median, peakBytes, type BenchRow, type OpBenchCase } from '../harness.js';

const SIZE = 128;
const K = 21;
const D = 64;
const WINDOW = 9;
const LAMBDA = 1;
const MIB = 2 ** 20;

function rounds(): number {
  return Number(process.env['SEGREFINE_BENCH_SEGAWARE_REPS'] ?? 5);
}

/** Median and fastest of a variant's rounds, in ms. */
interface Timing {
  median: number;
  min: number;
}

/** {@link interleaved}, summarised per variant as median and fastest round. */
async function timings(variants: Record<string, () => tf.TensorContainer>, count: number): Promise<Record<string, Timing>> {
  const times = await interleaved(variants, count);
  return Object.fromEntries(Object.entries(times).map(([name, values]) => [name, { median: median(values), min: Math.min(...values) }]));
}

/** The refiner's path: tap-major masks straight into the filter. */
function internalFilter(x: tf.Tensor4D, embedding: tf.Tensor4D, lambda: number | tf.Tensor, repeats: number): tf.Tensor4D {
  return tf.tidy(() => repeatedMaskedAverage(x, prepareBatch(tapMajorMasks(embedding, windowGeometry(WINDOW, 1, 'bench'), lambda, 'l1')), repeats));
}

/** One 4-D slice of the padded input per tap, summed with tfjs autodiff ops. */
function sliceAlternative(x: tf.Tensor4D, masks: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const r = (WINDOW - 1) / 2;
    const padded = tf.pad(x, [[0, 0], [r, r], [r, r], [0, 0]]);
    const perTap = tf.split(masks, WINDOW * WINDOW, 3);
    let sum: tf.Tensor = tf.zeros(x.shape);
    for (let t = 0; t < WINDOW * WINDOW; t++) {
      const neighbour = tf.slice(padded, [0, Math.floor(t / WINDOW), t % WINDOW, 0], x.shape);
      sum = tf.add(sum, tf.mul(perTap[t]!, neighbour));
    }
    return tf.div(sum, tf.sum(masks, 3, true)) as tf.Tensor4D;
  });
}

/** The full stack of k² shifted copies `[B, H, W, k², C]`, multiplied and reduced at once. */
function stackAlternative(x: tf.Tensor4D, masks: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const r = (WINDOW - 1) / 2;
    const padded = tf.pad(x, [[0, 0], [r, r], [r, r], [0, 0]]);
    const copies = Array.from({ length: WINDOW * WINDOW }, (_, t) => tf.slice(padded, [0, Math.floor(t / WINDOW), t % WINDOW, 0], x.shape));
    const unfolded = tf.stack(copies, 3);
    return tf.div(tf.sum(tf.mul(unfolded, tf.expandDims(masks, 4)), 3), tf.sum(masks, 3, true)) as tf.Tensor4D;
  });
}

export const cases: OpBenchCase[] = [
  {
    group: 'segaware',
    name: '9×9 bilateral filter on [1, 128, 128, 21], D = 64',
    async run() {
      const x = tf.randomNormal([1, SIZE, SIZE, K], 0, 1, 'float32', 1) as tf.Tensor4D;
      const embedding = tf.randomNormal([1, SIZE, SIZE, D], 0, 0.05, 'float32', 2) as tf.Tensor4D;
      const lambda = tf.scalar(LAMBDA);
      const masks = localMasks(embedding, { kernelSize: WINDOW, lambda: LAMBDA });
      const count = rounds();
      const rows: BenchRow[] = [];
      const row = (path: string, repeats: number | string, pass: string, timing: Timing, peak?: number): void => {
        rows.push({ path, repeats, pass, ms: timing.median, 'min ms': timing.min, ...(peak === undefined ? {} : { 'peak MiB': peak / MIB }) });
      };

      const forward = await timings(
        {
          masks: () => localMasks(embedding, { kernelSize: WINDOW, lambda: LAMBDA }),
          filter1: () => segAwareFilter(x, masks, { kernelSize: WINDOW }),
          filter4: () => segAwareFilter(x, masks, { kernelSize: WINDOW, repeats: 4 }),
          ops1: () => tf.tidy(() => segAwareFilter(x, localMasks(embedding, { kernelSize: WINDOW, lambda: LAMBDA }), { kernelSize: WINDOW })),
          ops4: () => tf.tidy(() => segAwareFilter(x, localMasks(embedding, { kernelSize: WINDOW, lambda: LAMBDA }), { kernelSize: WINDOW, repeats: 4 })),
          internal1: () => internalFilter(x, embedding, LAMBDA, 1),
          internal4: () => internalFilter(x, embedding, LAMBDA, 4),
        },
        count,
      );
      row('ops: localMasks only', '-', 'forward', forward['masks']!);
      row('ops: segAwareFilter only (masks given)', 1, 'forward', forward['filter1']!);
      row('ops: segAwareFilter only (masks given)', 4, 'forward', forward['filter4']!);
      row('ops: localMasks + segAwareFilter', 1, 'forward', forward['ops1']!, await peakBytes(() => tf.tidy(() => segAwareFilter(x, localMasks(embedding, { kernelSize: WINDOW, lambda: LAMBDA }), { kernelSize: WINDOW }))));
      row('ops: localMasks + segAwareFilter', 4, 'forward', forward['ops4']!);
      row('refiner path (per-tap masks)', 1, 'forward', forward['internal1']!, await peakBytes(() => internalFilter(x, embedding, LAMBDA, 1)));
      row('refiner path (per-tap masks)', 4, 'forward', forward['internal4']!, await peakBytes(() => internalFilter(x, embedding, LAMBDA, 4)));

      const backward = (repeats: number) => (): tf.Tensor[] =>
        tf.grads((a: tf.Tensor, e: tf.Tensor, l: tf.Tensor) => tf.sum(internalFilter(a as tf.Tensor4D, e as tf.Tensor4D, l, repeats)))([x, embedding, lambda]);
      const training = await timings({ train1: backward(1), train4: backward(4) }, Math.max(1, count - 1));
      row('refiner path (per-tap masks)', 1, 'forward + backward', training['train1']!, await peakBytes(backward(1)));
      row('refiner path (per-tap masks)', 4, 'forward + backward', training['train4']!, await peakBytes(backward(4)));

      const alternatives = await timings({ slices: () => sliceAlternative(x, masks), stack: () => stackAlternative(x, masks) }, Math.max(1, count - 1));
      row('alternative: 4-D slice per tap', 1, 'forward', alternatives['slices']!, await peakBytes(() => sliceAlternative(x, masks)));
      row('alternative: stack of k² copies', 1, 'forward', alternatives['stack']!, await peakBytes(() => stackAlternative(x, masks)));
      tf.dispose([x, embedding, lambda, masks]);
      return rows;
    },
  },
];
