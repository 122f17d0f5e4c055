/**
 * What the playground computes, shared by the page and its browser test
 * (scripts/test-playground.mjs): an input (an image and coarse scores) goes
 * through DifNet's diffusion head, the dense CRF and SPN, each timed.
 *
 * The segrefine core is passed in rather than imported, so the page runs
 * this with the core bundled from src/ and the test runs the very same code
 * with the built dist/ in Node, and the two results can be compared.
 */
import * as tf from '@tensorflow/tfjs';
import type * as Segrefine from '../../src/index.ts';

/** The segrefine core entry (`segrefine`), as a module object. */
export type Core = typeof Segrefine;

/** A built-in synthetic scene and how its coarse scores are made. */
export interface SceneSettings {
  /** Shown in the scene picker. */
  readonly name: string;
  /** Arguments of `createSyntheticDataset` (its seed fixes the scene). */
  readonly dataset: Segrefine.SyntheticDatasetArgs;
  /** Which scene of the `val` split. */
  readonly index: number;
  /** Arguments of `coarseScores` besides the class count. */
  readonly coarse: Omit<Segrefine.CoarseScoreOptions, 'classes'>;
}

/** The refiners' arguments. Every learned weight is initialised from a seed. */
export interface RefinerSettings {
  /** `DiffusionHead` arguments; the image is the feature of each of the `walks` walks. */
  readonly difnet: Segrefine.DiffusionHeadArgs & { readonly walks: number };
  /** `SpnRefiner` arguments (guided by the image). */
  readonly spn: Segrefine.SpnRefinerArgs;
  /** `denseCrf` parameters. */
  readonly denseCrf: Segrefine.DenseCrfParams;
}

/** Small, seeded refiners: untrained, so what they show is their behaviour at initialisation. */
export const DEFAULT_REFINERS: RefinerSettings = {
  difnet: { walks: 3, embeddingDim: 16, seed: 1 },
  spn: { guidanceWidth: 16, seed: 1 },
  denseCrf: { iterations: 10 },
};

/** One image with its coarse scores, the refiners' common input. */
export interface PlaygroundInput {
  /** RGB bytes, `height × width × 3`. */
  readonly image: Uint8Array;
  /** Image height. */
  readonly height: number;
  /** Image width. */
  readonly width: number;
  /** Number of classes K. */
  readonly classes: number;
  /** Coarse logits `[1, h, w, K]` (stride 8). */
  readonly scores: tf.Tensor4D;
  /** The true labels (255 = void) of a synthetic scene; null for an upload. */
  readonly truth: Uint8Array | null;
}

/** A refiner's output: class probabilities at the image's size, and the wall time of the call. */
export interface RefinerResult {
  /** Softmax of the refined logits (the dense CRF's Q), `[1, H, W, K]`. */
  readonly probabilities: tf.Tensor4D;
  /** Wall time in milliseconds, until the values were on the CPU. */
  readonly ms: number;
}

/** Everything one run produces. The caller disposes it with {@link disposeRun}. */
export interface PlaygroundRun {
  /** The coarse scores upsampled (bilinear) to the image, as probabilities: what every refiner improves on. */
  readonly coarse: tf.Tensor4D;
  /** DifNet, with its steps on the scores' grid: argmax of the seed, then of each walk's output. */
  readonly difnet: RefinerResult & { readonly steps: readonly tf.Tensor2D[]; readonly mu: readonly number[] };
  /** The fully connected CRF on the upsampled probabilities. */
  readonly denseCrf: RefinerResult;
  /** SPN guided by the image. */
  readonly spn: RefinerResult;
}

/**
 * A built-in synthetic scene and its coarse scores: the true labels averaged
 * over 8×8 cells, plus seeded noise (what a stride-8 backbone might give).
 */
export function syntheticInput(core: Core, scene: SceneSettings): PlaygroundInput {
  const data = core.createSyntheticDataset(scene.dataset);
  const sample = data.sample('val', scene.index);
  const truth = tf.tensor3d(sample.label, [1, sample.height, sample.width], 'int32');
  const scores = core.coarseScores(truth, [sample.id], { ...scene.coarse, classes: data.numClasses });
  truth.dispose();
  return { image: sample.image, height: sample.height, width: sample.width, classes: data.numClasses, scores, truth: sample.label };
}

/** Times `run` until its values are read back (webgl queues work: the read is where it finishes). */
async function timed(run: () => tf.Tensor4D): Promise<RefinerResult> {
  const start = performance.now();
  const probabilities = run();
  await probabilities.data();
  return { probabilities, ms: performance.now() - start };
}

/** Runs the three refiners on one input. */
export async function refineAll(core: Core, input: PlaygroundInput, settings: RefinerSettings = DEFAULT_REFINERS): Promise<PlaygroundRun> {
  const { height, width, classes, scores } = input;
  const outputSize: [number, number] = [height, width];
  const image = tf.tidy(() => tf.div(tf.tensor4d(input.image, [1, height, width, 3], 'float32'), 255) as tf.Tensor4D);
  const coarse = tf.tidy(() => tf.softmax(core.resizeBilinear(scores, outputSize)) as tf.Tensor4D);

  // DifNet: untrained and seeded; the image is every walk's feature level (the reference feeds walk 1 the image).
  const head = new core.DiffusionHead({ ...settings.difnet, outputSize });
  const features = Array.from({ length: settings.difnet.walks }, () => image);
  const difnet = await timed(() => tf.tidy(() => tf.softmax(head.refine({ scores, features })) as tf.Tensor4D));
  const inspection = head.inspect({ scores, features });
  const steps = tf.tidy(() => [inspection.seed, ...inspection.walks].map((y) => tf.squeeze(tf.argMax(y, -1), [0]) as tf.Tensor2D));
  const mu = inspection.mu;
  inspection.dispose();
  head.dispose();

  // Dense CRF: pydensecrf's semantics on the bytes of the image and the upsampled probabilities (its own wasm, no tfjs op).
  const probabilities = { data: (await coarse.data()) as Float32Array, height, width, labels: classes };
  const denseCrf = await timed(() => {
    const q = core.denseCrf({ data: input.image, height, width }, probabilities, settings.denseCrf);
    return tf.tensor4d(q.data, [1, height, width, classes]);
  });

  // SPN: gates predicted from the image by an untrained (seeded) guidance network; propagation at the image's size.
  const refiner = new core.SpnRefiner({ ...settings.spn, outputSize });
  const spn = await timed(() => tf.tidy(() => tf.softmax(refiner.refine({ scores, image })) as tf.Tensor4D));
  refiner.dispose();
  image.dispose();
  return { coarse, difnet: { ...difnet, steps, mu }, denseCrf, spn };
}

/** Releases a run's tensors. */
export function disposeRun(run: PlaygroundRun): void {
  tf.dispose([run.coarse, run.difnet.probabilities, ...run.difnet.steps, run.denseCrf.probabilities, run.spn.probabilities]);
}

/** Probabilities as plain arrays (what the page exposes and the test compares): argmax labels and the values. */
export async function summarise(probabilities: tf.Tensor4D): Promise<{ labels: number[]; probabilities: number[] }> {
  const labels = tf.argMax(probabilities, -1);
  const summary = { labels: Array.from(await labels.data()), probabilities: Array.from(await probabilities.data()) };
  labels.dispose();
  return summary;
}
