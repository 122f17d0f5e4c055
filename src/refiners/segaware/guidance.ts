/**
 * What the segmentation-aware refiners share: the arguments that pick their
 * embedding sources, and the nested {@link EmbeddingHead} built from them.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../core/errors.js';
import type { NamedInputs, RefinerInputs } from '../../core/refiner.js';
import { EmbeddingHead } from './embedding_head.js';
import { Type, type Static } from '../../core/schemas.js';
import type { TObject } from '@sinclair/typebox';

/**
 * Schema properties that choose and shape the embeddings of a
 * segmentation-aware refiner (spread into each refiner's schema).
 * @internal
 */
export const guidanceSchemaProperties = {
  /** Embedding dimension D. */
  embeddingDim: Type.Optional(Type.Integer({ minimum: 1, default: 64 })),
  /** Pyramid levels taken as `features` (the finest ones, fine → coarse); 0 = none. */
  featureLevels: Type.Optional(Type.Integer({ minimum: 0, maximum: 16, default: 1 })),
  /** Whether the RGB image is taken (last input) as an embedding source too. */
  useImage: Type.Optional(Type.Boolean({ default: false })),
  /** Seed of the embedding head's initialisers. */
  seed: Type.Optional(Type.Integer({ default: 0 })),
};

/**
 * Arguments that choose and shape the embeddings of a segmentation-aware refiner.
 * @interface
 */
export type GuidanceArgs = Static<TObject<typeof guidanceSchemaProperties>>;

/**
 * Builds the nested embedding head of a refiner (its weights are named
 * `<refiner>/embedding/<projection>/…`, stable across save and reload).
 * @param args - parsed guidance args
 * @param where - args name for errors, e.g. `SegAwareBilateralArgs`
 * @internal
 */
export function createGuidanceHead(args: Required<GuidanceArgs>, where: string): EmbeddingHead {
  if (args.featureLevels === 0 && !args.useImage) {
    throw new ConfigError(`${where}/featureLevels`, 'must be >= 1 when useImage is false (the embeddings need a source)', 0);
  }
  return new EmbeddingHead({ name: 'embedding', embeddingDim: args.embeddingDim, featureLevels: args.featureLevels, useImage: args.useImage, seed: args.seed });
}

/**
 * Builds `head` for the given input shapes, through one tiny `apply()` inside
 * the owner's `build()` (which opens the name scopes tfjs names weights by).
 * @internal
 */
export function buildGuidanceHead(head: EmbeddingHead, shapes: NamedInputs<tf.Shape>): void {
  const sources = [...shapes.features, ...(shapes.image !== undefined ? [shapes.image] : [])];
  tf.tidy(() => {
    head.apply(sources.map((shape) => tf.zeros(shape.map((d, i) => (i === 0 || d === null || d === undefined ? 1 : d)))));
  });
}

/**
 * The embedding sources among a refiner's inputs: the feature levels, then the image.
 * @internal
 */
export function guidanceSources(inputs: RefinerInputs): tf.Tensor4D[] {
  return [...(inputs.features ?? []), ...(inputs.image !== undefined ? [inputs.image] : [])];
}
