/**
 * `createDifNet()`: the full DifNet model of the paper and its reference code
 * (sdujump/DifNet) — a Sim-DeepLab seed branch, a separate atrous ResNet
 * similarity branch, and the cascaded random-walk {@link DiffusionHead}.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs } from '../core/config.js';
import { ArgsObject, OutputSize, Type, type Static } from '../core/schemas.js';
import { AtrousResNet } from '../backbones/atrous_resnet.js';
import { LayerFactory } from '../backbones/layer_factory.js';
import { LayerRunner } from '../backbones/layer_backbone.js';
import { classesSchema, depthSchema, layerNameSchema, outputStrideSchema, pretrainedArgs, seedSchema, widthSchema } from '../backbones/schemas.js';
import { loadTorchvisionResNet, resolvePretrained, torchvisionName } from '../backbones/torchvision_weights.js';
import { SimDeepLab } from '../backbones/sim_deeplab.js';
import { DiffusionHead } from '../refiners/diffusion/index.js';
import { toImageSize } from './segmenter.js';

/** Schema of {@link DifNetArgs}: the arguments, their rules and defaults, declared once. */
const difNetArgs = ArgsObject({
  /**
   * Number of classes K.
   */
  classes: classesSchema,
  /**
   * Depth of both ResNets (seed and similarity branch).
   */
  depth: depthSchema,
  /**
   * Channel multiplier of both ResNets.
   */
  width: widthSchema,
  /**
   * Cascaded random walks, 1–5; walk 1 takes the image, walks 2–5 the
   * similarity branch's stages 1–4 (unused stages are not built).
   */
  walks: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, default: 5 })),
  /**
   * Dimension d of the diffusion embeddings.
   */
  embeddingDim: Type.Optional(Type.Integer({ minimum: 1, default: 64 })),
  /**
   * Learn the importance map M of the seed.
   */
  importance: Type.Optional(Type.Boolean({ default: true })),
  /**
   * Output stride of both ResNets (the diffusion runs at this stride).
   */
  outputStride: outputStrideSchema,
  /**
   * Seed branch classifier: ASPP (true) or a single 3×3 conv.
   */
  aspp: Type.Optional(Type.Boolean({ default: true })),
  /**
   * Weight of the deep-supervision cross-entropy on the seed branch's scores
   * (`DiffusionHead`'s `seedLossWeight`); 0 trains on the output only, as the
   * reference does.
   */
  seedLossWeight: Type.Optional(Type.Number({ minimum: 0, default: 0 })),
  /**
   * Fixed input `[height, width]`, or null for any size.
   */
  inputSize: OutputSize({ default: null }),
  /**
   * Base seed; the branches and the head derive theirs from it.
   */
  seed: seedSchema,
  /**
   * Model name.
   */
  name: layerNameSchema({ default: 'difnet' }),
  ...pretrainedArgs,
});

/**
 * Arguments of {@link createDifNet}.
 * @interface
 */
export type DifNetArgs = Static<typeof difNetArgs>;

/** Parsed {@link DifNetArgs}. */
type ResolvedDifNetArgs = DifNetArgs & Required<Omit<DifNetArgs, 'weights' | 'padding' | 'normalize'>>;

/** Schema of {@link DifNetArgs}. */
export const difNetSchema = compileArgs('DifNetArgs', difNetArgs);

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
 * With `weights` both ResNets (seed and similarity branch) load the same
 * torchvision file, as both start from ImageNet in the paper; the similarity
 * branch skips the stages it does not build, and its first walk still sees
 * the image itself. The ASPP and the head stay fresh.
 *
 * @param args - see {@link DifNetArgs}
 */
export function createDifNet(args: DifNetArgs = {}): tf.LayersModel {
  const a = parseArgs(difNetSchema, args) as ResolvedDifNetArgs;
  // Parsed once, before any layer exists: a bad file fails first.
  const pretrained = resolvePretrained(a, `${difNetSchema.name}/weights`);
  const image = tf.input({ shape: [a.inputSize?.[0] ?? null, a.inputSize?.[1] ?? null, 3], name: 'image' });
  const seedBranch = new SimDeepLab({
    classes: a.classes,
    depth: a.depth,
    width: a.width,
    outputStride: a.outputStride,
    aspp: a.aspp,
    seed: a.seed,
    name: 'seed',
    padding: pretrained.padding,
    normalize: pretrained.normalize,
  });
  const { scores } = seedBranch.apply(image);
  const pyramid: tf.SymbolicTensor[] = [image];
  const bodies = [{ body: seedBranch.resnet, prefix: 'seed' }];
  if (a.walks > 1) {
    const similarity = new AtrousResNet(new LayerFactory('similarity', a.seed + 1), {
      depth: a.depth,
      width: a.width,
      outputStride: a.outputStride,
      stages: a.walks - 1,
      padding: pretrained.padding,
      normalize: pretrained.normalize,
    });
    pyramid.push(...similarity.forward(image, new LayerRunner(undefined)).stages);
    bodies.push({ body: similarity, prefix: 'similarity' });
  }
  // Applied symbolically, every layer is built: the weights can be set now.
  const file = pretrained.file;
  if (file !== undefined) {
    try {
      for (const { body, prefix } of bodies) loadTorchvisionResNet(body, prefix, file, torchvisionName(a.depth, a.width));
    } catch (error) {
      seedBranch.dispose();
      for (const { body } of bodies.slice(1)) for (const layer of body.layers) if (layer.built) layer.dispose();
      throw error;
    }
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
