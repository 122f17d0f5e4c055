/**
 * `resnet`: the atrous ResNet with a 1×1 convolution classifier on its last
 * stage — the plainest scores a ResNet pyramid can give.
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackboneOutputs } from '../core/backbone.js';
import { compileArgs, parseArgs, type JSONSchemaType } from '../core/config.js';
import type { BackboneSpec } from '../core/registry.js';
import { AtrousResNet, type OutputStride, type ResNetDepth } from './atrous_resnet.js';
import { LayerFactory } from './layer_factory.js';
import { LayerBackbone, type GraphTensor, type LayerRunner } from './layer_backbone.js';
import { classesSchema, depthSchema, nameSchema, outputStrideSchema, seedSchema, widthSchema } from './schemas.js';

/** Arguments of {@link ResNetBackbone}. */
export interface ResNetBackboneArgs {
  /**
   * Number of classes K of the scores.
   * @defaultValue 21
   */
  classes?: number;
  /**
   * ResNet depth: 18, 34 (basic blocks), 50, 101 (bottlenecks).
   * @defaultValue 18
   */
  depth?: ResNetDepth;
  /**
   * Channel multiplier (0.25 gives 16…128 channels for fast experiments).
   * @defaultValue 1
   */
  width?: number;
  /**
   * Output stride: 8 (stages 3–4 dilated 2 and 4), 16 (stage 4 dilated 2) or 32.
   * @defaultValue 8
   */
  outputStride?: OutputStride;
  /**
   * Base seed of the initialisers.
   * @defaultValue 0
   */
  seed?: number;
  /**
   * Prefix of every layer name (must be unique within one model).
   * @defaultValue 'resnet'
   */
  name?: string;
}

const resnetSchema = compileArgs<ResNetBackboneArgs>('ResNetBackboneArgs', {
  type: 'object',
  properties: {
    classes: classesSchema,
    depth: depthSchema,
    width: widthSchema,
    outputStride: outputStrideSchema,
    seed: seedSchema,
    name: nameSchema('resnet'),
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<ResNetBackboneArgs>);

/**
 * Atrous ResNet backbone (`id: 'resnet'`): pyramid `[stem, stage1, …,
 * stage4]`, scores = 1×1 conv (with bias) on stage 4, at `outputStride`.
 */
export class ResNetBackbone extends LayerBackbone {
  /** The parsed arguments. */
  readonly args: Required<ResNetBackboneArgs>;
  private readonly body: AtrousResNet;
  private readonly classifier: tf.layers.Layer;

  /** @param args - see {@link ResNetBackboneArgs} */
  constructor(args: ResNetBackboneArgs = {}) {
    const parsed = parseArgs(resnetSchema, args) as Required<ResNetBackboneArgs>;
    const factory = new LayerFactory(parsed.name, parsed.seed);
    const body = new AtrousResNet(factory, { depth: parsed.depth, width: parsed.width, outputStride: parsed.outputStride });
    super(factory, { id: 'resnet', numClasses: parsed.classes, outChannels: body.channels, levelStrides: body.strides, outputStride: parsed.outputStride });
    this.args = parsed;
    this.body = body;
    this.classifier = factory.conv('classifier', { filters: parsed.classes, kernelSize: 1, useBias: true, init: 'classifier' });
  }

  protected forward<T extends GraphTensor>(image: T, runner: LayerRunner): BackboneOutputs<T> {
    const { stem, stages } = this.body.forward(image, runner);
    return { scores: runner.run(this.classifier, stages[stages.length - 1]!), features: [stem, ...stages] };
  }
}

/** Registry spec of {@link ResNetBackbone}. */
export const resnetSpec: BackboneSpec<ResNetBackboneArgs> = {
  id: 'resnet',
  summary: 'Atrous ResNet-18/34/50/101 with a 1×1 classifier; pyramid [stem, stage1..4].',
  schema: resnetSchema,
  create: (args) => new ResNetBackbone(args),
};
