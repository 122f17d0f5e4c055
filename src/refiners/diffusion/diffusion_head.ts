/**
 * DiffusionHead: DifNet's cascaded random-walk diffusion (Jiang et al., "DifNet:
 * Semantic Segmentation by Diffusion Networks", NeurIPS 2018) as a tfjs layer.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs } from '../../core/config.js';
import { BATCH_NORM_EPSILON } from '../../core/batch_norm.js';
import { Sublayers } from '../../core/composite_layer.js';
import { ShapeError } from '../../core/errors.js';
import { adaptiveMaxPool } from '../../core/ops/adaptive_max_pool.js';
import type { Size2D } from '../../core/ops/resize.js';
import { RefinerLayer, splitLayerArgs, type NamedInputs, type RefinerCallKwargs, type RefinerInputRoles, type RefinerInputs } from '../../core/refiner.js';
import { ArgsObject, OutputSize, StringEnum, Type, type Static } from '../../core/schemas.js';
import { componentClassName, registerComponentClass } from '../../core/component_name.js';
import type { RefinerSpec } from '../../core/registry.js';
import { segmentationCrossEntropy } from '../../train/loss.js';
import { createInspection, type DiffusionInspection } from './inspection.js';
import { checkWalkMemory, randomWalk } from './random_walk.js';

/** The registry id: the `type` in configs, the prefix of argument errors, the tfjs class name `segrefine>difnet`. */
const DIFNET_ID = 'difnet';

/** Schema of {@link DiffusionHeadArgs}: the arguments, their rules and defaults, declared once. */
const diffusionHeadArgs = ArgsObject({
  /**
   * Number of cascaded random walks; the head takes one pyramid level per walk.
   */
  walks: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, default: 5 })),
  /**
   * Dimension d of the node embeddings Ψ_t.
   */
  embeddingDim: Type.Optional(Type.Integer({ minimum: 1, default: 64 })),
  /**
   * Learn the importance map M = H(x) (seed s = M ⊙ x); off: s = x.
   */
  importance: Type.Optional(Type.Boolean({ default: true })),
  /**
   * Output `[height, width]`; null keeps the scores' size.
   */
  outputSize: OutputSize({ default: null }),
  /**
   * Initial raw α_t (μ_t = σ(−α_t)). The default 2 starts μ at 0.12, so an
   * untrained head stays close to the identity on its seed; 0 gives μ = 0.5
   * as in the reference.
   */
  initialAlpha: Type.Optional(Type.Number({ default: 2 })),
  /**
   * Initial raw b_t (β_t = σ(b_t)); 0 gives β = 0.5 as in the reference.
   */
  initialBeta: Type.Optional(Type.Number({ default: 0 })),
  /**
   * Initial bias of the importance net's last convolution: M = H(x) starts
   * near σ(initialImportance). The default 3 starts M near 0.95 (the seed
   * keeps the scores' scale); 0 gives M ≈ 0.5 as in the reference.
   */
  initialImportance: Type.Optional(Type.Number({ default: 3 })),
  /**
   * Learning-rate multiplier of the gates α_t and b_t: they are stored
   * divided by `gateRate`, so an optimiser step moves them `gateRate` times
   * as far as a convolution weight (as DeepLab multiplies the learning rate
   * of new layers): μ_t and β_t are one scalar per walk and barely move in a
   * short training run without it. 1 = no multiplier, as in the reference.
   */
  gateRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000, default: 1 })),
  /**
   * Weight of an auxiliary cross-entropy on the scores the head receives
   * (the seed branch's logits), added by `train()`: deep supervision, so a
   * seed branch trained end to end learns from the labels directly and not
   * only through the walks' mixing (see the DifNet page, "Why DifNet-18 can
   * trail Sim-DeepLab-18"). 0 = the reference's single loss on the output.
   */
  seedLossWeight: Type.Optional(Type.Number({ minimum: 0, default: 0 })),
  /**
   * Seed of the convolution initialisers (Glorot uniform).
   */
  seed: Type.Optional(Type.Integer({ default: 0 })),
  /**
   * How each walk computes P·y (see `randomWalk`): `auto` streams P in row
   * blocks once it would be large, `materialized` / `blocked` force a path.
   * `materialized` is refused (a `ConfigError`, before anything runs) when P
   * `[B, N, N]` would exceed `MATERIALIZED_MAX_BYTES` (256 MiB: N ≤ 8192
   * nodes at B = 1).
   */
  walkPath: Type.Optional(StringEnum(['auto', 'materialized', 'blocked'], { default: 'auto' })),
});

/**
 * Arguments of {@link DiffusionHead}.
 * @interface
 */
export type DiffusionHeadArgs = Static<typeof diffusionHeadArgs>;

/** The parsed, complete arguments. */
type ResolvedArgs = Required<DiffusionHeadArgs>;

/** Schema of {@link DiffusionHeadArgs}. */
export const diffusionHeadSchema = compileArgs(DIFNET_ID, diffusionHeadArgs);

/** Per-walk embedding branch: Ψ_t = maxPoolTo(h, w)(BN(conv1×1(f_t))). */
interface EmbeddingBranch {
  conv: tf.layers.Layer;
  norm: tf.layers.Layer;
}

/** Intermediates of one forward pass (tensors owned by the caller). */
export interface DiffusionTrace {
  /** Importance map M `[B, h, w, 1]` (ones when importance is off). */
  importance: tf.Tensor4D;
  /** Seed s = M ⊙ x `[B, h, w, K]`. */
  seed: tf.Tensor4D;
  /** Node embeddings Ψ_t `[B, N, d]`, one per walk. */
  embeddings: tf.Tensor3D[];
  /** Walk outputs y_1..y_T `[B, h, w, K]`. */
  walks: tf.Tensor4D[];
}

/**
 * DifNet's diffusion head (`refinerId: 'difnet'`). Inputs
 * `[scores, ...features]` with one feature level per walk (the reference feeds
 * walk 1 the image and walks 2..5 the four stages of a similarity ResNet).
 *
 * seed `s = H(x) ⊙ x`; per walk `Ψ_t = maxPoolTo(h, w)(BN(conv1×1(f_t)))`,
 * `P_t = softmax_rows(Ψ_t Ψ_tᵀ)`,
 * `y_{t+1} = (1 − β_t)(μ_t P_t y_t + (1 − μ_t) s) + β_t y_t`, `y_0 = s`,
 * `μ_t = σ(−α_t)`, `β_t = σ(b_t)`. Output: y_T resized to `outputSize`.
 */
export class DiffusionHead extends RefinerLayer {
  /** tfjs serialization name. */
  static readonly className = componentClassName(DIFNET_ID);
  /** Registry name. */
  readonly refinerId = DIFNET_ID;
  private readonly args: ResolvedArgs;
  private readonly sublayers = new Sublayers();
  private importanceNet: tf.layers.Layer[] = [];
  private branches: EmbeddingBranch[] = [];
  private alpha?: tf.LayerVariable;
  private beta?: tf.LayerVariable;
  private numClasses?: number;
  private featureChannels: number[] = [];
  /** The scores of the last training-mode pass, for the seed loss. */
  private keptScores: tf.Tensor4D | undefined;

  /** @param args - see {@link DiffusionHeadArgs} (plus tfjs layer args such as `name`) */
  constructor(args: DiffusionHeadArgs = {}) {
    const { layerArgs, own } = splitLayerArgs(args);
    super(layerArgs);
    this.args = parseArgs(diffusionHeadSchema, own) as ResolvedArgs;
  }

  /** Takes the scores and one pyramid level per walk. */
  inputRoles(): RefinerInputRoles {
    return { features: this.args.walks, image: false };
  }

  /** Number of walks T. */
  get walks(): number {
    return this.args.walks;
  }

  protected configuredOutputSize(): Size2D | undefined {
    return this.args.outputSize ?? undefined;
  }

  private initializer(offset: number): ReturnType<typeof tf.initializers.glorotUniform> {
    return tf.initializers.glorotUniform({ seed: this.args.seed * 1000 + offset });
  }

  /** Creates the importance net, the embedding branches and α, b. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = this.fromInputList(inputShape as tf.Shape[]);
    const classes = shapes.scores[3];
    if (classes === null || classes === undefined) throw new ShapeError('inputs.scores', 'must have a known channel count K', shapes.scores);
    this.numClasses = classes;
    if (this.args.importance) {
      // H (reference): BN → ReLU → conv5×5(K→8) → BN → ReLU → conv5×5(8→4) → BN → ReLU → conv5×5(4→1) → sigmoid.
      const widths = [classes, 8, 4];
      const outputs = [8, 4, 1];
      this.importanceNet = widths.flatMap((width, i) => {
        const norm = this.sublayers.add(tf.layers.batchNormalization({ name: `importance_bn${i + 1}`, epsilon: BATCH_NORM_EPSILON }), [null, 1, 1, width]);
        const conv = this.sublayers.add(
          tf.layers.conv2d({
            name: `importance_conv${i + 1}`,
            filters: outputs[i]!,
            kernelSize: 5,
            padding: 'same',
            kernelInitializer: this.initializer(i),
            // The last conv's bias sets where M starts (σ(initialImportance)).
            biasInitializer: tf.initializers.constant({ value: i === widths.length - 1 ? this.args.initialImportance : 0 }),
          }),
          [null, 1, 1, width],
        );
        return [norm, conv];
      });
    }
    this.featureChannels = shapes.features.map((shape, t) => {
      const channels = shape[3];
      if (channels === null || channels === undefined) throw new ShapeError(`inputs.features[${t}]`, 'must have a known channel count', shape);
      return channels;
    });
    this.branches = this.featureChannels.map((channels, t) => {
      const conv = this.sublayers.add(
        tf.layers.conv2d({ name: `embed${t + 1}_conv`, filters: this.args.embeddingDim, kernelSize: 1, kernelInitializer: this.initializer(10 + t) }),
        [null, 1, 1, channels],
      );
      const norm = this.sublayers.add(tf.layers.batchNormalization({ name: `embed${t + 1}_bn`, epsilon: BATCH_NORM_EPSILON }), [null, 1, 1, this.args.embeddingDim]);
      return { conv, norm };
    });
    // Stored divided by gateRate (a learning-rate multiplier); alphaValues()/betaValues() undo it.
    this.alpha = this.addWeight('alpha', [this.args.walks], 'float32', tf.initializers.constant({ value: this.args.initialAlpha / this.args.gateRate }));
    this.beta = this.addWeight('beta', [this.args.walks], 'float32', tf.initializers.constant({ value: this.args.initialBeta / this.args.gateRate }));
    this.built = true;
  }

  /** The importance net's and the embedding branches' layers: their weights are the head's. */
  protected override nestedLayers(): readonly tf.layers.Layer[] {
    return this.sublayers.layers;
  }

  /** μ_t = σ(−α_t) for every walk, as numbers. */
  mu(): number[] {
    this.assertBuilt();
    return Array.from(tf.tidy(() => tf.sigmoid(tf.neg(this.alphaValues())).dataSync()));
  }

  /** β_t = σ(b_t) for every walk, as numbers. */
  betaWeights(): number[] {
    this.assertBuilt();
    return Array.from(tf.tidy(() => tf.sigmoid(this.betaValues()).dataSync()));
  }

  /** α_t (the stored weight times gateRate). */
  private alphaValues(): tf.Tensor1D {
    return tf.mul(this.alpha!.read(), this.args.gateRate) as tf.Tensor1D;
  }

  /** b_t (the stored weight times gateRate). */
  private betaValues(): tf.Tensor1D {
    return tf.mul(this.beta!.read(), this.args.gateRate) as tf.Tensor1D;
  }

  private assertBuilt(): void {
    if (!this.built || this.alpha === undefined) throw new ShapeError('DiffusionHead', 'must be built (apply it once) before reading its weights', 'unbuilt layer');
  }

  /** The base checks, then the walk's memory: an explicit `'materialized'` path whose P would exceed the budget is refused before anything runs. */
  protected override validateInputs(inputs: NamedInputs<tf.Tensor>, checkValues: boolean): void {
    super.validateInputs(inputs, checkValues);
    const [batch, h, w] = inputs.scores.shape as [number, number, number, number];
    checkWalkMemory(this.args.walkPath, batch, h * w, `${DIFNET_ID}/walkPath`, `inputs.scores [${inputs.scores.shape.join(', ')}]`);
  }

  private checkChannels(inputs: RefinerInputs): void {
    if (inputs.scores.shape[3] !== this.numClasses) {
      throw new ShapeError('inputs.scores', `must have K = ${this.numClasses} channels (the head was built for it)`, inputs.scores);
    }
    (inputs.features ?? []).forEach((f, t) => {
      if (f.shape[3] !== this.featureChannels[t]) {
        throw new ShapeError(`inputs.features[${t}]`, `must have ${this.featureChannels[t]} channels (the head was built for it)`, f);
      }
    });
  }

  /**
   * Runs the head and keeps every intermediate (for {@link DiffusionHead.inspect}
   * and the forward pass). Tensors are owned by the caller.
   */
  trace(inputs: RefinerInputs, training = false): DiffusionTrace {
    this.checkChannels(inputs);
    const { scores } = inputs;
    const [batch, h, w, classes] = scores.shape;
    const nodes = h * w;
    return tf.tidy(() => {
      let importance: tf.Tensor4D;
      if (this.args.importance) {
        let x: tf.Tensor4D = scores;
        this.importanceNet.forEach((layer, i) => {
          x = layer.apply(x, { training }) as tf.Tensor4D;
          if (i % 2 === 0) x = tf.relu(x); // after each BN
        });
        importance = tf.sigmoid(x);
      } else {
        importance = tf.ones([batch, h, w, 1]);
      }
      const seed = tf.mul(importance, scores) as tf.Tensor4D;
      const seedNodes = tf.reshape(seed, [batch, nodes, classes]) as tf.Tensor3D;
      const embeddings = this.branches.map(({ conv, norm }, t) => {
        const projected = norm.apply(conv.apply(inputs.features![t]!), { training }) as tf.Tensor4D;
        return tf.reshape(adaptiveMaxPool(projected, [h, w]), [batch, nodes, this.args.embeddingDim]) as tf.Tensor3D;
      });
      const mus = tf.sigmoid(tf.neg(this.alphaValues()));
      const betas = tf.sigmoid(this.betaValues());
      const walks: tf.Tensor4D[] = [];
      let y = seedNodes;
      embeddings.forEach((embedding, t) => {
        const mu = tf.reshape(tf.slice(mus, [t], [1]), []) as tf.Scalar;
        const beta = tf.reshape(tf.slice(betas, [t], [1]), []) as tf.Scalar;
        y = randomWalk({ y, seed: seedNodes, embedding, mu, beta, path: this.args.walkPath });
        walks.push(tf.reshape(y, [batch, h, w, classes]) as tf.Tensor4D);
      });
      return { importance, seed, embeddings, walks };
    });
  }

  /**
   * Everything DifNet's figures show, from one inference pass: the importance
   * map M, the influence map E = Σ_k |x_k|, the seed, every walk output y_t,
   * the learned μ_t and β_t, and `transitionRows(t, nodes)` — rows of P_t on
   * the seed's grid. Call `dispose()` on the result; nothing else is kept.
   * @param inputs - scores and one feature level per walk
   * @param options - `checkFinite: false` to skip the NaN/Inf check
   */
  inspect(inputs: RefinerInputs, options: { checkFinite?: boolean } = {}): DiffusionInspection {
    const list = this.toInputList(inputs);
    this.validateInputs(this.fromInputList(list), options.checkFinite ?? true);
    if (!this.built) tf.dispose(this.apply(list) as tf.Tensor);
    const trace = this.trace(inputs, false);
    return createInspection(inputs.scores, trace, this.mu(), this.betaWeights());
  }

  /** The seed loss on the last training-mode pass's scores (added by `train()`), or null. */
  override auxiliaryLoss(labels: tf.Tensor3D): tf.Scalar | null {
    const scores = this.keptScores;
    if (scores === undefined) return null;
    return tf.tidy(() => tf.mul(segmentationCrossEntropy(scores, labels, { checkLabels: false }), this.args.seedLossWeight) as tf.Scalar);
  }

  /** Drops the scores kept for the seed loss. */
  override releaseTrainingState(): void {
    this.keptScores?.dispose();
    this.keptScores = undefined;
  }

  protected forward(inputs: RefinerInputs, kwargs: RefinerCallKwargs): tf.Tensor4D {
    if (kwargs.training === true && this.args.seedLossWeight > 0) {
      this.releaseTrainingState();
      this.keptScores = tf.keep(inputs.scores);
    }
    const trace = this.trace(inputs, kwargs.training ?? false);
    const last = trace.walks[trace.walks.length - 1]!;
    return this.toOutputSize(last, kwargs.outputSize);
  }

  /** The constructor's args, for `model.save()`. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.args };
  }
}
registerComponentClass(DiffusionHead, ['SegrefineDiffusionHead']);

/** Registry spec of {@link DiffusionHead}. */
export const difnetSpec: RefinerSpec<DiffusionHeadArgs> = {
  id: DIFNET_ID,
  summary: "DifNet's cascaded random-walk diffusion (one feature level per walk).",
  differentiable: true,
  schema: diffusionHeadSchema,
  create: (args) => new DiffusionHead(args),
};
