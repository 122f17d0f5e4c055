/**
 * `unet`: a small U-Net for fast runs — a five-level encoder (two 3×3
 * conv/BN/ReLU per level, 2×2 max pooling between levels) and a decoder that
 * upsamples bilinearly, concatenates the skip and convolves back up to full
 * resolution, where a 1×1 conv gives the scores (output stride 1).
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
const UNET_ID = 'unet';

/** Schema of {@link SmallUNetArgs}: the arguments, their rules and defaults, declared once. */
const smallUNetArgs = ArgsObject({
  /**
   * Number of classes K of the scores.
   */
  classes: classesSchema,
  /**
   * Channels of the first level; level i has c·2^i.
   */
  channels: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, default: 8 })),
  /**
   * Base seed of the initialisers.
   */
  seed: seedSchema,
  /**
   * Prefix of every layer name (must be unique within one model).
   */
  name: layerNameSchema({ default: 'unet' }),
});

/**
 * Arguments of {@link SmallUNet}.
 * @interface
 */
export type SmallUNetArgs = Static<typeof smallUNetArgs>;

const unetSchema = compileArgs(UNET_ID, smallUNetArgs);

const LEVELS = 5;

/** Decoder step: upsample to the skip's size, concatenate, two convs. */
interface DecoderStep {
  up: tf.layers.Layer;
  concat: tf.layers.Layer;
  convs: tf.layers.Layer[];
}

/**
 * Small U-Net (`id: 'unet'`): pyramid = the five encoder levels at strides
 * 1, 2, 4, 8, 16 (channels c … 16c); scores at stride 1.
 */
export class SmallUNet extends LayerBackbone {
  /** The parsed arguments. */
  readonly args: Required<SmallUNetArgs>;
  private readonly encoder: tf.layers.Layer[][];
  private readonly pools: tf.layers.Layer[];
  private readonly decoder: DecoderStep[];
  private readonly classifier: tf.layers.Layer;

  /** @param args - see {@link SmallUNetArgs} */
  constructor(args: SmallUNetArgs = {}) {
    const parsed = parseArgs(unetSchema, args) as Required<SmallUNetArgs>;
    const factory = new LayerFactory(parsed.name, parsed.seed);
    const channels = Array.from({ length: LEVELS }, (_, i) => parsed.channels * 2 ** i);
    super(factory, { id: UNET_ID, numClasses: parsed.classes, outChannels: channels, levelStrides: channels.map((_, i) => 2 ** i), outputStride: 1 });
    this.args = parsed;
    const doubleConv = (path: string, filters: number): tf.layers.Layer[] => [
      factory.conv(`${path}.conv1`, { filters, kernelSize: 3 }),
      factory.batchNorm(`${path}.bn1`),
      factory.relu(`${path}.relu1`),
      factory.conv(`${path}.conv2`, { filters, kernelSize: 3 }),
      factory.batchNorm(`${path}.bn2`),
      factory.relu(`${path}.relu2`),
    ];
    this.encoder = channels.map((c, i) => doubleConv(`down${i}`, c));
    this.pools = channels.slice(1).map((_, i) => factory.maxPool(`pool${i + 1}`, 2));
    this.decoder = channels.slice(0, LEVELS - 1).map((c, i) => ({
      up: factory.custom(new ResizeToMatch({ name: factory.name(`up${i}.resize`) })),
      concat: factory.concat(`up${i}.concat`),
      convs: doubleConv(`up${i}`, c),
    }));
    this.classifier = factory.conv('classifier', { filters: parsed.classes, kernelSize: 1, useBias: true, init: 'classifier' });
  }

  protected forward<T extends GraphTensor>(image: T, runner: LayerRunner): BackboneOutputs<T> {
    const features: T[] = [];
    let x = image;
    for (let i = 0; i < LEVELS; i++) {
      if (i > 0) x = runner.run(this.pools[i - 1]!, x);
      x = runner.chain(this.encoder[i]!, x);
      features.push(x);
    }
    for (let i = LEVELS - 2; i >= 0; i--) {
      const step = this.decoder[i]!;
      const skip = features[i]!;
      x = runner.chain(step.convs, runner.run(step.concat, [runner.run(step.up, [x, skip]), skip]));
    }
    return { scores: runner.run(this.classifier, x), features };
  }
}

/** Registry spec of {@link SmallUNet}. */
export const unetSpec: BackboneSpec<SmallUNetArgs> = {
  id: UNET_ID,
  summary: 'Small U-Net (five levels) for fast runs; scores at stride 1.',
  schema: unetSchema,
  create: (args) => new SmallUNet(args),
};
