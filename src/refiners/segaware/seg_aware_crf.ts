/**
 * SegAwareCrf (`refinerId: 'segaware-crf'`): the segmentation-aware CRF of
 * Harley et al. (2017, §3.3; the authors' `NormConvMeanfield` layer): mean
 * field whose messages are normalised window averages of Q under an
 * embedding kernel (dilated window) and a fixed spatial Gaussian kernel.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs, upgradeRenamedArgs } from '../../core/config.js';
import { ShapeError } from '../../core/errors.js';
import type { Size2D } from '../../core/ops/resize.js';
import { RefinerLayer, splitLayerArgs, type RefinerCallKwargs, type RefinerInputRoles, type RefinerInputs } from '../../core/refiner.js';
import { componentClassName, registerComponentClass } from '../../core/component_name.js';
import type { RefinerSpec } from '../../core/registry.js';
import { ArgsObject, OutputSize, StringEnum, Type, type Static } from '../../core/schemas.js';
import type { EmbeddingHead, LayerNameArgs } from './embedding_head.js';
import { buildGuidanceHead, createGuidanceHead, guidanceSchemaProperties, guidanceSources } from './guidance.js';
import { tapMajorMasks } from './local_masks.js';
import { maskedAverageRows, prepareMasks, type PreparedMasks } from './seg_aware_filter.js';
import { cropRows, flatLayout, tapOffset, toRows, windowGeometry, type FlatLayout, type WindowGeometry } from './window.js';
import { EmbeddingLossTerm } from './embedding_loss_term.js';

/** The registry id: the `type` in configs, the prefix of argument errors, the tfjs class name `segrefine>segaware-crf`. */
const SEGAWARE_CRF_ID = 'segaware-crf';

/** Schema of {@link SegAwareCrfArgs}: the arguments, their rules and defaults, declared once. */
const segAwareCrfArgs = ArgsObject({
  /**
   * Mean-field iterations.
   */
  iterations: Type.Optional(Type.Integer({ minimum: 1, maximum: 32, default: 2 })),
  /**
   * Side of the embedding kernel's window (odd).
   */
  kernelSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 63, default: 7 })),
  /**
   * Spacing between the embedding window's taps.
   */
  dilationRate: Type.Optional(Type.Integer({ minimum: 1, default: 2 })),
  /**
   * Side of the spatial kernel's window (odd, undilated).
   */
  spatialKernelSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 63, default: 5 })),
  /**
   * Width σ (pixels) of the fixed spatial kernel `exp(−|Δp|² / 2σ²)`.
   */
  spatialSigma: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 3 })),
  /**
   * Initial embedding-kernel sharpness λ (learned; the kernel uses |λ|).
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
 * Arguments of {@link SegAwareCrf}.
 * @interface
 */
export type SegAwareCrfArgs = Static<typeof segAwareCrfArgs>;

/** The parsed, complete arguments. */
type ResolvedArgs = Required<Omit<SegAwareCrfArgs, 'outputSize'>> & { outputSize: Size2D | null };

/** Schema of {@link SegAwareCrfArgs}. */
export const segAwareCrfSchema = compileArgs(SEGAWARE_CRF_ID, segAwareCrfArgs, { renamed: { dilation: 'dilationRate', lambdaInit: 'initialLambda', norm: 'distance' } });

/** Softmax over the channels of channels-first rows `[K, L]`. */
function softmaxRows(rows: tf.Tensor2D): tf.Tensor2D {
  return tf.transpose(tf.softmax(tf.transpose(rows)));
}

/**
 * Segmentation-aware mean-field CRF on the scores (`refinerId: 'segaware-crf'`).
 *
 * Inputs `[scores, ...features, image?]` as for {@link SegAwareBilateral}.
 * With unary energies `U = −scores` and `Q_0 = softmax(scores)`, each iteration
 * `Q ← softmax(−U − μ·(W_e·Ẽ(Q) + W_s·S̃(Q)))`, where `Ẽ(Q)_i` averages `Q_j` over
 * the dilated k×k window with weights `exp(−|λ|·‖e_i − e_j‖₁)` and `S̃(Q)_i`
 * over the `spatialKernelSize` window with `exp(−|Δp|²/2σ²)`; both averages
 * are normalised by their weight sums and leave out the pixel itself and
 * out-of-image neighbours (the reference's `remove_center`/`remove_bounds`).
 * μ (class compatibility), W_e and W_s are learned K×K matrices initialised,
 * as in the reference, to −I, I and I. The output is the last iteration's
 * logits `scores − μ·(…)` (before the softmax), resized to the output size.
 *
 * Sign convention: the reference computes `unary − μ·message` with unary =
 * the scores, so μ = −I *adds* each class's own message, which makes
 * neighbours agree. This is Potts: `μ = 1 − I` gives `scores − Σ_l' msg_l' + msg_l`,
 * and the first term is the same for every label, so the softmax is unchanged.
 */
export class SegAwareCrf extends RefinerLayer {
  /** tfjs serialization name. */
  static readonly className = componentClassName(SEGAWARE_CRF_ID);

  /** Reloads models saved before an argument was renamed (the naming table of docs/concepts.md). */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(upgradeRenamedArgs(segAwareCrfSchema, config));
  }
  /** Registry name. */
  readonly refinerId = SEGAWARE_CRF_ID;
  private readonly args: ResolvedArgs;
  private readonly embeddingWindow: WindowGeometry;
  private readonly spatialWindow: WindowGeometry;
  private readonly head: EmbeddingHead;
  private lambdaWeight?: tf.LayerVariable;
  private compatibility?: tf.LayerVariable;
  private readonly embeddingLossTerm = new EmbeddingLossTerm();
  private embeddingWeight?: tf.LayerVariable;
  private spatialWeight?: tf.LayerVariable;
  private numClasses?: number;

  /** @param args - see {@link SegAwareCrfArgs} and {@link LayerNameArgs} */
  constructor(args: SegAwareCrfArgs & LayerNameArgs = {}) {
    const { layerArgs, own } = splitLayerArgs(args);
    super(layerArgs);
    this.args = parseArgs(segAwareCrfSchema, own) as ResolvedArgs;
    this.embeddingWindow = windowGeometry(this.args.kernelSize, this.args.dilationRate, `${SEGAWARE_CRF_ID}/`);
    this.spatialWindow = windowGeometry(this.args.spatialKernelSize, 1, `${SEGAWARE_CRF_ID}/`, 'spatialKernelSize');
    this.head = createGuidanceHead(this.args, SEGAWARE_CRF_ID);
  }

  /** Takes the scores, `featureLevels` pyramid levels and (with `useImage`) the image. */
  inputRoles(): RefinerInputRoles {
    return { features: this.args.featureLevels, image: this.args.useImage };
  }

  protected configuredOutputSize(): Size2D | undefined {
    return this.args.outputSize ?? undefined;
  }

  /** Builds the embedding head, λ and the K×K matrices μ, W_e, W_s. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = this.fromInputList(inputShape as tf.Shape[]);
    const classes = shapes.scores[3];
    if (classes === null || classes === undefined) throw new ShapeError('inputs.scores', 'must have a known channel count K', shapes.scores);
    this.numClasses = classes;
    buildGuidanceHead(this.head, shapes);
    this.lambdaWeight = this.addWeight('lambda', [1], 'float32', tf.initializers.constant({ value: this.args.initialLambda }));
    this.compatibility = this.addWeight('compatibility', [classes, classes], 'float32', tf.initializers.identity({ gain: -1 }));
    this.embeddingWeight = this.addWeight('embedding_kernel_weight', [classes, classes], 'float32', tf.initializers.identity({ gain: 1 }));
    this.spatialWeight = this.addWeight('spatial_kernel_weight', [classes, classes], 'float32', tf.initializers.identity({ gain: 1 }));
    this.built = true;
  }

  /** The embedding head: its weights are the refiner's. */
  protected override nestedLayers(): readonly tf.layers.Layer[] {
    return [this.head];
  }

  /** The current embedding-kernel sharpness |λ|. */
  lambda(): number {
    if (this.lambdaWeight === undefined) return Math.abs(this.args.initialLambda);
    return Math.abs(this.lambdaWeight.read().dataSync()[0]!);
  }

  /**
   * The embeddings `[B, h, w, D]` of the embedding kernel, at the scores'
   * resolution (for `embeddingLoss`). Builds the layer on first use; the
   * caller owns the result.
   * @param inputs - the same inputs as {@link SegAwareCrf.refine}
   */
  embed(inputs: RefinerInputs): tf.Tensor4D {
    const list = this.toInputList(inputs);
    this.validateInputs(this.fromInputList(list), false);
    if (!this.built) tf.dispose(this.apply(list) as tf.Tensor);
    return this.head.embed(guidanceSources(inputs), [inputs.scores.shape[1], inputs.scores.shape[2]]);
  }

  /** Normalised spatial-kernel masks for one layout (constant: no gradient). */
  private spatialMasks(layout: FlatLayout): PreparedMasks {
    const window = this.spatialWindow;
    const twoSigmaSq = 2 * this.args.spatialSigma * this.args.spatialSigma;
    const weights = Array.from({ length: window.taps }, (_, t) => {
      const [dy, dx] = tapOffset(window, t);
      return Math.exp(-(dy * dy + dx * dx) / twoSigmaSq);
    });
    const spatialLayout = flatLayout(window, layout.height, layout.width, layout.columnPad);
    const rows = weights.map((weight) => tf.fill([1, spatialLayout.length], weight) as tf.Tensor2D);
    const prepared = prepareMasks(rows, spatialLayout, true);
    tf.dispose(rows);
    return prepared;
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
    if (scores.shape[3] !== this.numClasses) {
      throw new ShapeError('inputs.scores', `must have K = ${this.numClasses} channels (the layer was built for it)`, scores);
    }
    const [, height, width] = scores.shape;
    const columnPad = Math.max(this.embeddingWindow.radius, this.spatialWindow.radius);
    const layout = flatLayout(this.embeddingWindow, height, width, columnPad);
    const embedding = this.head.embed(guidanceSources(inputs), [height, width]);
    if (kwargs.training === true) this.embeddingLossTerm.keep(embedding);
    const masks = tapMajorMasks(embedding, this.embeddingWindow, tf.abs(this.lambdaWeight!.read()), this.args.distance, true, columnPad);
    const spatial = this.spatialMasks(layout);
    const mu = this.compatibility!.read();
    const wEmbedding = this.embeddingWeight!.read();
    const wSpatial = this.spatialWeight!.read();
    const logits = toRows(scores, layout).map((unary, b) => {
      const embeddingMasks = prepareMasks(masks.items[b]!, masks.layout, true);
      let q = softmaxRows(unary);
      let out = unary;
      for (let i = 0; i < this.args.iterations; i++) {
        const message = tf.add(tf.matMul(wEmbedding, maskedAverageRows(q, embeddingMasks)), tf.matMul(wSpatial, maskedAverageRows(q, spatial)));
        out = tf.sub(unary, tf.matMul(mu, message));
        q = softmaxRows(out);
      }
      return out;
    });
    return this.toOutputSize(cropRows(logits, layout), kwargs.outputSize);
  }

  /** The constructor's args, for `model.save()`. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.args };
  }
}
registerComponentClass(SegAwareCrf, ['SegrefineSegAwareCrf']);

/** Registry spec of {@link SegAwareCrf}. */
export const segAwareCrfSpec: RefinerSpec<SegAwareCrfArgs> = {
  id: SEGAWARE_CRF_ID,
  summary: 'Segmentation-aware CRF: mean field with an embedding kernel in a dilated window plus a spatial kernel (Harley et al. 2017).',
  differentiable: true,
  schema: segAwareCrfSchema,
  create: (args) => new SegAwareCrf(args),
};
