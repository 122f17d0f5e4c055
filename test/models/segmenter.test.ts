import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, NeckLayer, RefinerLayer, compileArgs, createRegistry, createSegmenter, fromLayersModel, TinyFcn, type NeckSpec, type Refiner, type RefinerInputRoles, type RefinerInputs, type RefinerSpec, type Size2D } from '../../src/index.js';
import { expectTensorClose } from '../../src/testing/index.js';
import { roundTrip } from '../helpers/round_trip.js';

/** Takes two levels and the image; remembers the shapes it was given. */
class ProbeRefiner extends RefinerLayer {
  static readonly className = 'TestProbeRefiner';
  readonly refinerId = 'probe';
  seen: number[][] = [];
  firstLevelSum = 0;
  inputRoles(): RefinerInputRoles {
    return { features: 2, image: true };
  }
  protected configuredOutputSize(): Size2D | undefined {
    return undefined;
  }
  protected forward(inputs: RefinerInputs): tf.Tensor4D {
    this.seen = [...inputs.features!.map((f) => f.shape), inputs.image!.shape];
    this.firstLevelSum = tf.sum(inputs.features![0]!).dataSync()[0]!;
    return tf.clone(inputs.scores);
  }
}
tf.serialization.registerClass(ProbeRefiner);

/** A neck that doubles every level (weightless), to see that it was applied. */
class DoublingNeck extends NeckLayer {
  static readonly className = 'TestDoublingNeck';
  readonly neckId = 'double';
  protected forward(features: tf.Tensor4D[]): tf.Tensor4D[] {
    return features.map((f) => tf.mul(f, 2));
  }
}
tf.serialization.registerClass(DoublingNeck);

const emptySchema = compileArgs<Record<string, never>>('EmptyArgs', { type: 'object', properties: {}, required: [], additionalProperties: false } as never);

describe('createSegmenter', () => {
  it('maps an image to logits at the image size, for any size when inputSize is null', () => {
    const model = createSegmenter({ backbone: { type: 'fcn', channels: 2, classes: 3 } });
    expect(model.outputs[0]!.shape).toEqual([null, null, null, 3]);
    for (const [h, w] of [[32, 32], [24, 40]]) {
      const y = tf.tidy(() => model.predict(tf.zeros([1, h!, w!, 3])) as tf.Tensor);
      expect(y.shape).toEqual([1, h, w, 3]);
      y.dispose();
    }
    const fixed = createSegmenter({ backbone: { type: 'unet', channels: 2, classes: 3 }, inputSize: [16, 16] });
    expect(fixed.outputs[0]!.shape).toEqual([null, 16, 16, 3]);
    // U-Net scores are at full size already: no resize layer.
    expect(fixed.layers.some((l) => l.name === 'segmenter.logits')).toBe(false);
  });

  it('feeds the refiner the first N levels by default, or featureLevels, then the image', () => {
    const backbone = new TinyFcn({ channels: 2, classes: 3 });
    const probe = new ProbeRefiner();
    const model = createSegmenter({ backbone, refiner: probe, inputSize: [64, 64] });
    tf.dispose(model.predict(tf.zeros([1, 64, 64, 3])) as tf.Tensor);
    expect(probe.seen).toEqual([[1, 32, 32, 2], [1, 16, 16, 4], [1, 64, 64, 3]]);

    const chosen = new ProbeRefiner();
    const other = createSegmenter({ backbone: new TinyFcn({ channels: 2, classes: 3 }), refiner: chosen, inputSize: [64, 64], featureLevels: [0, 4], imageAsFeature: true });
    tf.dispose(other.predict(tf.zeros([1, 64, 64, 3])) as tf.Tensor);
    // Level 0 is the image itself; level 4 is the FCN's fourth stage.
    expect(chosen.seen).toEqual([[1, 64, 64, 3], [1, 4, 4, 16], [1, 64, 64, 3]]);
  });

  it('applies a neck between the pyramid and the refiner (built from a config and named "neck")', () => {
    const neckSpec: NeckSpec<Record<string, never>> = { id: 'double', summary: 'x2', schema: emptySchema, create: () => new DoublingNeck() };
    const registry = createRegistry({ necks: [neckSpec as NeckSpec<never>] });
    const backbone = new TinyFcn({ channels: 2, classes: 3 });
    const probe = new ProbeRefiner();
    const model = createSegmenter({ backbone, refiner: probe, neck: { type: 'double' }, registry, inputSize: [32, 32] });
    expect(model.layers.some((l) => l.name === 'neck')).toBe(true);
    const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    tf.dispose(model.predict(x) as tf.Tensor);
    const direct = backbone.apply(x);
    expect(probe.seen[0]).toEqual(direct.features[0]!.shape);
    const directSum = tf.sum(direct.features[0]!).dataSync()[0]!;
    expect(directSum).toBeGreaterThan(0);
    expect(probe.firstLevelSum).toBeCloseTo(2 * directSum, 2);
    tf.dispose([x, direct.scores, ...direct.features]);
    expect(() => createSegmenter({ backbone, neck: { type: 'nope' }, registry })).toThrow(/neck\.type must be one of .*'double', got "nope"/);
  });

  it('rejects a non-layer (non-differentiable) refiner with a ConfigError that says what to do', () => {
    const plain: Refiner = { refinerId: 'post', differentiable: false, refine: (inputs) => tf.clone(inputs.scores), dispose: () => undefined };
    const spec: RefinerSpec<Record<string, never>> = { id: 'post', summary: 'post', differentiable: false, schema: emptySchema, create: () => plain };
    const registry = createRegistry({ refiners: [spec as RefinerSpec<never>] });
    const attempt = (): unknown => createSegmenter({ backbone: { type: 'fcn', channels: 2 }, refiner: { type: 'post' }, registry });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/refiner must be a differentiable RefinerLayer to go inside a tf\.model .*refiner\.refine\(/);
  });

  it('reports pyramid/refiner mismatches and bad options as ConfigErrors', () => {
    const fcn = (): TinyFcn => new TinyFcn({ channels: 2, classes: 3 });
    expect(() => createSegmenter({ backbone: fcn(), refiner: new ProbeRefiner(), featureLevels: [0] })).toThrow(/featureLevels must list exactly 2 level\(s\)/);
    expect(() => createSegmenter({ backbone: fcn(), refiner: new ProbeRefiner(), featureLevels: [0, 7] })).toThrow(/featureLevels\[1\] must be an integer in 0\.\.4/);
    expect(() => createSegmenter({ backbone: fcn(), inputSize: [0, 4] as Size2D })).toThrow(/inputSize must be \[height, width\]/);
    const input = tf.input({ shape: [8, 8, 3] });
    const lg = tf.layers.conv2d({ name: 'lg', filters: 2, kernelSize: 1 }).apply(input) as tf.SymbolicTensor;
    const backbone = fromLayersModel(tf.model({ inputs: input, outputs: lg }), { scores: 'lg' });
    expect(() => createSegmenter({ backbone, refiner: new ProbeRefiner() })).toThrow(/refiner 'probe' takes 2 pyramid level\(s\) but the backbone gives 0/);
    expect(() => createSegmenter({ backbone: { type: 'fcn', channels: 0 } })).toThrow(/fcn\/channels must be >= 1/);
    expect(() => createSegmenter({ backbone: 42 as never })).toThrow(/backbone must be a Backbone or a \{ type, …args \} config/);
  });

  it('round-trips through save/load, including a wrapped user model', async () => {
    const input = tf.input({ shape: [16, 16, 3] });
    const f1 = tf.layers.conv2d({ name: 'f1', filters: 3, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
    const lg = tf.layers.conv2d({ name: 'lg', filters: 2, kernelSize: 1, kernelInitializer: tf.initializers.heNormal({ seed: 2 }) }).apply(f1) as tf.SymbolicTensor;
    const user = tf.model({ inputs: input, outputs: lg });
    for (const backbone of [new TinyFcn({ channels: 2, classes: 2, seed: 4 }), fromLayersModel(user, { scores: 'lg', features: ['f1'] })]) {
      const model = createSegmenter({ backbone, inputSize: [16, 16] });
      const reloaded = await roundTrip(model);
      const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const [a, b] = [model.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor];
      expectTensorClose(b, a, { atol: 1e-6 });
      tf.dispose([x, a, b]);
      reloaded.dispose();
    }
  });

  it('uses fixed layer names, so a rebuilt model loads weights by name', () => {
    const build = (seed: number): tf.LayersModel => createSegmenter({ backbone: { type: 'fcn', channels: 2, classes: 2, seed }, refiner: { type: 'none' } });
    const first = build(1);
    const second = build(2);
    expect(second.layers.map((l) => l.name)).toEqual(first.layers.map((l) => l.name));
    expect(first.layers.some((l) => l.name === 'refiner')).toBe(true);
    const named: tf.NamedTensorMap = {};
    for (const w of first.weights) named[w.originalName] = w.read();
    second.loadWeights(named, true);
    const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const [a, b] = [first.predict(x) as tf.Tensor, second.predict(x) as tf.Tensor];
    expectTensorClose(b, a, { atol: 0 });
    tf.dispose([x, a, b]);
  });
});
