// The naming table of docs/concepts.md renamed some layer arguments. Code that
// still passes an old name gets a ConfigError naming the new one; a model saved
// before the rename (its config carries the old names) still loads.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, createNeck, createRefiner, EmbeddingHead, SdnNeck, SegAwareBilateral, SegAwareConv2D, SegAwareCrf, SemanticDifferenceConv2D, SpnRefiner } from '../../src/index.js';

const RENAMED: [string, () => unknown, RegExp][] = [
  ['segaware-bf dilation', () => createRefiner({ type: 'segaware-bf', dilation: 2 }), /^segaware-bf\/dilation was renamed: use 'dilationRate', got 2$/],
  ['segaware-bf lambdaInit', () => createRefiner({ type: 'segaware-bf', lambdaInit: 1 }), /^segaware-bf\/lambdaInit was renamed: use 'initialLambda'/],
  ['segaware-crf norm', () => createRefiner({ type: 'segaware-crf', norm: 'l2' }), /^segaware-crf\/norm was renamed: use 'distance'/],
  ['spn normalize', () => createRefiner({ type: 'spn', normalize: 'always' }), /^spn\/normalize was renamed: use 'normalization'/],
  ['sdn fusionInit', () => createNeck({ type: 'sdn', fusionInit: 'random' }), /^sdn\/fusionInit was renamed: use 'fusionInitializer'/],
  ['SegAwareConv2D lambdaInit', () => new SegAwareConv2D({ filters: 2, lambdaInit: 0.1 } as never), /^SegAwareConv2DArgs\/lambdaInit was renamed: use 'initialLambda'/],
  ['EmbeddingHead dim', () => new EmbeddingHead({ dim: 8 } as never), /^EmbeddingHeadArgs\/dim was renamed: use 'embeddingDim'/],
  ['SemanticDifferenceConv2D dilation', () => new SemanticDifferenceConv2D({ filters: 2, dilation: 2 } as never), /^SemanticDifferenceConv2DArgs\/dilation was renamed: use 'dilationRate'/],
];

describe('renamed arguments', () => {
  for (const [what, build, message] of RENAMED) {
    it(`${what}: a ConfigError names the new argument`, () => {
      expect(build).toThrow(ConfigError);
      expect(build).toThrow(message);
    });
  }

  it('a config saved under the old names still loads, under the new names', () => {
    const cases: [tf.serialization.SerializableConstructor<tf.layers.Layer>, tf.serialization.ConfigDict, tf.serialization.ConfigDict][] = [
      [SegAwareBilateral as never, { dilation: 2, lambdaInit: 0.5, norm: 'l2' }, { dilationRate: 2, initialLambda: 0.5, distance: 'l2' }],
      [SegAwareCrf as never, { dilation: 3, norm: 'l2' }, { dilationRate: 3, distance: 'l2' }],
      [SegAwareConv2D as never, { filters: 2, lambdaInit: 0.2, norm: 'l2' }, { initialLambda: 0.2, distance: 'l2' }],
      [EmbeddingHead as never, { dim: 8, levels: 2 }, { embeddingDim: 8, featureLevels: 2 }],
      [SemanticDifferenceConv2D as never, { filters: 2, dilation: 2, lambdaInit: 0.3 }, { dilationRate: 2, initialLambda: 0.3 }],
      [SdnNeck as never, { dilation: 2, lambdaInit: 0.4, fusionInit: 'random' }, { dilationRate: 2, initialLambda: 0.4, fusionInitializer: 'random' }],
      [SpnRefiner as never, { normalize: 'always' }, { normalization: 'always' }],
    ];
    for (const [cls, saved, expected] of cases) {
      const layer = (cls as unknown as typeof tf.layers.Layer).fromConfig(cls, { name: 'saved', ...saved });
      expect(layer.getConfig()).toMatchObject(expected);
    }
  });
});
