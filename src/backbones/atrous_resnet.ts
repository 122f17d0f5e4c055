/**
 * The atrous (dilated) ResNet body DeepLab and DifNet build on: depths 18/34
 * (basic blocks) and 50/101 (bottlenecks), a width multiplier, and output
 * stride 8, 16 or 32 obtained by replacing the strides of the last stages with
 * dilation (DeepLab; torchvision's `replace_stride_with_dilation`).
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import { ImageNormalization } from './image_normalization.js';
import type { ConvOptions, LayerFactory } from './layer_factory.js';
import type { GraphTensor, LayerRunner } from './layer_backbone.js';

/** Supported ResNet depths. */
export type ResNetDepth = 18 | 34 | 50 | 101;

/** Supported output strides of the last stage. */
export type OutputStride = 8 | 16 | 32;

/** Options of {@link AtrousResNet}. */
export interface AtrousResNetOptions {
  /** 18 and 34 use basic blocks, 50 and 101 bottlenecks. */
  depth: ResNetDepth;
  /** Channel multiplier (1 = the published widths 64…512). */
  width: number;
  /** Stride of the last stage: 32 plain, 16 dilates stage 4, 8 stages 3 and 4. */
  outputStride: OutputStride;
  /** Stages to build (1–4); fewer saves weights when later stages go unused. @defaultValue 4 */
  stages?: number;
  /**
   * Padding of the strided convolutions and the max pool: `same` (tfjs's:
   * for even sizes it pads 0 before and 1 after) or `torch` (PyTorch's
   * symmetric padding — needed to reproduce torchvision weights exactly).
   * @defaultValue 'same'
   */
  padding?: ResNetPadding;
  /**
   * Normalise the [0, 1] RGB input with ImageNet's mean and std first (what
   * torchvision's weights expect). @defaultValue false
   */
  normalize?: boolean;
}

/**
 * How a {@link AtrousResNet} pads its strided convolutions and max pool:
 * tfjs's `same`, or PyTorch's symmetric `torch` (torchvision parity).
 */
export type ResNetPadding = 'same' | 'torch';

/** What {@link AtrousResNet.forward} returns. */
export interface ResNetOutputs<T> {
  /** Stem output (after conv1, BN, ReLU; stride 2). */
  stem: T;
  /** One output per built stage, fine → coarse. */
  stages: T[];
}

/** Blocks per stage and block type, per depth. */
const LAYOUT: Record<ResNetDepth, { blocks: number[]; bottleneck: boolean }> = {
  18: { blocks: [2, 2, 2, 2], bottleneck: false },
  34: { blocks: [3, 4, 6, 3], bottleneck: false },
  50: { blocks: [3, 4, 6, 3], bottleneck: true },
  101: { blocks: [3, 4, 23, 3], bottleneck: true },
};

/** Scales a published channel count by the width multiplier (at least 1). */
export function scaledChannels(channels: number, width: number): number {
  return Math.max(1, Math.round(channels * width));
}

/** One residual block: main path, optional projection shortcut, sum, ReLU. */
interface ResidualBlock {
  /** conv → bn (→ relu) … of the main path, in order. */
  main: tf.layers.Layer[];
  /** 1×1 conv + bn projecting the shortcut, when shapes change. */
  shortcut: tf.layers.Layer[];
  add: tf.layers.Layer;
  relu: tf.layers.Layer;
}

/** Stride and dilation of each stage for an output stride. */
function stageGeometry(outputStride: OutputStride): { strides: number[]; dilations: number[] } {
  if (outputStride === 32) return { strides: [1, 2, 2, 2], dilations: [1, 1, 1, 1] };
  if (outputStride === 16) return { strides: [1, 2, 2, 1], dilations: [1, 1, 1, 2] };
  return { strides: [1, 2, 1, 1], dilations: [1, 1, 2, 4] };
}

/**
 * The ResNet body: stem (7×7 conv stride 2, BN, ReLU), 3×3 max pool, four
 * stages. Its pyramid is `[stem, stage1, …, stage4]` (strides 2, 4, 8, 16, 32
 * for output stride 32; dilated stages keep the previous stride).
 *
 * Within a dilated stage the first block's 3×3 convs use the previous
 * dilation and the others the new one (torchvision's convention).
 */
export class AtrousResNet {
  /** Channels of `[stem, stage1, …]`. */
  readonly channels: number[];
  /** Strides of `[stem, stage1, …]`. */
  readonly strides: number[];
  /** Stages built (1–4). */
  readonly stageCount: number;
  /** The body's layers (not a classifier added after it), in creation order. */
  readonly layers: tf.layers.Layer[];
  private readonly input: tf.layers.Layer[];
  private readonly stem: tf.layers.Layer[];
  private readonly pool: tf.layers.Layer[];
  private readonly torchPadding: boolean;
  private readonly stageBlocks: ResidualBlock[][] = [];

  /**
   * @param factory - creates the (named, seeded) layers
   * @param options - depth, width, output stride, stages
   */
  constructor(factory: LayerFactory, options: AtrousResNetOptions) {
    const layout = LAYOUT[options.depth];
    if (layout === undefined) throw new ConfigError('depth', 'must be one of 18, 34, 50, 101', options.depth);
    const stageCount = options.stages ?? 4;
    if (!Number.isInteger(stageCount) || stageCount < 1 || stageCount > 4) throw new ConfigError('stages', 'must be an integer in 1..4', stageCount);
    this.stageCount = stageCount;
    const padding = options.padding ?? 'same';
    if (padding !== 'same' && padding !== 'torch') throw new ConfigError('padding', "must be 'same' or 'torch'", padding);
    this.torchPadding = padding === 'torch';
    const firstLayer = factory.layers.length;
    const { strides, dilations } = stageGeometry(options.outputStride);
    const stemChannels = scaledChannels(64, options.width);
    this.input = options.normalize === true ? [factory.custom(new ImageNormalization({ name: factory.name('normalize') }))] : [];
    this.stem = [
      ...this.conv(factory, 'conv1', { filters: stemChannels, kernelSize: 7, strides: 2 }),
      factory.batchNorm('bn1'),
      factory.relu('relu'),
    ];
    // torch: PyTorch pads the max pool with −∞; its input is post-ReLU (≥ 0)
    // and every 3×3 window overlaps the image, so each window's max is ≥ 0 and
    // zero padding gives exactly the same result.
    this.pool = this.torchPadding ? [factory.zeroPad('maxpool.pad', 1), factory.maxPool('maxpool', 3, 'valid')] : [factory.maxPool('maxpool')];
    this.channels = [stemChannels];
    this.strides = [2];
    let inChannels = stemChannels;
    let stride = 4;
    let previousDilation = 1;
    for (let s = 0; s < stageCount; s++) {
      const planes = scaledChannels(64 * 2 ** s, options.width);
      const outChannels = layout.bottleneck ? planes * 4 : planes;
      const blocks: ResidualBlock[] = [];
      for (let b = 0; b < layout.blocks[s]!; b++) {
        const path = `layer${s + 1}.${b}`;
        const first = b === 0;
        blocks.push(this.makeBlock(factory, path, {
          inChannels: first ? inChannels : outChannels,
          planes,
          outChannels,
          stride: first ? strides[s]! : 1,
          dilation: first ? previousDilation : dilations[s]!,
          bottleneck: layout.bottleneck,
        }));
      }
      this.stageBlocks.push(blocks);
      stride *= strides[s]!;
      previousDilation = dilations[s]!;
      inChannels = outChannels;
      this.channels.push(outChannels);
      this.strides.push(stride);
    }
    this.layers = factory.layers.slice(firstLayer);
  }

  /**
   * A convolution; with `torch` padding a strided k×k one becomes explicit
   * symmetric zero padding (PyTorch's `padding = dilation·(k − 1)/2`) and a
   * `valid` convolution. Stride-1 `same` convolutions (dilated or not) are
   * already symmetric, as are 1×1 ones, so they stay as they are.
   */
  private conv(factory: LayerFactory, path: string, options: ConvOptions): tf.layers.Layer[] {
    const strided = (options.strides ?? 1) > 1 && options.kernelSize > 1;
    if (!this.torchPadding || !strided) return [factory.conv(path, options)];
    const pad = ((options.dilation ?? 1) * (options.kernelSize - 1)) / 2;
    return [factory.zeroPad(`${path}.pad`, pad), factory.conv(path, { ...options, padding: 'valid' })];
  }

  private makeBlock(
    factory: LayerFactory,
    path: string,
    o: { inChannels: number; planes: number; outChannels: number; stride: number; dilation: number; bottleneck: boolean },
  ): ResidualBlock {
    const main = o.bottleneck
      ? [
          factory.conv(`${path}.conv1`, { filters: o.planes, kernelSize: 1 }),
          factory.batchNorm(`${path}.bn1`),
          factory.relu(`${path}.relu1`),
          ...this.conv(factory, `${path}.conv2`, { filters: o.planes, kernelSize: 3, strides: o.stride, dilation: o.dilation }),
          factory.batchNorm(`${path}.bn2`),
          factory.relu(`${path}.relu2`),
          factory.conv(`${path}.conv3`, { filters: o.outChannels, kernelSize: 1 }),
          factory.batchNorm(`${path}.bn3`),
        ]
      : [
          ...this.conv(factory, `${path}.conv1`, { filters: o.planes, kernelSize: 3, strides: o.stride, dilation: o.dilation }),
          factory.batchNorm(`${path}.bn1`),
          factory.relu(`${path}.relu1`),
          factory.conv(`${path}.conv2`, { filters: o.outChannels, kernelSize: 3, dilation: o.dilation }),
          factory.batchNorm(`${path}.bn2`),
        ];
    const shortcut = o.stride !== 1 || o.inChannels !== o.outChannels
      ? [factory.conv(`${path}.downsample.0`, { filters: o.outChannels, kernelSize: 1, strides: o.stride }), factory.batchNorm(`${path}.downsample.1`)]
      : [];
    return { main, shortcut, add: factory.add(`${path}.add`), relu: factory.relu(`${path}.relu`) };
  }

  /**
   * Runs the body.
   * @param image - `[B, H, W, 3]`
   * @param runner - applies layers (eager kwargs or symbolic)
   * @returns the stem output and one output per built stage
   */
  forward<T extends GraphTensor>(image: T, runner: LayerRunner): ResNetOutputs<T> {
    const stem = runner.chain(this.stem, runner.chain(this.input, image));
    let x = runner.chain(this.pool, stem);
    const stages: T[] = [];
    for (const blocks of this.stageBlocks) {
      for (const block of blocks) {
        const main = runner.chain(block.main, x);
        const shortcut = block.shortcut.length > 0 ? runner.chain(block.shortcut, x) : x;
        x = runner.run(block.relu, runner.run(block.add, [main, shortcut]));
      }
      stages.push(x);
    }
    return { stem, stages };
  }
}
