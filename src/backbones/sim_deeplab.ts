/**
 * `sim-deeplab`: the DifNet paper's baseline and seed branch — an atrous
 * ResNet at output stride 8 with DeepLab-v2's ASPP classifier (no multi-scale
 * inputs, no CRF).
 * @module
 */
import type { BackboneOutputs } from '../core/backbone.js';
import { compileArgs, parseArgs } from '../core/config.js';
import { ArgsObject, Type, type Static } from '../core/schemas.js';
import type { BackboneSpec } from '../core/registry.js';
import { AsppHead } from './aspp.js';
import { AtrousResNet } from './atrous_resnet.js';
import { LayerFactory } from './layer_factory.js';
import { LayerBackbone, type GraphTensor, type LayerRunner } from './layer_backbone.js';
import { classesSchema, depthSchema, layerNameSchema, outputStrideSchema, pretrainedArgs, seedSchema, widthSchema } from './schemas.js';
import { loadIntoBackbone, resolvePretrained, torchvisionName } from './torchvision_weights.js';

/** The registry id: the `type` in configs and the prefix of argument errors. */
const SIM_DEEPLAB_ID = 'sim-deeplab';

/** Schema of {@link SimDeepLabArgs}: the arguments, their rules and defaults, declared once. */
const simDeepLabArgs = ArgsObject({
  /**
   * Number of classes K of the scores.
   */
  classes: classesSchema,
  /**
   * ResNet depth: 18, 34 (basic blocks), 50, 101 (bottlenecks).
   */
  depth: depthSchema,
  /**
   * Channel multiplier of the ResNet.
   */
  width: widthSchema,
  /**
   * Output stride of the ResNet (the paper uses 8).
   */
  outputStride: outputStrideSchema,
  /**
   * Use the ASPP classifier; false: a single 3×3 conv classifier (rate 1).
   */
  aspp: Type.Optional(Type.Boolean({ default: true })),
  /**
   * ASPP atrous rates, one 3×3 branch each, summed.
   */
  rates: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, default: [6, 12, 18, 24] })),
  /**
   * Base seed of the initialisers.
   */
  seed: seedSchema,
  /**
   * Prefix of every layer name (must be unique within one model).
   */
  name: layerNameSchema({ default: 'sim_deeplab' }),
  ...pretrainedArgs,
});

/**
 * Arguments of {@link SimDeepLab}.
 * @interface
 */
export type SimDeepLabArgs = Static<typeof simDeepLabArgs>;

/** Schema of {@link SimDeepLabArgs}. */
export const simDeepLabSchema = compileArgs(SIM_DEEPLAB_ID, simDeepLabArgs);

/**
 * Sim-DeepLab (`id: 'sim-deeplab'`): atrous ResNet + ASPP. Pyramid
 * `[stem, stage1, …, stage4]`; scores at `outputStride` (8 by default).
 * With `weights` the ResNet body loads torchvision's; the ASPP stays fresh.
 */
export class SimDeepLab extends LayerBackbone {
  /** The parsed arguments (`padding` and `normalize` resolved). */
  readonly args: Required<SimDeepLabArgs>;
  private readonly body: AtrousResNet;
  private readonly head: AsppHead;

  /**
   * The ResNet body (what pretrained weights load into).
   * @internal
   */
  get resnet(): AtrousResNet {
    return this.body;
  }

  /** @param args - see {@link SimDeepLabArgs} */
  constructor(args: SimDeepLabArgs = {}) {
    const parsed = parseArgs(simDeepLabSchema, args) as SimDeepLabArgs & Required<Omit<SimDeepLabArgs, 'weights' | 'padding' | 'normalize'>>;
    const pretrained = resolvePretrained(parsed, `${SIM_DEEPLAB_ID}/weights`);
    const factory = new LayerFactory(parsed.name, parsed.seed);
    const body = new AtrousResNet(factory, { depth: parsed.depth, width: parsed.width, outputStride: parsed.outputStride, padding: pretrained.padding, normalize: pretrained.normalize });
    super(factory, { id: SIM_DEEPLAB_ID, numClasses: parsed.classes, outChannels: body.channels, levelStrides: body.strides, outputStride: parsed.outputStride });
    this.args = { ...parsed, weights: pretrained.weights, padding: pretrained.padding, normalize: pretrained.normalize };
    this.body = body;
    this.head = new AsppHead(factory, parsed.classes, parsed.aspp ? parsed.rates : [1], parsed.aspp ? 'aspp' : 'classifier');
    if (pretrained.file !== undefined) loadIntoBackbone(this, body, parsed.name, pretrained.file, torchvisionName(parsed.depth, parsed.width));
  }

  protected forward<T extends GraphTensor>(image: T, runner: LayerRunner): BackboneOutputs<T> {
    const { stem, stages } = this.body.forward(image, runner);
    return { scores: this.head.forward(stages[stages.length - 1]!, runner), features: [stem, ...stages] };
  }
}

/** Registry spec of {@link SimDeepLab}. */
export const simDeepLabSpec: BackboneSpec<SimDeepLabArgs> = {
  id: SIM_DEEPLAB_ID,
  summary: 'Sim-DeepLab: atrous ResNet + DeepLab-v2 ASPP (rates 6/12/18/24), scores at stride 8.',
  schema: simDeepLabSchema,
  create: (args) => new SimDeepLab(args),
};
