/**
 * `SdnNeck` (`neckId: 'sdn'`): the semantic diffusion network of Tan et al.
 * (NeurIPS 2022) as a neck between encoder and decoder. Each refined level
 * becomes `F_sdn = conv1×1(concat[U, ReLU(BN(SDC(U, V)))])` with U's
 * channels, so the pyramid keeps its shapes and any head or refiner can
 * follow it.
 *
 * Guidance V per level:
 * - `mode: 'single'` (single-scale decoders): a stride-2 3×3 conv of the
 *   level itself, upsampled back to its size;
 * - `mode: 'multi'` (multi-scale decoders): the next coarser *input* level,
 *   upsampled, after a 1×1 projection to U's channels when the channel counts
 *   differ (no projection when they match); the deepest level is guided by a
 *   3×3 conv of itself.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs, upgradeRenamedArgs } from '../../core/config.js';
import { ArgsObject, Nullable, StringEnum, Type, type Static } from '../../core/schemas.js';
import { ConfigError } from '../../core/errors.js';
import { NeckLayer, shapeList, type NeckCallKwargs } from '../../core/neck.js';
import { splitLayerArgs } from '../../core/refiner.js';
import { componentClassName, registerComponentClass } from '../../core/component_name.js';
import type { NeckSpec } from '../../core/registry.js';
import { sdcSchemaFragments } from './semantic_difference_conv2d.js';
import { SdnLevel, type GuidanceSource } from './sdn_level.js';

/** The registry id: the `type` in configs, the prefix of argument errors, the tfjs class name `segrefine>sdn`. */
const SDN_ID = 'sdn';

/** Schema of {@link SdnNeckArgs}: the arguments, their rules and defaults, declared once. */
const sdnNeckArgs = ArgsObject({
  /**
   * `'single'`: each level guided by a stride-2 3×3 conv of itself;
   * `'multi'`: level i guided by level i+1 (the deepest by a 3×3 conv of itself).
   */
  mode: Type.Optional(StringEnum(['single', 'multi'], { default: 'multi' })),
  /**
   * Pyramid indices of the levels to refine; the others pass through
   * unchanged (they still guide their finer neighbour in `'multi'` mode).
   * Null refines every level.
   */
  levels: Type.Optional(Nullable(Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1, uniqueItems: true }), { default: null })),
  /**
   * Output channels of the semantic difference convolution; null uses each
   * level's own channel count.
   */
  diffusionChannels: Type.Optional(Nullable(Type.Integer({ minimum: 1 }), { default: null })),
  /**
   * Window size of the semantic difference convolution.
   */
  kernelSize: sdcSchemaFragments.kernelSize,
  /**
   * Spacing between the window's taps.
   */
  dilationRate: sdcSchemaFragments.dilationRate,
  /**
   * Similarity of guidance values: `'diffusivity'` (per channel,
   * `1/√(1 + ΔV²/λ²)`) or `'embedding'` (`exp(−λ‖ΔV‖₁)`).
   */
  similarity: sdcSchemaFragments.similarity,
  /**
   * Initial λ of every level.
   */
  initialLambda: sdcSchemaFragments.initialLambda,
  /**
   * `'identity'`: the fusion conv starts as `[I; 0]`, so the untrained neck
   * returns its input; `'random'`: Glorot-uniform.
   */
  fusionInitializer: Type.Optional(StringEnum(['identity', 'random'], { default: 'identity' })),
  /**
   * Momentum of the batch-norm moving statistics.
   */
  momentum: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.99 })),
  /**
   * Seed of the weight initializers.
   */
  seed: sdcSchemaFragments.seed,
});

/**
 * Arguments of {@link SdnNeck}.
 * @interface
 */
export type SdnNeckArgs = Static<typeof sdnNeckArgs>;

const sdnNeckSchema = compileArgs(SDN_ID, sdnNeckArgs, { renamed: { dilation: 'dilationRate', lambdaInit: 'initialLambda', fusionInit: 'fusionInitializer' } });

/** Resolved arguments (defaults filled in). */
type ResolvedSdnNeckArgs = Required<SdnNeckArgs>;

/**
 * The SDN neck: a feature pyramid in, the same shapes out, with inter-class
 * boundaries sharpened by semantics-guided anisotropic diffusion.
 *
 * ```ts illustrative
 * const neck = new SdnNeck({ mode: 'multi' });
 * const refined = neck.apply(features);        // SymbolicTensor[] or Tensor4D[]
 * const logits = head.apply([scores, ...refined]);
 * ```
 */
export class SdnNeck extends NeckLayer {
  /** tfjs serialization name. */
  static readonly className = componentClassName(SDN_ID);

  /** Reloads models saved before an argument was renamed (the naming table of docs/concepts.md). */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(upgradeRenamedArgs(sdnNeckSchema, config));
  }
  /** Registry name. */
  readonly neckId = SDN_ID;
  private readonly args: ResolvedSdnNeckArgs;
  private levelModules: (SdnLevel | undefined)[] = [];

  /** @param args - see {@link SdnNeckArgs} (plus tfjs layer args such as `name`) */
  constructor(args: SdnNeckArgs = {}) {
    const { layerArgs, own } = splitLayerArgs(args);
    super(layerArgs);
    this.args = parseArgs(sdnNeckSchema, own) as ResolvedSdnNeckArgs;
  }

  /** Creates each refined level's weights for a pyramid of these shapes. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    const shapes = shapeList(inputShape);
    const channels = shapes.map((s) => s[3] as number);
    const count = channels.length;
    const refined = this.args.levels ?? channels.map((_, i) => i);
    const outOfRange = refined.find((i) => i >= count);
    if (outOfRange !== undefined) {
      throw new ConfigError(`${SDN_ID}/levels`, `must index the pyramid's ${count} level(s) (0..${count - 1})`, this.args.levels);
    }
    this.levelModules = channels.map((c, level) => {
      if (!refined.includes(level)) return undefined;
      const deepest = level === count - 1;
      const guidance: GuidanceSource = this.args.mode === 'single' ? 'downsampled' : deepest ? 'self' : 'coarser';
      return new SdnLevel(
        {
          level,
          channels: c,
          diffusionChannels: this.args.diffusionChannels ?? c,
          guidance,
          coarserChannels: deepest ? c : channels[level + 1]!,
          kernelSize: this.args.kernelSize,
          dilation: this.args.dilationRate,
          similarity: this.args.similarity,
          initialLambda: this.args.initialLambda,
          fusionInitializer: this.args.fusionInitializer,
          momentum: this.args.momentum,
          seed: this.args.seed * 1000 + level * 10,
        },
        (name, shape, initializer, trainable) => this.addWeight(name, shape, 'float32', initializer, undefined, trainable),
      );
    });
    this.built = true;
  }

  /** Refines each selected level; the others are returned unchanged. */
  protected forward(features: tf.Tensor4D[], kwargs: NeckCallKwargs): tf.Tensor4D[] {
    const training = kwargs.training === true;
    return features.map((u, level) => {
      const module = this.levelModules[level];
      if (module === undefined) return u;
      const v = module.guidance(u, features[level + 1]);
      return module.forward(u, v, training);
    });
  }

  /** The constructor's args, for `model.save()`. */
  override getConfig(): tf.serialization.ConfigDict {
    const { levels, ...rest } = this.args;
    return { ...super.getConfig(), ...rest, levels: levels === null ? null : [...levels] };
  }
}
registerComponentClass(SdnNeck, ['SegrefineSdnNeck']);

/** Registry spec of {@link SdnNeck}: `createNeck({ type: 'sdn', mode: 'multi' })`. */
export const sdnNeckSpec: NeckSpec<SdnNeckArgs> = {
  id: SDN_ID,
  summary: 'SDN: semantics-guided anisotropic diffusion of the feature pyramid (a neck, shapes kept).',
  schema: sdnNeckSchema,
  create: (args) => new SdnNeck(args),
};
