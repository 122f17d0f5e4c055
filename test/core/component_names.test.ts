// One name per component: a registered refiner, backbone or neck is named by
// its registry id in configs, in the registry, in its argument errors, on the
// instance and (for layers) in saved models as `segrefine>id`; models saved
// under the class names of earlier versions still load.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, createSegmenter, defaultRegistry, DiffusionHead, TinyFcn, type Refiner } from '../../src/index.js';
import { expectNoLeak } from '../../src/testing/index.js';
import { roundTrip } from '../helpers/round_trip.js';

/** The ConfigError a config with one unknown argument gets. */
function unknownArgumentError(build: () => unknown): ConfigError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('one name per component', () => {
  const registry = defaultRegistry();

  for (const spec of registry.refiners()) {
    it(`refiner '${spec.id}': schema, instance, class name and errors all say '${spec.id}'`, () => {
      expect(spec.schema.name).toBe(spec.id);
      const refiner: Refiner = registry.createRefiner({ type: spec.id });
      try {
        expect(refiner.refinerId).toBe(spec.id);
        if (refiner instanceof tf.layers.Layer) {
          expect(refiner.getClassName()).toBe(`segrefine>${spec.id}`);
          expect(refiner.name).toMatch(new RegExp(`^${spec.id}_\\d+$`));
        }
      } finally {
        refiner.dispose();
      }
      expect(unknownArgumentError(() => registry.createRefiner({ type: spec.id, bogus: 1 })).argument).toBe(`${spec.id}/bogus`);
    });
  }

  for (const spec of registry.necks()) {
    it(`neck '${spec.id}': schema, instance, class name and errors all say '${spec.id}'`, () => {
      expect(spec.schema.name).toBe(spec.id);
      const neck = registry.createNeck({ type: spec.id });
      expect(neck.neckId).toBe(spec.id);
      expect((neck as unknown as tf.layers.Layer).getClassName()).toBe(`segrefine>${spec.id}`);
      expect(unknownArgumentError(() => registry.createNeck({ type: spec.id, bogus: 1 })).argument).toBe(`${spec.id}/bogus`);
    });
  }

  for (const spec of registry.backbones()) {
    it(`backbone '${spec.id}': schema and errors say '${spec.id}'`, () => {
      expect(spec.schema.name).toBe(spec.id);
      expect(unknownArgumentError(() => registry.checkBackbone({ type: spec.id, classes: 2, bogus: 1 })).argument).toBe(`${spec.id}/bogus`);
    });
  }

  it('a backbone instance carries its registry id', () => {
    const backbone = registry.createBackbone({ type: 'fcn', classes: 2, seed: 1 }) as TinyFcn;
    try {
      expect(backbone.id).toBe('fcn');
    } finally {
      backbone.dispose();
    }
  });

  it('a model saved under an earlier class name (SegrefineDiffusionHead) loads, and saves under the current one', async () => {
    const model = createSegmenter({ backbone: { type: 'fcn', classes: 2, seed: 1 }, refiner: { type: 'difnet', walks: 1, embeddingDim: 4 }, inputSize: [16, 16] });
    const image = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 3);
    const expected = model.predict(image) as tf.Tensor;
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const topology = JSON.stringify(saved!.modelTopology);
    expect(topology).toContain('"segrefine>difnet"');
    const oldTopology = JSON.parse(topology.replaceAll('"segrefine>difnet"', '"SegrefineDiffusionHead"')) as object;
    const loaded = await tf.loadLayersModel(tf.io.fromMemory({ ...saved!, modelTopology: oldTopology }));
    const head = loaded.layers.find((layer) => layer instanceof DiffusionHead);
    expect(head?.getClassName()).toBe('segrefine>difnet');
    const reloaded = await roundTrip(loaded);
    const actual = reloaded.predict(image) as tf.Tensor;
    expect(actual.shape).toEqual(expected.shape);
    expect(tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([image, expected, actual]);
    for (const m of [model, loaded, reloaded]) m.dispose();
  });

  it('default layer names count per component and leak nothing', () => {
    expectNoLeak(() => {
      const first = new DiffusionHead({ walks: 1 });
      const second = new DiffusionHead({ walks: 1 });
      expect(first.name).not.toBe(second.name);
      expect(new DiffusionHead({ walks: 1, name: 'mine' } as never).name).toBe('mine');
    });
  });
});
