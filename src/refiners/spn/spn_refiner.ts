/**
 * SpnRefiner (`refinerId: 'spn'`): a guidance network predicts the SPN gates
 * from the image and/or a pyramid level, and the scores are propagated with
 * them in four directions (Liu et al., NIPS 2017; DESIGN §5).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs, upgradeRenamedArgs } from '../../core/config.js';
import { ShapeError } from '../../core/errors.js';
import { resizeBilinear, type Size2D } from '../../core/ops/resize.js';
import { RefinerLayer, splitLayerArgs, type RefinerCallKwargs, type RefinerInputRoles, type RefinerInputs } from '../../core/refiner.js';
import { componentClassName, registerComponentClass } from '../../core/component_name.js';
import type { RefinerSpec } from '../../core/registry.js';
import { ArgsObject, Nullable, OutputSize, StringEnum, Type, type Static } from '../../core/schemas.js';
import { SPN_DIRECTIONS, SPN_MODES, SPN_NORMALIZATIONS } from './directions.js';
import { spn } from './propagate.js';

/** The registry id: the `type` in configs, the prefix of argument errors, the tfjs class name `segrefine>spn`. */
const SPN_ID = 'spn';

/** What the guidance network looks at. */
export type SpnGuidance = 'image' | 'features' | 'both';

/** Schema of {@link SpnRefinerArgs}: the arguments, their rules and defaults, declared once. */
const spnRefinerArgs = ArgsObject({
  /**
   * Guidance input: the RGB image, one pyramid level, or both (concatenated).
   */
  guidance: Type.Optional(StringEnum(['image', 'features', 'both'], { default: 'image' })),
  /**
   * Channels of each hidden guidance convolution.
   */
  guidanceWidth: Type.Optional(Type.Integer({ minimum: 1, default: 32 })),
  /**
   * Hidden 3×3 conv + ReLU layers of the guidance network before the gate convolution.
   */
  guidanceDepth: Type.Optional(Type.Integer({ minimum: 0, maximum: 16, default: 3 })),
  /**
   * Propagated channels C: the scores are projected K → C by a 1×1 convolution and back
   * after propagation; null propagates the K scores directly.
   */
  propagationChannels: Type.Optional(Nullable(Type.Integer({ minimum: 1 }), { default: null })),
  /**
   * Three-way (12·C gates) or one-way (4·C gates) propagation.
   */
  mode: Type.Optional(StringEnum(SPN_MODES, { default: 'three-way' })),
  /**
   * Gate normalisation (stability): see `SpnNormalize`.
   */
  normalization: Type.Optional(StringEnum(SPN_NORMALIZATIONS, { default: 'when-needed' })),
  /**
   * Four-direction passes, all with the same gates.
   */
  passes: Type.Optional(Type.Integer({ minimum: 1, maximum: 16, default: 2 })),
  /**
   * `[height, width]` the propagation runs at; null uses the guidance input's size (the image's when taken).
   */
  propagationSize: OutputSize({ default: null }),
  /**
   * Output `[height, width]`; null keeps the propagation size (where the refinement happened: resizing back to
   * coarser scores would discard the detail it added along the guidance's edges).
   */
  outputSize: OutputSize({ default: null }),
  /**
   * Standard deviation of the gate convolution's initial kernel (small: the refiner starts near the identity).
   */
  gateInitScale: Type.Optional(Type.Number({ minimum: 0, default: 0.01 })),
  /**
   * Seed of the weight initialisers.
   */
  seed: Type.Optional(Type.Integer({ default: 0 })),
});

/**
 * Arguments of {@link SpnRefiner}.
 * @interface
 */
export type SpnRefinerArgs = Static<typeof spnRefinerArgs>;

/** The parsed, complete arguments. */
type ResolvedArgs = Required<SpnRefinerArgs>;

/** Schema of {@link SpnRefinerArgs}. */
export const spnRefinerSchema = compileArgs(SPN_ID, spnRefinerArgs, { renamed: { normalize: 'normalization' } });

/**
 * A seed for tfjs's normal initialisers, which read seed 0 as "unseeded"
 * (`seed ? seed : Math.random()`), so a layer seeded with 0 would start from
 * different weights on every run; 0 is mapped to another fixed value.
 */
function normalSeed(seed: number): number {
  return seed === 0 ? 2_147_483_647 : seed;
}

/** A tfjs weight initialiser. */
type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** A convolution's weights. */
interface ConvWeights {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable;
}

/**
 * Spatial propagation refiner (`refinerId: 'spn'`).
 *
 * Inputs `[scores, level?, image?]`: with `guidance: 'image'` (default) the
 * layer takes `{ features: 0, image: true }`; with `'features'` one pyramid
 * level (`{ features: 1, image: false }`, pass the level you want, e.g. the
 * finest); with `'both'` the level and the image.
 *
 * The guidance sources are resized to the propagation size and concatenated;
 * `guidanceDepth` × (3×3 conv, ReLU) then a 3×3 conv give the gates, 12·C
 * channels (three-way) in the order `[L→R g1 g2 g3, R→L …, T→B …, B→T …]`.
 * The scores, resized to the propagation size (and projected to C channels if
 * `propagationChannels` is set), are propagated by {@link spn} with
 * `passes` max-merged four-direction passes, mapped back to K channels and
 * resized to the output size.
 */
export class SpnRefiner extends RefinerLayer {
  /** tfjs serialization name. */
  static readonly className = componentClassName(SPN_ID);

  /** Reloads models saved before an argument was renamed (the naming table of docs/concepts.md). */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls(upgradeRenamedArgs(spnRefinerSchema, config));
  }
  /** Registry name. */
  readonly refinerId = SPN_ID;
  private readonly args: ResolvedArgs;
  private guidanceConvs: ConvWeights[] = [];
  private gateConv?: ConvWeights;
  private projectIn?: ConvWeights;
  private projectOut?: ConvWeights;

  /** @param args - see {@link SpnRefinerArgs} (plus tfjs layer args such as `name`) */
  constructor(args: SpnRefinerArgs = {}) {
    const { layerArgs, own } = splitLayerArgs(args);
    super(layerArgs);
    this.args = parseArgs(spnRefinerSchema, own) as ResolvedArgs;
  }

  /** Takes the scores and, per `guidance`, one pyramid level and/or the image. */
  inputRoles(): RefinerInputRoles {
    return { features: this.args.guidance === 'image' ? 0 : 1, image: this.args.guidance !== 'features' };
  }

  protected configuredOutputSize(): Size2D | undefined {
    return this.args.outputSize ?? undefined;
  }

  private conv(name: string, size: number, inChannels: number, outChannels: number, kernelInit: Initializer): ConvWeights {
    return {
      kernel: this.addWeight(`${name}/kernel`, [size, size, inChannels, outChannels], 'float32', kernelInit),
      bias: this.addWeight(`${name}/bias`, [outChannels], 'float32', tf.initializers.zeros()),
    };
  }

  /** Creates the guidance network's, the gate convolution's and the projections' weights. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const named = this.fromInputList(inputShape as tf.Shape[]);
    const classes = named.scores[3];
    if (typeof classes !== 'number') throw new ShapeError('inputs.scores', 'must have a known channel count K', named.scores);
    let inChannels = named.image !== undefined ? 3 : 0;
    if (named.features.length > 0) {
      const levelChannels = named.features[0]![3];
      if (typeof levelChannels !== 'number') throw new ShapeError('inputs.features[0]', 'must have a known channel count', named.features[0]);
      inChannels += levelChannels;
    }
    const { guidanceWidth, guidanceDepth, seed } = this.args;
    this.guidanceConvs = Array.from({ length: guidanceDepth }, (_, i) =>
      this.conv(`guidance_conv${i + 1}`, 3, i === 0 ? inChannels : guidanceWidth, guidanceWidth, tf.initializers.heNormal({ seed: normalSeed(seed + 1 + i) })),
    );
    const channels = this.args.propagationChannels ?? classes;
    const taps = this.args.mode === 'three-way' ? 3 : 1;
    // (tfjs's randomNormal reads a zero stddev as "use the default".)
    const gateInit = this.args.gateInitScale > 0 ? tf.initializers.randomNormal({ mean: 0, stddev: this.args.gateInitScale, seed: normalSeed(seed + 100) }) : tf.initializers.zeros();
    this.gateConv = this.conv('gate_conv', 3, guidanceDepth > 0 ? guidanceWidth : inChannels, SPN_DIRECTIONS.length * taps * channels, gateInit);
    if (this.args.propagationChannels !== null) {
      this.projectIn = this.conv('project_in', 1, classes, channels, tf.initializers.glorotUniform({ seed: seed + 200 }));
      this.projectOut = this.conv('project_out', 1, channels, classes, tf.initializers.glorotUniform({ seed: seed + 201 }));
    }
    this.built = true;
  }

  /** The propagation size for these inputs. */
  private propagationSize(inputs: RefinerInputs): Size2D {
    if (this.args.propagationSize !== null) return this.args.propagationSize;
    const reference = inputs.image ?? inputs.features![0]!;
    return [reference.shape[1], reference.shape[2]];
  }

  /**
   * The gates `[B, h, w, 12·C]` (three-way; 4·C one-way) the guidance network
   * predicts for these inputs, at the propagation size, before normalisation.
   * Builds the layer on first use. The caller owns the result.
   * @param inputs - the same inputs as {@link SpnRefiner.refine}
   */
  gates(inputs: RefinerInputs): tf.Tensor4D {
    const list = this.toInputList(inputs);
    this.validateInputs(this.fromInputList(list), false);
    if (!this.built) tf.dispose(this.apply(list) as tf.Tensor);
    return tf.tidy(() => this.guidanceGates(inputs, this.propagationSize(inputs)));
  }

  private guidanceGates(inputs: RefinerInputs, size: Size2D): tf.Tensor4D {
    const sources: tf.Tensor4D[] = [];
    if (inputs.features !== undefined && inputs.features.length > 0) sources.push(resizeBilinear(inputs.features[0]!, size));
    if (inputs.image !== undefined) sources.push(resizeBilinear(inputs.image, size));
    let h = sources.length === 1 ? sources[0]! : (tf.concat(sources, 3) as tf.Tensor4D);
    for (const conv of this.guidanceConvs) h = tf.relu(tf.conv2d(h, conv.kernel.read() as tf.Tensor4D, 1, 'same').add(conv.bias.read())) as tf.Tensor4D;
    return tf.add(tf.conv2d(h, this.gateConv!.kernel.read() as tf.Tensor4D, 1, 'same'), this.gateConv!.bias.read()) as tf.Tensor4D;
  }

  protected forward(inputs: RefinerInputs, kwargs: RefinerCallKwargs): tf.Tensor4D {
    const { scores } = inputs;
    const size = this.propagationSize(inputs);
    const gates = this.guidanceGates(inputs, size);
    const project = (x: tf.Tensor4D, conv: ConvWeights | undefined): tf.Tensor4D =>
      conv === undefined ? x : (tf.add(tf.conv2d(x, conv.kernel.read() as tf.Tensor4D, 1, 'valid'), conv.bias.read()) as tf.Tensor4D);
    const x = project(resizeBilinear(scores, size), this.projectIn);
    const propagated = spn(x, gates, { passes: this.args.passes, mode: this.args.mode, normalization: this.args.normalization });
    const logits = project(propagated, this.projectOut);
    return this.toOutputSize(logits, kwargs.outputSize);
  }

  /**
   * Output shape: the configured output size, else the propagation size (the
   * configured one, else the guidance input's: the image's when taken).
   */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const named = this.fromInputList((Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as tf.Shape[]);
    const reference = named.image ?? named.features[0] ?? named.scores;
    const size = this.args.outputSize ?? this.args.propagationSize ?? [reference[1] ?? null, reference[2] ?? null];
    return [named.scores[0] ?? null, size[0], size[1], this.outputChannels(named.scores[3] ?? null)];
  }

  /** The constructor's args, for `model.save()`. */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.args };
  }
}
registerComponentClass(SpnRefiner, ['SegrefineSpnRefiner']);

/** Registry spec of {@link SpnRefiner}. */
export const spnSpec: RefinerSpec<SpnRefinerArgs> = {
  id: SPN_ID,
  summary: 'Spatial propagation network: scores propagated in four directions with learned three-way gates (Liu et al. 2017).',
  differentiable: true,
  schema: spnRefinerSchema,
  create: (args) => new SpnRefiner(args),
};
