/**
 * `SemanticDifferenceConv2D`: the semantic difference convolution of SDN as
 * a `tf.layers.Layer` taking `[U, V]` (features, guidance) and returning
 * `Y = Σ_k W_kᵀ (U(p+k) − U(p)) ⊙ s(V(p+k), V(p))` with a learned kernel W
 * and a learned λ (see {@link semanticDifferenceConv} for the math).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs, upgradeRenamedArgs } from '../../core/config.js';
import { ArgsObject, IntegerEnum, StringEnum, Type, type Static } from '../../core/schemas.js';
import { ShapeError } from '../../core/errors.js';
import { splitLayerArgs } from '../../core/refiner.js';
import { semanticDifferenceConv } from './semantic_difference.js';

/**
 * Schema properties shared with the neck's args.
 * @internal
 */
export const sdcSchemaFragments = {
  /** Window size k (odd). */
  kernelSize: Type.Optional(IntegerEnum([3, 5, 7], { default: 3 })),
  /** Spacing between taps of the window. */
  dilationRate: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  /**
   * `'diffusivity'`: per channel `1/√(1 + ΔV²/λ²)` (V has U's channels, λ per
   * channel); `'embedding'`: `exp(−λ‖ΔV‖₁)` (V any channels, one λ).
   */
  similarity: Type.Optional(StringEnum(['diffusivity', 'embedding'], { default: 'diffusivity' })),
  /** Initial λ (every entry). */
  initialLambda: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 1 })),
  /** Seed of the kernel's Glorot-uniform initializer. */
  seed: Type.Optional(Type.Integer({ default: 1 })),
};

const sdcArgs = ArgsObject({
  /** Output channels Cout. */
  filters: Type.Integer({ minimum: 1 }),
  ...sdcSchemaFragments,
});

/**
 * Arguments of {@link SemanticDifferenceConv2D}.
 * @interface
 */
export type SemanticDifferenceConv2DArgs = Static<typeof sdcArgs>;

const sdcSchema = compileArgs('SemanticDifferenceConv2DArgs', sdcArgs, { renamed: { dilation: 'dilationRate', lambdaInit: 'initialLambda' } });

/** Resolved arguments (defaults filled in). */
type ResolvedSdcArgs = Required<SemanticDifferenceConv2DArgs>;

/**
 * The semantic difference convolution layer. Inputs `[U, V]`: U `[B, H, W, C]`,
 * V `[B, H, W, C]` (`'embedding'`: any channel count); output `[B, H, W, filters]`.
 * Weights: `kernel` `[k, k, C, filters]` (conv2d layout, centre tap unused)
 * and `lambda` (`[C]` or `[1]`).
 */
export class SemanticDifferenceConv2D extends tf.layers.Layer {
  /** tfjs serialization name. */
  static readonly className = 'SegrefineSemanticDifferenceConv2D';

  /** Reloads models saved before an argument was renamed (the naming table of docs/concepts.md). */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(upgradeRenamedArgs(sdcSchema, config));
  }
  private readonly args: ResolvedSdcArgs;
  private kernel: tf.LayerVariable | undefined;
  private lambda: tf.LayerVariable | undefined;

  /** @param args - see {@link SemanticDifferenceConv2DArgs} (plus tfjs layer args such as `name`) */
  constructor(args: SemanticDifferenceConv2DArgs) {
    const { layerArgs, own } = splitLayerArgs(args);
    super(layerArgs);
    this.args = parseArgs(sdcSchema, own) as ResolvedSdcArgs;
  }

  /** Creates `kernel` and `lambda` for these input shapes. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [uShape] = this.checkShapes(inputShape);
    const channels = uShape[3] as number;
    const k = this.args.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, channels, this.args.filters], 'float32', tf.initializers.glorotUniform({ seed: this.args.seed }));
    const lambdaSize = this.args.similarity === 'diffusivity' ? channels : 1;
    this.lambda = this.addWeight('lambda', [lambdaSize], 'float32', tf.initializers.constant({ value: this.args.initialLambda }));
    this.built = true;
  }

  /** Runs the convolution on `[U, V]`. */
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor4D {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      this.checkShapes(list.map((t) => t.shape));
      return semanticDifferenceConv(list[0] as tf.Tensor4D, list[1] as tf.Tensor4D, this.kernel!.read() as tf.Tensor4D, this.lambda!.read() as tf.Tensor1D, {
        kernelSize: this.args.kernelSize,
        dilation: this.args.dilationRate,
        similarity: this.args.similarity,
      });
    });
  }

  /** `[B, H, W, filters]`. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [uShape] = this.checkShapes(inputShape);
    return [uShape[0] ?? null, uShape[1] ?? null, uShape[2] ?? null, this.args.filters];
  }

  /** The constructor's args, for `model.save()`. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.args };
  }

  /**
   * Checks `[U, V]`: two rank-4 inputs, same batch/height/width (where known),
   * V with U's channels for the diffusivity similarity, and U with the
   * channels the kernel was built for.
   */
  private checkShapes(inputShape: tf.Shape | tf.Shape[]): [tf.Shape, tf.Shape] {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[];
    if (shapes.length !== 2) throw new ShapeError('inputs', 'must be [U, V] (features, guidance)', `${shapes.length} input(s)`);
    const [u, v] = shapes as [tf.Shape, tf.Shape];
    if (u.length !== 4) throw new ShapeError('U', 'must be rank 4 (NHWC)', u);
    if (v.length !== 4) throw new ShapeError('V', 'must be rank 4 (NHWC)', v);
    if (u[3] === null) throw new ShapeError('U', 'must have a known channel count', u);
    for (const axis of [0, 1, 2]) {
      if (u[axis] !== null && v[axis] !== null && u[axis] !== v[axis]) {
        throw new ShapeError('V', `must have U's batch, height and width [${u.slice(0, 3).map((d) => d ?? 'null').join(', ')}]`, v);
      }
    }
    if (this.args.similarity === 'diffusivity' && v[3] !== u[3]) {
      throw new ShapeError('V', `must have U's ${u[3]} channels (the diffusivity similarity is per channel)`, v);
    }
    const built = this.kernel?.shape[2];
    if (built !== undefined && u[3] !== built) throw new ShapeError('U', `must have ${built} channels, as when the layer was built`, u);
    return [u, v];
  }
}
tf.serialization.registerClass(SemanticDifferenceConv2D);
