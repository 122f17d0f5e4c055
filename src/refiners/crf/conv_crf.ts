/**
 * `ConvCrf` (`refinerId: 'conv-crf'`): the convolutional CRF of Teichmann &
 * Cipolla (2018) — the dense CRF's mean field with each Gaussian kernel
 * truncated to a k×k window, optionally on a grid downsampled by `downsample`,
 * differentiable, with learnable kernel weights and a learnable label
 * compatibility matrix (the math is in the CRF guide, `docs/refiners/crf.md`).
 * The window steps run as fused WebAssembly SIMD kernels on the wasm and cpu
 * backends and as tfjs ops elsewhere (`conv_crf_ops.ts`).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs } from '../../core/config.js';
import { ConfigError, ShapeError } from '../../core/errors.js';
import type { Size2D } from '../../core/ops/resize.js';
import { RefinerLayer, splitLayerArgs, type NamedInputs, type RefinerCallKwargs, type RefinerInputRoles, type RefinerInputs } from '../../core/refiner.js';
import { componentClassName, registerComponentClass } from '../../core/component_name.js';
import type { RefinerSpec } from '../../core/registry.js';
import { ArgsObject, OutputSize, Type, type Static } from '../../core/schemas.js';
import { windowKernelsAvailable } from './conv_crf_frame.js';
import { convCrfMeanField, type ConvCrfConfig } from './conv_crf_ops.js';
import { convCrfImplementation, type ConvCrfImplementation } from './implementation.js';
import {
  bilateralKernelSchema,
  clipSchema,
  gaussianKernelSchema,
  normalizationSchema,
  resolveKernels,
  type ResolvedKernel,
} from './params.js';

/** The registry id: the `type` in configs, the prefix of argument errors, the tfjs class name `segrefine>conv-crf`. */
const CONV_CRF_ID = 'conv-crf';

/**
 * The most bytes one {@link ConvCrf} call may need by
 * {@link convCrfMemoryBytes}: 2³⁰ bytes = 1 GiB. Far beyond it the buffers
 * abort the wasm backend for the whole process, so a larger call is a
 * `ConfigError` before anything is allocated: use a smaller `kernelSize`, a
 * larger `downsample`, smaller images or batches, or the dense CRF
 * (`dense-crf`, whose permutohedral lattice needs no window). On the tfjs-ops
 * path a batch of 4 images of 128² with 4 classes at `kernelSize` 7 is near
 * the cap (k² shifted copies per step; its forward and backward pass peak
 * near 3 GB of process memory on wasm); the fused kernels need about a sixth
 * of that, so a call 6× larger fits.
 */
export const CONV_CRF_MAX_BYTES = 2 ** 30;

/**
 * Estimated tensor bytes of one ConvCrf forward pass with what its backward
 * pass keeps, for the implementation that will run.
 *
 * - `ops` (every intermediate of the mean field is held until it ends): per
 *   window tap, the kernels' features and weights on the pooled grid and, per
 *   iteration, the shifted probabilities and messages — about
 *   4·k²·B·⌈H/s⌉·⌈W/s⌉·(Σ_kernels (3·D + 8) + 2 + 2·iterations·K), plus the
 *   full-resolution unary and softmax. Measured peaks are within 1.2× of it.
 * - `fused` at `downsample` 1: no k² copies of the probabilities; about
 *   4·B·H·W·(16·iterations·K + k²·(1 + 3·kernels)) — the per-iteration
 *   tensors the backward pass keeps and the window kernel's planes. Measured
 *   forward + backward peaks are 0.90–0.98× of it in tensors and 0.8–1.15×
 *   in process memory (the kernels' own included) at 64²–256², K 4–21,
 *   k 5–15. With a `downsample` the `ops` estimate is used
 *   (it bounds the measured fused peaks there).
 * @param args - kernel size, iterations, downsample and kernels (defaults as {@link ConvCrf})
 * @param imageShape - `[B, H, W, 3]`
 * @param classes - K
 * @param implementation - the path that will run (default `ops`, the larger)
 */
export function convCrfMemoryBytes(
  args: Pick<ConvCrfArgs, 'kernelSize' | 'iterations' | 'downsample' | 'pos' | 'bilateral'>,
  imageShape: readonly number[],
  classes: number,
  implementation: ConvCrfImplementation = 'ops',
): number {
  const [batch = 1, height = 1, width = 1] = imageShape;
  const full = 4 * batch * height * width * classes * 4;
  const iterations = args.iterations ?? 5;
  const kernels = resolveKernels(args.pos, args.bilateral);
  if (iterations === 0 || kernels.length === 0) return full;
  const k = args.kernelSize ?? 7;
  const s = args.downsample ?? 1;
  if (implementation === 'fused' && s === 1) return 4 * batch * height * width * (16 * iterations * classes + k * k * (1 + 3 * kernels.length));
  const grid = batch * Math.ceil(height / s) * Math.ceil(width / s);
  const perTap = kernels.reduce((sum, kernel) => sum + 3 * (kernel.kind === 'pos' ? 2 : 5) + 8, 0) + 2 + 2 * iterations * classes;
  return 4 * k * k * grid * perTap + full * (1 + iterations);
}

/** Schema of {@link ConvCrfArgs}: the arguments, their rules and defaults, declared once. */
const convCrfArgs = ArgsObject({
  /**
   * Mean-field iterations.
   */
  iterations: Type.Optional(Type.Integer({ minimum: 0, default: 5 })),
  /**
   * Window side k (odd): messages reach (k−1)/2 grid cells in each direction.
   * A call whose k²·H·W·K buffers would exceed {@link CONV_CRF_MAX_BYTES}
   * (see {@link convCrfMemoryBytes}) is a `ConfigError`.
   */
  kernelSize: Type.Optional(Type.Integer({ minimum: 1, default: 7 })),
  /**
   * Messages are computed on a grid pooled by this factor and upsampled back (ConvCRF's "blur").
   */
  downsample: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  /**
   * Smoothness kernel; its `compat` initialises the learnable weight. Null disables it.
   */
  pos: gaussianKernelSchema,
  /**
   * Appearance kernel; its `compat` initialises the learnable weight. Null disables it.
   */
  bilateral: bilateralKernelSchema,
  /**
   * Kernel normalisation over the window.
   */
  normalization: normalizationSchema,
  /**
   * Probabilities are clipped to [clip, 1] before the unary −log p.
   */
  clip: clipSchema,
  /**
   * Output `[height, width]`; null keeps the scores' size (the CRF itself runs at the image's size).
   */
  outputSize: OutputSize({ default: null }),
});

/**
 * Arguments of {@link ConvCrf}.
 * @interface
 */
export type ConvCrfArgs = Static<typeof convCrfArgs>;

const convCrfSchema = compileArgs(CONV_CRF_ID, convCrfArgs);

/**
 * Convolutional CRF layer. Inputs `[scores, image]`: logits `[B, h, w, K]` and
 * RGB `[B, H, W, 3]` in [0, 1]. The scores are resized to the image, mean field
 * runs at the image's size, and the last iteration's logits are returned
 * (resized to the output size). Weights: one scalar per kernel
 * (`pos_weight`, `bilateral_weight`, initialised to the kernels' `compat`) and
 * the `[K, K]` `compatibility` matrix (initialised to the identity, which is
 * the Potts model up to a per-pixel constant).
 */
export class ConvCrf extends RefinerLayer {
  /** tfjs serialization name. */
  static readonly className = componentClassName(CONV_CRF_ID);
  /** Registry name. */
  readonly refinerId = CONV_CRF_ID;
  private readonly args: Required<ConvCrfArgs>;
  private readonly kernels: ResolvedKernel[];
  private kernelWeights: tf.LayerVariable[] = [];
  private compatibility?: tf.LayerVariable;

  /** @param args - see {@link ConvCrfArgs} (plus tfjs layer args such as `name`) */
  constructor(args: ConvCrfArgs = {}) {
    const { layerArgs, own } = splitLayerArgs(args);
    super(layerArgs);
    const parsed = parseArgs(convCrfSchema, own);
    if (parsed.kernelSize! % 2 === 0) throw new ConfigError(`${CONV_CRF_ID}/kernelSize`, 'must be odd', parsed.kernelSize);
    this.args = { ...parsed, outputSize: parsed.outputSize ?? null } as Required<ConvCrfArgs>;
    this.kernels = resolveKernels(this.args.pos, this.args.bilateral);
  }

  /** Takes the scores and the image. */
  inputRoles(): RefinerInputRoles {
    return { features: 0, image: true };
  }

  /** Creates the kernel weights and the `[K, K]` compatibility matrix. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    const labels = this.fromInputList(shapes).scores[3];
    if (labels === null || labels === undefined || labels < 2) throw new ShapeError('inputs.scores', 'must have a known number of classes ≥ 2 (last axis)', labels);
    this.kernelWeights = this.kernels.map((k) =>
      this.addWeight(`${k.kind}_weight`, [], 'float32', tf.initializers.constant({ value: k.compat })),
    );
    this.compatibility = this.addWeight('compatibility', [labels, labels], 'float32', tf.initializers.identity({ gain: 1 }));
    this.built = true;
  }

  protected configuredOutputSize(): Size2D | undefined {
    return this.args.outputSize ?? undefined;
  }

  /** The base checks, then the memory estimate: a call over {@link CONV_CRF_MAX_BYTES} is refused before anything runs. */
  protected override validateInputs(inputs: NamedInputs<tf.Tensor>, checkValues: boolean): void {
    super.validateInputs(inputs, checkValues);
    const image = inputs.image!.shape;
    const implementation = convCrfImplementation(tf.getBackend(), windowKernelsAvailable);
    const bytes = convCrfMemoryBytes(this.args, image, inputs.scores.shape[3]!, implementation);
    if (bytes > CONV_CRF_MAX_BYTES) {
      throw new ConfigError(
        `${CONV_CRF_ID}/kernelSize`,
        `is too large for inputs.image [${image.join(', ')}] with K = ${inputs.scores.shape[3]}: the mean field's window buffers (${implementation} path) would need about ${(bytes / 2 ** 20).toFixed(0)} MiB, over CONV_CRF_MAX_BYTES (${CONV_CRF_MAX_BYTES / 2 ** 20} MiB); use a smaller kernelSize, a larger downsample, smaller images or batches, or the dense CRF ('dense-crf')`,
        this.args.kernelSize,
      );
    }
  }

  protected forward(inputs: RefinerInputs, kwargs: RefinerCallKwargs): tf.Tensor4D {
    const scores = inputs.scores;
    const compatibility = this.compatibility!.read() as tf.Tensor2D;
    if (compatibility.shape[0] !== scores.shape[3]) {
      throw new ShapeError('inputs.scores', `must have the ${compatibility.shape[0]} classes this layer was built with`, scores);
    }
    const config: ConvCrfConfig = {
      iterations: this.args.iterations,
      kernelSize: this.args.kernelSize,
      downsample: this.args.downsample,
      kernels: this.kernels,
      normalization: this.args.normalization,
      clip: this.args.clip,
    };
    const logits = convCrfMeanField(scores, inputs.image!, this.kernelWeights.map((w) => w.read()), compatibility, config);
    return this.toOutputSize(logits, kwargs.outputSize ?? [scores.shape[1], scores.shape[2]]);
  }

  /** The constructor's args, for `model.save()`. */
  override getConfig(): tf.serialization.ConfigDict {
    const { iterations, kernelSize, downsample, pos, bilateral, normalization, clip, outputSize } = this.args;
    return {
      ...super.getConfig(),
      iterations,
      kernelSize,
      downsample,
      pos: pos === null ? null : { ...pos },
      bilateral: bilateral === null ? null : { ...bilateral },
      normalization,
      clip,
      outputSize,
    } as tf.serialization.ConfigDict;
  }
}
registerComponentClass(ConvCrf, ['SegrefineConvCrf']);

/** Registry spec of {@link ConvCrf}. */
export const convCrfSpec: RefinerSpec<ConvCrfArgs> = {
  id: CONV_CRF_ID,
  summary: 'Convolutional CRF (Teichmann & Cipolla): windowed mean field (fused SIMD window kernels or tfjs ops), learnable kernel weights and compatibility.',
  differentiable: true,
  schema: convCrfSchema,
  create: (args) => new ConvCrf(args),
};
