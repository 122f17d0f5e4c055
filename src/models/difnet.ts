/**
 * `createDifNet()`: the full DifNet model of the paper and its reference code
 * (sdujump/DifNet) — a Sim-DeepLab seed branch, a separate atrous ResNet
 * similarity branch, and the cascaded random-walk {@link DiffusionHead}.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs, type JSONSchemaType } from '../core/config.js';
import type { Size2D } from '../core/ops/resize.js';
import { outputSizeSchema } from '../core/schemas.js';
import { AtrousResNet, type OutputStride, type ResNetDepth } from '../backbones/atrous_resnet.js';
import { LayerFactory } from '../backbones/layer_factory.js';
import { LayerRunner } from '../backbones/layer_backbone.js';
import { classesSchema, depthSchema, nameSchema, outputStrideSchema, seedSchema, widthSchema } from '../backbones/schemas.js';
import { SimDeepLab } from '../backbones/sim_deeplab.js';
import { DiffusionHead } from '../refiners/diffusion/index.js';
import { toImageSize } from './segmenter.js';

/** Arguments of {@link createDifNet}. */
export interface DifNetArgs {
  /**
   * Number of classes K.
   * @defaultValue 21
   */
  classes?: number;
  /**
   * Depth of both ResNets (seed and similarity branch).
   * @defaultValue 18
   */
  depth?: ResNetDepth;
  /**
   * Channel multiplier of both ResNets.
   * @defaultValue 1
   */
  width?: number;
  /**
   * Cascaded random walks, 1–5; walk 1 takes the image, walks 2–5 the
   * similarity branch's stages 1–4 (unused stages are not built).
   * @defaultValue 5
   */
  walks?: number;
  /**
   * Dimension d of the diffusion embeddings.
   * @defaultValue 64
   */
  embeddingDim?: number;
  /**
   * Learn the importance map M of the seed.
   * @defaultValue true
   */
  importance?: boolean;
  /**
   * Output stride of both ResNets (the diffusion runs at this stride).
   * @defaultValue 8
   */
  outputStride?: OutputStride;
  /**
   * Seed branch classifier: ASPP (true) or a single 3×3 conv.
   * @defaultValue true
   */
  aspp?: boolean;
  /**
   * Weight of the deep-supervision cross-entropy on the seed branch's scores
   * (`DiffusionHead`'s `seedLossWeight`); 0 trains on the output only, as the
   * reference does.
   * @defaultValue 0
   */
  seedLossWeight?: number;
  /**
   * Fixed input `[height, width]`, or null for any size.
   * @defaultValue null
   */
  inputSize?: Size2D | null;
  /**
   * Base seed; the branches and the head derive theirs from it.
   * @defaultValue 0
   */
  seed?: number;
  /**
   * Model name.
   * @defaultValue 'difnet'
   */
  name?: string;
}

/** Parsed {@link DifNetArgs}. */
type ResolvedDifNetArgs = Required<Omit<DifNetArgs, 'inputSize'>> & { inputSize: Size2D | null };

/** Schema of {@link DifNetArgs}. */
export const difNetSchema = compileArgs<DifNetArgs>('DifNetArgs', {
  type: 'object',
  properties: {
    classes: classesSchema,
    depth: depthSchema,
    width: widthSchema,
    walks: { type: 'integer', minimum: 1, maximum: 5, default: 5, nullable: true },
    embeddingDim: { type: 'integer', minimum: 1, default: 64, nullable: true },
    importance: { type: 'boolean', default: true, nullable: true },
    outputStride: outputStrideSchema,
    aspp: { type: 'boolean', default: true, nullable: true },
    seedLossWeight: { type: 'number', minimum: 0, default: 0, nullable: true },
    inputSize: outputSizeSchema,
    seed: seedSchema,
    name: nameSchema('difnet'),
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<DifNetArgs>);

/**
 * Builds DifNet as one `tf.LayersModel`: `image [B, H, W, 3] → logits
 * [B, H, W, K]`.
 *
 * - seed branch: Sim-DeepLab (layer prefix `seed`), scores at stride 8;
 * - similarity branch: an atrous ResNet without classifier (prefix
 *   `similarity`); its pyramid is `[image, stage1, …, stage4]`, the first
 *   `walks` levels of which feed the walks in order, as in the reference;
 * - head: {@link DiffusionHead} (layer name `diffusion`) — importance map,
 *   seed, `walks` random walks at the scores' resolution, upsampled to the
 *   input size.
 *
 * @param args - see {@link DifNetArgs}
 */
export function createDifNet(args: DifNetArgs = {}): tf.LayersModel {
  const a = parseArgs(difNetSchema, args) as ResolvedDifNetArgs;
  const image = tf.input({ shape: [a.inputSize?.[0] ?? null, a.inputSize?.[1] ?? null, 3], name: 'image' });
  const seedBranch = new SimDeepLab({
    classes: a.classes,
    depth: a.depth,
    width: a.width,
    outputStride: a.outputStride,
    aspp: a.aspp,
    seed: a.seed,
    name: 'seed',
  });
  const { scores } = seedBranch.apply(image);
  const pyramid: tf.SymbolicTensor[] = [image];
  if (a.walks > 1) {
    const similarity = new AtrousResNet(new LayerFactory('similarity', a.seed + 1), {
      depth: a.depth,
      width: a.width,
      outputStride: a.outputStride,
      stages: a.walks - 1,
    });
    pyramid.push(...similarity.forward(image, new LayerRunner(undefined)).stages);
  }
  const head = new DiffusionHead({
    walks: a.walks,
    embeddingDim: a.embeddingDim,
    importance: a.importance,
    seedLossWeight: a.seedLossWeight,
    outputSize: a.inputSize,
    seed: a.seed + 2,
    name: 'diffusion',
  } as ConstructorParameters<typeof DiffusionHead>[0]);
  const refined = head.apply([scores, ...pyramid]) as tf.SymbolicTensor;
  const logits = toImageSize(refined, image, `${a.name}.logits`);
  return tf.model({ inputs: image, outputs: logits, name: a.name });
}
