import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DiffusionHead, createDifNet, createSegmenter } from '../../src/index.js';
import { expectTensorClose } from '../../src/testing/index.js';

const trainable = (model: tf.LayersModel): number => model.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);

describe('createDifNet', () => {
  it('assembles seed branch, similarity branch and DiffusionHead into image → logits at the input size', () => {
    const model = createDifNet({ depth: 18, width: 0.0625, classes: 3, embeddingDim: 8, inputSize: [32, 32] });
    expect(model.outputs[0]!.shape).toEqual([null, 32, 32, 3]);
    const names = model.layers.map((l) => l.name);
    expect(names).toContain('seed.aspp.0');
    expect(names).toContain('similarity.layer4.1.conv2');
    expect(names.some((n) => n.startsWith('similarity.aspp') || n.startsWith('similarity.classifier'))).toBe(false);
    const head = model.getLayer('diffusion') as DiffusionHead;
    expect(head).toBeInstanceOf(DiffusionHead);
    expect(head.walks).toBe(5);
    // The walks see [image, stage1..4] of the similarity branch, in order.
    const inbound = (head as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes[0]!.inboundLayers.map((l) => l.name);
    expect(inbound).toEqual(['seed.aspp.sum', 'image', 'similarity.layer1.1.relu', 'similarity.layer2.1.relu', 'similarity.layer3.1.relu', 'similarity.layer4.1.relu']);
    const y = tf.tidy(() => model.predict(tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 1)) as tf.Tensor);
    expect(y.shape).toEqual([2, 32, 32, 3]);
    y.dispose();
  });

  it('builds only the similarity stages the walks use', () => {
    const three = createDifNet({ depth: 18, width: 0.0625, classes: 2, walks: 3, embeddingDim: 4 });
    const names = three.layers.map((l) => l.name);
    expect(names.some((n) => n.startsWith('similarity.layer2.'))).toBe(true);
    expect(names.some((n) => n.startsWith('similarity.layer3.'))).toBe(false);
    const one = createDifNet({ depth: 18, width: 0.0625, classes: 2, walks: 1, embeddingDim: 4 });
    expect(one.layers.some((l) => l.name.startsWith('similarity.'))).toBe(false);
  });

  it('has about the parameters of Sim-DeepLab-34 at equal width (the paper’s comparison)', () => {
    const difnet = createDifNet({ depth: 18, width: 0.25, classes: 21 });
    const sd34 = createSegmenter({ backbone: { type: 'sim-deeplab', depth: 34, width: 0.25, classes: 21 } });
    const ratio = trainable(difnet) / trainable(sd34);
    expect(ratio).toBeGreaterThan(0.9);
    expect(ratio).toBeLessThan(1.15);
  });

  it('round-trips through save/load and rebuilds with the same weight names', async () => {
    const build = (seed: number): tf.LayersModel => createDifNet({ depth: 18, width: 0.0625, classes: 2, embeddingDim: 4, inputSize: [16, 16], seed });
    const model = build(1);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const rebuilt = build(2);
    const named: tf.NamedTensorMap = {};
    for (const w of model.weights) named[w.originalName] = w.read();
    rebuilt.loadWeights(named, true);
    const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const expected = model.predict(x) as tf.Tensor;
    const outs = [reloaded.predict(x) as tf.Tensor, rebuilt.predict(x) as tf.Tensor];
    outs.forEach((o) => expectTensorClose(o, expected, { atol: 1e-6 }));
    tf.dispose([x, expected, ...outs]);
    reloaded.dispose();
  });

  it('rejects bad args with ConfigErrors', () => {
    expect(() => createDifNet({ walks: 6 })).toThrow(/DifNetArgs\/walks must be <= 5, got 6/);
    expect(() => createDifNet({ depth: 19 as 18 })).toThrow(ConfigError);
    expect(() => createDifNet({ inputSize: [8] as unknown as [number, number] })).toThrow(/DifNetArgs\/inputSize/);
  });
});
