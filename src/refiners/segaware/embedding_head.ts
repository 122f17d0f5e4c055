/**
 * EmbeddingHead: per-pixel embeddings for the local attention masks, built
 * from pyramid levels (and optionally the image) as in the authors' network:
 * every source upsampled to one resolution, concatenated, fused by a 1×1
 * convolution into D = 64 channels (Harley et al. 2017, §3.1).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs, upgradeRenamedArgs } from '../../core/config.js';
import { CompositeLayer, Sublayers } from '../../core/composite_layer.js';
import { ConfigError, ShapeError } from '../../core/errors.js';
import { resizeBilinear, type Size2D } from '../../core/ops/resize.js';
import { splitLayerArgs } from '../../core/refiner.js';
import { ArgsObject, OutputSize, Type, type Static } from '../../core/schemas.js';

/** Schema of {@link EmbeddingHeadArgs}: the arguments, their rules and defaults, declared once. */
const embeddingHeadArgs = ArgsObject({
  /**
   * Embedding dimension D.
   */
  embeddingDim: Type.Optional(Type.Integer({ minimum: 1, default: 64 })),
  /**
   * Number of pyramid levels taken (the first inputs, fine → coarse).
   */
  featureLevels: Type.Optional(Type.Integer({ minimum: 0, maximum: 16, default: 1 })),
  /**
   * Whether the RGB image is taken too (as the last input).
   */
  useImage: Type.Optional(Type.Boolean({ default: false })),
  /**
   * Output `[height, width]`; null gives the first input's size.
   */
  outputSize: OutputSize({ default: null }),
  /**
   * Seed of the Glorot-uniform kernel initialisers.
   */
  seed: Type.Optional(Type.Integer({ default: 0 })),
});

/**
 * Arguments of {@link EmbeddingHead}.
 * @interface
 */
export type EmbeddingHeadArgs = Static<typeof embeddingHeadArgs>;

/** tfjs layer arguments the segmentation-aware layers accept beside their own. */
export interface LayerNameArgs {
  /** Layer name, unique within a model (tfjs makes one up when omitted). */
  name?: string;
  /** Whether the layer's weights train. */
  trainable?: boolean;
}

/** The parsed, complete arguments. */
type ResolvedHeadArgs = Required<Omit<EmbeddingHeadArgs, 'outputSize'>> & { outputSize: Size2D | null };

/** Schema of {@link EmbeddingHeadArgs}. */
export const embeddingHeadSchema = compileArgs('EmbeddingHeadArgs', embeddingHeadArgs, { renamed: { dim: 'embeddingDim', levels: 'featureLevels' } });

/**
 * Multi-scale embedding head (a `tf.layers.Layer`). `apply([...levels, image?])`
 * returns `[B, H, W, D]` at the first input's size (or `outputSize`).
 *
 * `e = Σ_l up(conv1×1_l(f_l)) (+ up(conv1×1_img(image))) + b`, which equals the
 * reference's `conv1×1(concat(up(f_l), …))`: a 1×1 convolution and bilinear
 * upsampling are both linear and commute, so each source is projected to D
 * channels at its own resolution first (cheaper than upsampling wide levels).
 * Each projection's kernel is Glorot-uniform for its own shape; one bias.
 */
export class EmbeddingHead extends CompositeLayer {
  /** tfjs serialization name. */
  static readonly className = 'SegrefineEmbeddingHead';

  /** Reloads models saved before an argument was renamed (the naming table of docs/concepts.md). */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(upgradeRenamedArgs(embeddingHeadSchema, config));
  }
  private readonly args: ResolvedHeadArgs;
  private readonly sublayers = new Sublayers();
  private projections: tf.layers.Layer[] = [];
  private sourceChannels: number[] = [];

  /** @param args - see {@link EmbeddingHeadArgs} and {@link LayerNameArgs} */
  constructor(args: EmbeddingHeadArgs & LayerNameArgs = {}) {
    const { layerArgs, own } = splitLayerArgs(args);
    super(layerArgs);
    this.args = parseArgs(embeddingHeadSchema, own) as ResolvedHeadArgs;
    if (this.args.featureLevels === 0 && !this.args.useImage) {
      throw new ConfigError('EmbeddingHeadArgs/featureLevels', 'must be >= 1 when useImage is false (the head needs a source)', 0);
    }
  }

  /** Number of inputs: the levels, then the image when taken. */
  get inputCount(): number {
    return this.args.featureLevels + (this.args.useImage ? 1 : 0);
  }

  /** Embedding dimension D. */
  get embeddingDim(): number {
    return this.args.embeddingDim;
  }

  private shapesOf(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    if (shapes.length !== this.inputCount) {
      throw new ShapeError('EmbeddingHead inputs', `must be ${this.args.featureLevels} level(s)${this.args.useImage ? ' and the image' : ''} (${this.inputCount} tensors)`, `${shapes.length} tensor(s)`);
    }
    return shapes;
  }

  /** Creates one 1×1 projection per source. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shapes = this.shapesOf(inputShape);
    this.sourceChannels = shapes.map((shape, i) => {
      const channels = shape[3];
      const name = i < this.args.featureLevels ? `inputs.features[${i}]` : 'inputs.image';
      if (channels === null || channels === undefined) throw new ShapeError(name, 'must have a known channel count', shape);
      return channels;
    });
    this.projections = this.sourceChannels.map((channels, i) =>
      this.sublayers.add(
        tf.layers.conv2d({
          name: i < this.args.featureLevels ? `level${i}_proj` : 'image_proj',
          filters: this.args.embeddingDim,
          kernelSize: 1,
          useBias: i === 0,
          kernelInitializer: tf.initializers.glorotUniform({ seed: this.args.seed * 1000 + i }),
        }),
        [null, 1, 1, channels],
      ),
    );
    this.built = true;
  }

  /** The projections: their weights are the head's. */
  protected override nestedLayers(): readonly tf.layers.Layer[] {
    return this.sublayers.layers;
  }

  /**
   * Embeddings `[B, H, W, D]` of `sources` at `size` (the layer must be built).
   * @param sources - the levels, then the image when taken
   * @param size - output `[H, W]`
   */
  embed(sources: tf.Tensor4D[], size: Size2D): tf.Tensor4D {
    this.shapesOf(sources.map((s) => s.shape));
    sources.forEach((s, i) => {
      if (s.shape[3] !== this.sourceChannels[i]) {
        const name = i < this.args.featureLevels ? `inputs.features[${i}]` : 'inputs.image';
        throw new ShapeError(name, `must have ${this.sourceChannels[i]} channels (the head was built for it)`, s);
      }
    });
    return tf.tidy(() => {
      const parts = sources.map((s, i) => resizeBilinear(this.projections[i]!.apply(s) as tf.Tensor4D, size));
      return (parts.length === 1 ? parts[0]! : tf.addN(parts)) as tf.Tensor4D;
    });
  }

  /** tfjs entry point: embeddings at the first input's size (or `outputSize`). */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor4D {
    const sources = (Array.isArray(inputs) ? inputs : [inputs]) as tf.Tensor4D[];
    const first = sources[0]!;
    return this.embed(sources, this.args.outputSize ?? [first.shape[1], first.shape[2]]);
  }

  /** `[B, H, W, D]` with H, W from `outputSize` or the first input. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const first = this.shapesOf(inputShape)[0]!;
    const size = this.args.outputSize;
    return [first[0] ?? null, size ? size[0] : first[1] ?? null, size ? size[1] : first[2] ?? null, this.args.embeddingDim];
  }

  /** The constructor's args, for `model.save()`. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.args };
  }
}
tf.serialization.registerClass(EmbeddingHead);
