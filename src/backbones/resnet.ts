/**
 * `resnet`: the atrous ResNet with a 1×1 convolution classifier on its last
 * stage — the plainest scores a ResNet pyramid can give.
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackboneOutputs } from '../core/backbone.js';
import { compileArgs, parseArgs } from '../core/config.js';
import { ArgsObject, type Static } from '../core/schemas.js';
import type { BackboneSpec } from '../core/registry.js';
import { AtrousResNet } from './atrous_resnet.js';
import { LayerFactory } from './layer_factory.js';
import { LayerBackbone, type GraphTensor, type LayerRunner } from './layer_backbone.js';
import { classesSchema, depthSchema, layerNameSchema, outputStrideSchema, pretrainedArgs, seedSchema, widthSchema } from './schemas.js';
import { loadIntoBackbone, resolvePretrained, torchvisionName } from './torchvision_weights.js';

/** The registry id: the `type` in configs and the prefix of argument errors. */
const RESNET_ID = 'resnet';

/** Schema of {@link ResNetBackboneArgs}: the arguments, their rules and defaults, declared once. */
const resnetBackboneArgs = ArgsObject({
  /**
   * Number of classes K of the scores.
   */
  classes: classesSchema,
  /**
   * ResNet depth: 18, 34 (basic blocks), 50, 101 (bottlenecks).
   */
  depth: depthSchema,
  /**
   * Channel multiplier (0.25 gives 16…128 channels for fast experiments).
   */
  width: widthSchema,
  /**
   * Output stride: 8 (stages 3–4 dilated 2 and 4), 16 (stage 4 dilated 2) or 32.
   */
  outputStride: outputStrideSchema,
  /**
   * Base seed of the initialisers.
   */
  seed: seedSchema,
  /**
   * Prefix of every layer name (must be unique within one model).
   */
  name: layerNameSchema({ default: 'resnet' }),
  ...pretrainedArgs,
});

/**
 * Arguments of {@link ResNetBackbone}.
 * @interface
 */
export type ResNetBackboneArgs = Static<typeof resnetBackboneArgs>;

const resnetSchema = compileArgs(RESNET_ID, resnetBackboneArgs);

/**
 * Atrous ResNet backbone (`id: 'resnet'`): pyramid `[stem, stage1, …,
 * stage4]`, scores = 1×1 conv (with bias) on stage 4, at `outputStride`.
 * With `weights` the body loads torchvision's ResNet; the classifier stays fresh.
 */
export class ResNetBackbone extends LayerBackbone {
  /** The parsed arguments (`padding` and `normalize` resolved). */
  readonly args: Required<ResNetBackboneArgs>;
  private readonly body: AtrousResNet;
  private readonly classifier: tf.layers.Layer;

  /** @param args - see {@link ResNetBackboneArgs} */
  constructor(args: ResNetBackboneArgs = {}) {
    const parsed = parseArgs(resnetSchema, args) as ResNetBackboneArgs & Required<Omit<ResNetBackboneArgs, 'weights' | 'padding' | 'normalize'>>;
    const pretrained = resolvePretrained(parsed, `${RESNET_ID}/weights`);
    const factory = new LayerFactory(parsed.name, parsed.seed);
    const body = new AtrousResNet(factory, { depth: parsed.depth, width: parsed.width, outputStride: parsed.outputStride, padding: pretrained.padding, normalize: pretrained.normalize });
    super(factory, { id: RESNET_ID, numClasses: parsed.classes, outChannels: body.channels, levelStrides: body.strides, outputStride: parsed.outputStride });
    this.args = { ...parsed, weights: pretrained.weights, padding: pretrained.padding, normalize: pretrained.normalize };
    this.body = body;
    this.classifier = factory.conv('classifier', { filters: parsed.classes, kernelSize: 1, useBias: true, init: 'classifier' });
    if (pretrained.file !== undefined) loadIntoBackbone(this, body, parsed.name, pretrained.file, torchvisionName(parsed.depth, parsed.width));
  }

  protected forward<T extends GraphTensor>(image: T, runner: LayerRunner): BackboneOutputs<T> {
    const { stem, stages } = this.body.forward(image, runner);
    return { scores: runner.run(this.classifier, stages[stages.length - 1]!), features: [stem, ...stages] };
  }
}

/** Registry spec of {@link ResNetBackbone}. */
export const resnetSpec: BackboneSpec<ResNetBackboneArgs> = {
  id: RESNET_ID,
  summary: 'Atrous ResNet-18/34/50/101 with a 1×1 classifier; pyramid [stem, stage1..4].',
  schema: resnetSchema,
  create: (args) => new ResNetBackbone(args),
};
