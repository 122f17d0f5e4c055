/**
 * `fcn`: a tiny fully convolutional network for fast runs — five stride-2
 * stages of two 3×3 conv/BN/ReLU each, and an FCN-8s head (class scores from
 * stages 3, 4 and 5, upsampled and summed) at output stride 8.
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackboneOutputs } from '../core/backbone.js';
import { compileArgs, parseArgs } from '../core/config.js';
import { ArgsObject, Type, type Static } from '../core/schemas.js';
import type { BackboneSpec } from '../core/registry.js';
import { LayerFactory } from './layer_factory.js';
import { LayerBackbone, type GraphTensor, type LayerRunner } from './layer_backbone.js';
import { ResizeToMatch } from './resize_to_match.js';
import { classesSchema, layerNameSchema, seedSchema } from './schemas.js';

/** The registry id: the `type` in configs and the prefix of argument errors. */
const FCN_ID = 'fcn';

/** Schema of {@link TinyFcnArgs}: the arguments, their rules and defaults, declared once. */
const tinyFcnArgs = ArgsObject({
  /**
   * Number of classes K of the scores.
   */
  classes: classesSchema,
  /**
   * Channels of the first stage; stages have c, 2c, 4c, 8c, 8c.
   */
  channels: Type.Optional(Type.Integer({ minimum: 1, maximum: 512, default: 16 })),
  /**
   * Base seed of the initialisers.
   */
  seed: seedSchema,
  /**
   * Prefix of every layer name (must be unique within one model).
   */
  name: layerNameSchema({ default: 'fcn' }),
});

/**
 * Arguments of {@link TinyFcn}.
 * @interface
 */
export type TinyFcnArgs = Static<typeof tinyFcnArgs>;

const fcnSchema = compileArgs(FCN_ID, tinyFcnArgs);

const STAGE_MULTIPLIERS = [1, 2, 4, 8, 8];

/**
 * Tiny FCN (`id: 'fcn'`): pyramid of five stages at strides 2, 4, 8, 16, 32;
 * scores at stride 8 (FCN-8s skip fusion).
 */
export class TinyFcn extends LayerBackbone {
  /** The parsed arguments. */
  readonly args: Required<TinyFcnArgs>;
  private readonly stages: tf.layers.Layer[][];
  private readonly scoreLayers: tf.layers.Layer[];
  private readonly upsample: tf.layers.Layer[];
  private readonly fuse: tf.layers.Layer[];

  /** @param args - see {@link TinyFcnArgs} */
  constructor(args: TinyFcnArgs = {}) {
    const parsed = parseArgs(fcnSchema, args) as Required<TinyFcnArgs>;
    const factory = new LayerFactory(parsed.name, parsed.seed);
    const channels = STAGE_MULTIPLIERS.map((m) => parsed.channels * m);
    super(factory, { id: FCN_ID, numClasses: parsed.classes, outChannels: channels, levelStrides: [2, 4, 8, 16, 32], outputStride: 8 });
    this.args = parsed;
    this.stages = channels.map((c, i) => [
      factory.conv(`stage${i + 1}.conv1`, { filters: c, kernelSize: 3, strides: 2 }),
      factory.batchNorm(`stage${i + 1}.bn1`),
      factory.relu(`stage${i + 1}.relu1`),
      factory.conv(`stage${i + 1}.conv2`, { filters: c, kernelSize: 3 }),
      factory.batchNorm(`stage${i + 1}.bn2`),
      factory.relu(`stage${i + 1}.relu2`),
    ]);
    // Scores from stages 5, 4, 3 (coarse first), fused into the stride-8 map.
    this.scoreLayers = [5, 4, 3].map((s) => factory.conv(`score${s}`, { filters: parsed.classes, kernelSize: 1, useBias: true, init: 'classifier' }));
    this.upsample = ['up32to16', 'up16to8'].map((n) => factory.custom(new ResizeToMatch({ name: factory.name(n) })));
    this.fuse = ['fuse16', 'fuse8'].map((n) => factory.add(n));
  }

  protected forward<T extends GraphTensor>(image: T, runner: LayerRunner): BackboneOutputs<T> {
    const features: T[] = [];
    let x = image;
    for (const stage of this.stages) {
      x = runner.chain(stage, x);
      features.push(x);
    }
    const [s5, s4, s3] = this.scoreLayers.map((layer, i) => runner.run(layer, features[4 - i]!));
    const fused16 = runner.run(this.fuse[0]!, [runner.run(this.upsample[0]!, [s5!, s4!]), s4!]);
    const scores = runner.run(this.fuse[1]!, [runner.run(this.upsample[1]!, [fused16, s3!]), s3!]);
    return { scores, features };
  }
}

/** Registry spec of {@link TinyFcn}. */
export const fcnSpec: BackboneSpec<TinyFcnArgs> = {
  id: FCN_ID,
  summary: 'Tiny FCN-8s (five conv stages) for fast runs; scores at stride 8.',
  schema: fcnSchema,
  create: (args) => new TinyFcn(args),
};
