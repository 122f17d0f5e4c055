/**
 * SegAwareBilateral (`refinerId: 'segaware-bf'`): the segmentation-aware
 * bilateral filter of Harley et al. (2017, Eq. 4) as a refiner. Embeddings
 * from the pyramid (and optionally the image) give local attention masks with
 * a learned sharpness λ, and the scores are averaged under those masks,
 * `repeats` times.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs, upgradeRenamedArgs } from '../../core/config.js';
import type { Size2D } from '../../core/ops/resize.js';
import { RefinerLayer, splitLayerArgs, type RefinerCallKwargs, type RefinerInputRoles, type RefinerInputs } from '../../core/refiner.js';
import { componentClassName, registerComponentClass } from '../../core/component_name.js';
import type { RefinerSpec } from '../../core/registry.js';
import { ArgsObject, OutputSize, StringEnum, Type, type Static } from '../../core/schemas.js';
import type { EmbeddingHead, LayerNameArgs } from './embedding_head.js';
import { buildGuidanceHead, createGuidanceHead, guidanceSchemaProperties, guidanceSources } from './guidance.js';
import { tapMajorMasks } from './local_masks.js';
import { prepareBatch, repeatedMaskedAverage } from './seg_aware_filter.js';
import { windowGeometry, type WindowGeometry } from './window.js';
import { EmbeddingLossTerm } from './embedding_loss_term.js';

/** The registry id: the `type` in configs, the prefix of argument errors, the tfjs class name `segrefine>segaware-bf`. */
const SEGAWARE_BF_ID = 'segaware-bf';

/** Schema of {@link SegAwareBilateralArgs}: the arguments, their rules and defaults, declared once. */
const segAwareBilateralArgs = ArgsObject({
  /**
   * Window side k (odd).
   */
  kernelSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 63, default: 9 })),
  /**
   * Spacing between window taps, in pixels.
   */
  dilationRate: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  /**
   * Applications of the filter, all with the same masks.
   */
  repeats: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, default: 1 })),
  /**
   * Initial mask sharpness λ (learned; the masks use |λ|).
   */
  initialLambda: Type.Optional(Type.Number({ minimum: 0, default: 2 })),
  /**
   * Embedding distance (`'l1'` Σ|Δ|, `'l2'` ½ΣΔ²).
   */
  distance: Type.Optional(StringEnum(['l1', 'l2'], { default: 'l1' })),
  /**
   * Output `[height, width]`; null keeps the scores' size.
   */
  outputSize: OutputSize({ default: null }),
  ...guidanceSchemaProperties,
});

/**
 * Arguments of {@link SegAwareBilateral}.
 * @interface
 */
export type SegAwareBilateralArgs = Static<typeof segAwareBilateralArgs>;

/** The parsed, complete arguments. */
type ResolvedArgs = Required<Omit<SegAwareBilateralArgs, 'outputSize'>> & { outputSize: Size2D | null };

/** Schema of {@link SegAwareBilateralArgs}. */
export const segAwareBilateralSchema = compileArgs(SEGAWARE_BF_ID, segAwareBilateralArgs, { renamed: { dilation: 'dilationRate', lambdaInit: 'initialLambda', norm: 'distance' } });

/**
 * Segmentation-aware bilateral filter on the scores (`refinerId: 'segaware-bf'`).
 *
 * Inputs `[scores, ...features, image?]`: `featureLevels` pyramid levels
 * (default 1, the finest) and, with `useImage`, the RGB image, all feeding an
 * {@link EmbeddingHead} that makes D-dimensional embeddings at the scores'
 * resolution. Masks `m_ij = exp(−|λ|·‖e_i − e_j‖₁)` over the k×k dilated window
 * (out-of-image neighbours excluded), then
 * `y_i = Σ_j m_ij x_j / Σ_j m_ij` applied `repeats` times with the same masks,
 * then resized to the output size. λ is learned; its absolute value is used,
 * as the authors' code takes `AbsVal` of the scaled distance.
 */
export class SegAwareBilateral extends RefinerLayer {
  /** tfjs serialization name. */
  static readonly className = componentClassName(SEGAWARE_BF_ID);

  /** Reloads models saved before an argument was renamed (the naming table of docs/concepts.md). */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(upgradeRenamedArgs(segAwareBilateralSchema, config));
  }
  /** Registry name. */
  readonly refinerId = SEGAWARE_BF_ID;
  private readonly args: ResolvedArgs;
  private readonly geometry: WindowGeometry;
  private readonly head: EmbeddingHead;
  private lambdaWeight?: tf.LayerVariable;
  private readonly embeddingLossTerm = new EmbeddingLossTerm();

  /** @param args - see {@link SegAwareBilateralArgs} and {@link LayerNameArgs} */
  constructor(args: SegAwareBilateralArgs & LayerNameArgs = {}) {
    const { layerArgs, own } = splitLayerArgs(args);
    super(layerArgs);
    this.args = parseArgs(segAwareBilateralSchema, own) as ResolvedArgs;
    this.geometry = windowGeometry(this.args.kernelSize, this.args.dilationRate, `${SEGAWARE_BF_ID}/`);
    this.head = createGuidanceHead(this.args, SEGAWARE_BF_ID);
  }

  /** Takes the scores, `featureLevels` pyramid levels and (with `useImage`) the image. */
  inputRoles(): RefinerInputRoles {
    return { features: this.args.featureLevels, image: this.args.useImage };
  }

  protected configuredOutputSize(): Size2D | undefined {
    return this.args.outputSize ?? undefined;
  }

  /** Builds the embedding head and λ. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    buildGuidanceHead(this.head, this.fromInputList(inputShape as tf.Shape[]));
    this.lambdaWeight = this.addWeight('lambda', [1], 'float32', tf.initializers.constant({ value: this.args.initialLambda }));
    this.built = true;
  }

  /** The embedding head: its weights are the refiner's. */
  protected override nestedLayers(): readonly tf.layers.Layer[] {
    return [this.head];
  }

  /** The current mask sharpness |λ|. */
  lambda(): number {
    if (this.lambdaWeight === undefined) return Math.abs(this.args.initialLambda);
    return Math.abs(this.lambdaWeight.read().dataSync()[0]!);
  }

  /**
   * The embeddings `[B, h, w, D]` the masks are made from, at the scores'
   * resolution: give them to `embeddingLoss` as an auxiliary loss.
   * Builds the layer on first use. The caller owns the result.
   * @param inputs - the same inputs as {@link SegAwareBilateral.refine}
   */
  embed(inputs: RefinerInputs): tf.Tensor4D {
    const list = this.toInputList(inputs);
    this.validateInputs(this.fromInputList(list), false);
    if (!this.built) tf.dispose(this.apply(list) as tf.Tensor);
    return this.head.embed(guidanceSources(inputs), [inputs.scores.shape[1], inputs.scores.shape[2]]);
  }

  /** The embedding loss on the last training-mode pass's embeddings (added by `train()`). */
  override auxiliaryLoss(labels: tf.Tensor3D): tf.Scalar | null {
    return this.embeddingLossTerm.loss(labels);
  }

  /** Drops the embeddings kept for the auxiliary loss. */
  override releaseTrainingState(): void {
    this.embeddingLossTerm.release();
  }

  protected forward(inputs: RefinerInputs, kwargs: RefinerCallKwargs): tf.Tensor4D {
    const { scores } = inputs;
    const embedding = this.head.embed(guidanceSources(inputs), [scores.shape[1], scores.shape[2]]);
    if (kwargs.training === true) this.embeddingLossTerm.keep(embedding);
    const lambda = tf.abs(this.lambdaWeight!.read());
    const masks = tapMajorMasks(embedding, this.geometry, lambda, this.args.distance);
    const filtered = repeatedMaskedAverage(scores, prepareBatch(masks), this.args.repeats);
    return this.toOutputSize(filtered, kwargs.outputSize);
  }

  /** The constructor's args, for `model.save()`. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.args };
  }
}
registerComponentClass(SegAwareBilateral, ['SegrefineSegAwareBilateral']);

/** Registry spec of {@link SegAwareBilateral}. */
export const segAwareBilateralSpec: RefinerSpec<SegAwareBilateralArgs> = {
  id: SEGAWARE_BF_ID,
  summary: 'Segmentation-aware bilateral filter: scores averaged under embedding masks (Harley et al. 2017).',
  differentiable: true,
  schema: segAwareBilateralSchema,
  create: (args) => new SegAwareBilateral(args),
};
