/**
 * `ConvCrf` (`refinerId: 'conv-crf'`): the convolutional CRF of Teichmann &
 * Cipolla (2018) — the dense CRF's mean field with each Gaussian kernel
 * truncated to a k×k window, optionally on a grid downsampled by `downsample`,
 * in differentiable tfjs ops with learnable kernel weights and a learnable
 * label compatibility matrix (the math is in the CRF guide, `docs/refiners/crf.md`).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs, type JSONSchemaType } from '../../core/config.js';
import { ConfigError, ShapeError } from '../../core/errors.js';
import type { Size2D } from '../../core/ops/resize.js';
import { RefinerLayer, splitLayerArgs, type RefinerCallKwargs, type RefinerInputRoles, type RefinerInputs } from '../../core/refiner.js';
import type { RefinerSpec } from '../../core/registry.js';
import { outputSizeSchema } from '../../core/schemas.js';
import { convCrfMeanField, type ConvCrfConfig } from './conv_crf_ops.js';
import {
  bilateralKernelSchema,
  clipSchema,
  gaussianKernelSchema,
  normalizationSchema,
  resolveKernels,
  type BilateralKernelParams,
  type CrfNormalization,
  type GaussianKernelParams,
  type ResolvedKernel,
} from './params.js';

/** Arguments of {@link ConvCrf}. */
export interface ConvCrfArgs {
  /**
   * Mean-field iterations.
   * @defaultValue 5
   */
  iterations?: number;
  /**
   * Window side k (odd): messages reach (k−1)/2 grid cells in each direction.
   * @defaultValue 7
   */
  kernelSize?: number;
  /**
   * Messages are computed on a grid pooled by this factor and upsampled back (ConvCRF's "blur").
   * @defaultValue 1
   */
  downsample?: number;
  /**
   * Smoothness kernel; its `compat` initialises the learnable weight. Null disables it.
   * @defaultValue `{ sxy: 3, compat: 3 }`
   */
  pos?: GaussianKernelParams | null;
  /**
   * Appearance kernel; its `compat` initialises the learnable weight. Null disables it.
   * @defaultValue `{ sxy: 80, srgb: 13, compat: 10 }`
   */
  bilateral?: BilateralKernelParams | null;
  /**
   * Kernel normalisation over the window.
   * @defaultValue 'symmetric'
   */
  normalization?: CrfNormalization;
  /**
   * Probabilities are clipped to [clip, 1] before the unary −log p.
   * @defaultValue 1e-5
   */
  clip?: number;
  /**
   * Output `[height, width]`; null keeps the scores' size (the CRF itself runs at the image's size).
   * @defaultValue null
   */
  outputSize?: Size2D | null;
}

const convCrfSchema = compileArgs<ConvCrfArgs>('ConvCrfArgs', {
  type: 'object',
  properties: {
    iterations: { type: 'integer', minimum: 0, default: 5 },
    kernelSize: { type: 'integer', minimum: 1, default: 7 },
    downsample: { type: 'integer', minimum: 1, default: 1 },
    pos: gaussianKernelSchema,
    bilateral: bilateralKernelSchema,
    normalization: normalizationSchema,
    clip: clipSchema,
    outputSize: outputSizeSchema,
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<ConvCrfArgs>);

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
  static readonly className = 'SegrefineConvCrf';
  /** Registry name. */
  readonly refinerId = 'conv-crf';
  private readonly args: Required<ConvCrfArgs>;
  private readonly kernels: ResolvedKernel[];
  private kernelWeights: tf.LayerVariable[] = [];
  private compatibility?: tf.LayerVariable;

  /** @param args - see {@link ConvCrfArgs} (plus tfjs layer args such as `name`) */
  constructor(args: ConvCrfArgs = {}) {
    const { layerArgs, own } = splitLayerArgs(args);
    super(layerArgs);
    const parsed = parseArgs(convCrfSchema, own);
    if (parsed.kernelSize! % 2 === 0) throw new ConfigError('ConvCrfArgs/kernelSize', 'must be odd', parsed.kernelSize);
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
tf.serialization.registerClass(ConvCrf);

/** Registry spec of {@link ConvCrf}. */
export const convCrfSpec: RefinerSpec<ConvCrfArgs> = {
  id: 'conv-crf',
  summary: 'Convolutional CRF (Teichmann & Cipolla): windowed mean field in tfjs ops, learnable kernel weights and compatibility.',
  differentiable: true,
  schema: convCrfSchema,
  create: (args) => new ConvCrf(args),
};
