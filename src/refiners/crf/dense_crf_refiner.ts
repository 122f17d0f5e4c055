/**
 * The `dense-crf` refiner: {@link denseCrf} (permutohedral lattice, pydensecrf
 * semantics) behind the {@link Refiner} interface, batch by batch. It is not
 * differentiable, so it is a plain {@link Refiner}, not a layer.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs } from '../../core/config.js';
import { DataError, ShapeError } from '../../core/errors.js';
import { resizeBilinear } from '../../core/ops/resize.js';
import { assertFinite, assertFloat32, checkRefineOptions, type RefineOptions, type Refiner, type RefinerInputs } from '../../core/refiner.js';
import type { RefinerSpec } from '../../core/registry.js';
import { ArgsObject, OutputSize, type Static } from '../../core/schemas.js';
import { denseCrfParamProperties, runDenseCrf, type DenseCrfParams } from './dense_crf.js';

/** The registry id: the `type` in configs, the prefix of argument errors, the tfjs class name `segrefine>dense-crf`. */
const DENSE_CRF_ID = 'dense-crf';

const denseCrfArgs = ArgsObject({
  ...denseCrfParamProperties,
  /** Output `[height, width]`; null keeps the scores' size (the CRF itself runs at the image's size). */
  outputSize: OutputSize({ default: null }),
});

/**
 * Arguments of {@link DenseCrf}: the {@link DenseCrfParams} plus an output size.
 * @interface
 */
export type DenseCrfArgs = Static<typeof denseCrfArgs>;

const denseCrfSchema = compileArgs(DENSE_CRF_ID, denseCrfArgs);

function checkRank4(t: unknown, argument: string): asserts t is tf.Tensor4D {
  if (t === undefined || t === null) throw new ShapeError(argument, 'is required', t);
  if (!(t instanceof tf.Tensor)) throw new ShapeError(argument, 'must be a tf.Tensor', t);
  if (t.rank !== 4) throw new ShapeError(argument, 'must be rank 4 (NHWC)', t);
}

/**
 * Dense CRF refiner (`refinerId: 'dense-crf'`). Per batch item: the scores
 * (logits) are resized bilinearly to the image's size and softmaxed, the image
 * (RGB in [0, 1]) is scaled by 255 for the appearance features, mean field
 * runs on the lattice, and the last iteration's logits (whose softmax is Q)
 * are returned, resized to the output size.
 */
export class DenseCrf implements Refiner {
  /** Registry name. */
  readonly refinerId = DENSE_CRF_ID;
  /** The lattice runs outside tfjs: no gradients. */
  readonly differentiable = false;
  /** Validated arguments with defaults filled in. */
  readonly args: Readonly<Required<DenseCrfArgs>>;

  /** @param args - see {@link DenseCrfArgs} */
  constructor(args: DenseCrfArgs = {}) {
    const parsed = parseArgs(denseCrfSchema, args);
    this.args = { ...parsed, outputSize: parsed.outputSize ?? null } as Required<DenseCrfArgs>;
  }

  /**
   * Refines `{ scores, image }`. Returns logits `[B, H', W', K]`.
   * @param inputs - scores `[B, h, w, K]` (logits) and image `[B, H, W, 3]` (RGB in [0, 1])
   * @param options - output size, finite check (training is ignored)
   */
  refine(inputs: RefinerInputs, options: RefineOptions = {}): tf.Tensor4D {
    checkRefineOptions(options);
    const { scores, image } = inputs;
    checkRank4(scores, 'inputs.scores');
    if (inputs.features !== undefined && inputs.features.length > 0) {
      throw new ShapeError('inputs.features', `must have exactly 0 level(s) for ${this.refinerId}`, `${inputs.features.length} level(s)`);
    }
    if (image === undefined) throw new ShapeError('inputs.image', `is required by ${this.refinerId}`, undefined);
    checkRank4(image, 'inputs.image');
    const [batch, , , labels] = scores.shape;
    if (image.shape[0] !== batch) throw new ShapeError('inputs.image', `must have the scores' batch size ${batch}`, image);
    if (image.shape[3] !== 3) throw new ShapeError('inputs.image', 'must have 3 (RGB) channels', image);
    assertFloat32(scores, 'inputs.scores', 'logits');
    assertFloat32(image, 'inputs.image', 'RGB in [0, 1]');
    if (labels < 2) throw new ShapeError('inputs.scores', 'must have at least 2 classes', scores);
    if (scores.size === 0 || image.size === 0) throw new ShapeError(scores.size === 0 ? 'inputs.scores' : 'inputs.image', 'must not be empty', scores.size === 0 ? scores : image);
    if (options.checkFinite ?? true) {
      assertFinite(scores, 'inputs.scores');
      assertFinite(image, 'inputs.image');
    }
    const [, height, width] = image.shape;
    const pixels = tf.tidy(() => tf.mul(image, 255).dataSync());
    for (let i = 0; i < pixels.length; i++) {
      const v = pixels[i]!;
      if (v < 0 || v > 255 + 1e-3) throw new DataError('inputs.image', "must hold RGB values in [0, 1], the library's image convention (0–255 values? divide by 255; denseCrf() takes 0–255)", `${v / 255} at flat index ${i}`);
    }
    const size: [number, number, number] = [height, width, labels];
    const perImage = height * width;
    const logits = new Float32Array(batch * perImage * labels);
    for (let b = 0; b < batch; b++) {
      const probabilities = tf.tidy(() => {
        const item = tf.slice(scores, [b, 0, 0, 0], [1, -1, -1, -1]);
        return tf.softmax(resizeBilinear(item, [height, width])).dataSync();
      });
      const rgb = pixels.subarray(b * perImage * 3, (b + 1) * perImage * 3);
      logits.set(runDenseCrf(rgb, probabilities, size, this.args).logits, b * perImage * labels);
    }
    // options.outputSize was checked up front; the configured one by the schema.
    const outputSize = options.outputSize ?? this.args.outputSize ?? [scores.shape[1], scores.shape[2]];
    return tf.tidy(() => resizeBilinear(tf.tensor4d(logits, [batch, height, width, labels]), outputSize));
  }

  /** Nothing to release: the refiner holds no tensors. */
  dispose(): void {}
}

/** Registry spec of {@link DenseCrf}. */
export const denseCrfSpec: RefinerSpec<DenseCrfArgs> = {
  id: DENSE_CRF_ID,
  summary: 'Fully connected CRF (Krähenbühl & Koltun), permutohedral lattice mean field with pydensecrf semantics.',
  differentiable: false,
  schema: denseCrfSchema,
  create: (args) => new DenseCrf(args),
};
