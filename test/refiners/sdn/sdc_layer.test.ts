import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { ConfigError, SemanticDifferenceConv2D, semanticDifferenceConv, ShapeError } from '../../../src/index.js';
import { expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';

async function saveAndReload(model: tf.LayersModel): Promise<tf.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tf.loadLayersModel(tf.io.fromMemory(saved!));
}

describeOnBackends('SemanticDifferenceConv2D', () => {
  it('computes the op with its own kernel and λ', () => {
    const layer = new SemanticDifferenceConv2D({ filters: 3, dilationRate: 2, initialLambda: 0.5, seed: 4 });
    const u = tf.randomNormal([2, 5, 6, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
    const v = tf.randomNormal([2, 5, 6, 2], 0, 1, 'float32', 2) as tf.Tensor4D;
    const y = layer.apply([u, v]) as tf.Tensor4D;
    expect(y.shape).toEqual([2, 5, 6, 3]);
    const [kernel, lambda] = layer.getWeights();
    expect(kernel!.shape).toEqual([3, 3, 2, 3]);
    expectTensorClose(lambda!, [0.5, 0.5]);
    const expected = semanticDifferenceConv(u, v, kernel as tf.Tensor4D, lambda as tf.Tensor1D, { kernelSize: 3, dilation: 2 });
    expectTensorClose(y, expected, { atol: 1e-6 });
    tf.dispose([u, v, y, expected]);
    layer.dispose();
  });

  it('round-trips through save/load inside a functional model', async () => {
    const uIn = tf.input({ shape: [4, 5, 3] });
    const vIn = tf.input({ shape: [4, 5, 6] });
    const layer = new SemanticDifferenceConv2D({ filters: 2, similarity: 'embedding', kernelSize: 5, initialLambda: 0.3 });
    const out = layer.apply([uIn, vIn]) as tf.SymbolicTensor;
    expect(out.shape).toEqual([null, 4, 5, 2]);
    const model = tf.model({ inputs: [uIn, vIn], outputs: out });
    const reloaded = await saveAndReload(model);
    const u = tf.randomNormal([1, 4, 5, 3], 0, 1, 'float32', 3);
    const v = tf.randomNormal([1, 4, 5, 6], 0, 1, 'float32', 4);
    const a = model.predict([u, v]) as tf.Tensor;
    const b = reloaded.predict([u, v]) as tf.Tensor;
    expect(tf.max(tf.abs(a)).dataSync()[0]).toBeGreaterThan(0);
    expectTensorClose(b, a, { atol: 0, rtol: 0 });
    tf.dispose([u, v, a, b]);
    model.dispose();
    reloaded.dispose();
  });

  it('does not leak', async () => {
    const layer = new SemanticDifferenceConv2D({ filters: 2 });
    const u = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
    await expectNoLeak(() => layer.apply([u, u]));
    u.dispose();
    layer.dispose();
  });

  it('rejects bad inputs and args with typed errors', () => {
    const layer = new SemanticDifferenceConv2D({ filters: 2 });
    expect(() => layer.apply([tf.input({ shape: [4, 4, 3] }), tf.input({ shape: [4, 4, 2] })])).toThrow(/^V must have U's 3 channels/);
    expect(() => layer.apply([tf.input({ shape: [4, 4, 3] }), tf.input({ shape: [4, 5, 3] })])).toThrow(ShapeError);
    expect(() => layer.apply([tf.input({ shape: [4, 4, 3] })])).toThrow(/inputs must be \[U, V\]/);
    const built = new SemanticDifferenceConv2D({ filters: 2 });
    built.apply([tf.input({ shape: [4, 4, 3] }), tf.input({ shape: [4, 4, 3] })]);
    expect(() => built.apply([tf.input({ shape: [4, 4, 2] }), tf.input({ shape: [4, 4, 2] })])).toThrow(/^U must have 3 channels, as when the layer was built/);
    expect(() => new SemanticDifferenceConv2D({ filters: 2, kernelSize: 4 as 3 })).toThrow('SemanticDifferenceConv2DArgs/kernelSize must be one of 3, 5, 7, got 4');
    expect(() => new SemanticDifferenceConv2D({ filters: 0 })).toThrow(ConfigError);
    expect(() => new SemanticDifferenceConv2D({ filters: 2, initialLambda: 0 })).toThrow(/initialLambda must be > 0/);
  });
});
