import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ResNetBackbone, SimDeepLab, SmallUNet, TinyFcn, ShapeError, defaultRegistry, type Backbone } from '../../src/index.js';
import { expectNoLeak, expectTensorClose } from '../../src/testing/index.js';

const trainableCount = (weights: tf.LayerVariable[]): number => weights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);

/** Builds the backbone symbolically at `size` and returns its output shapes. */
function shapesAt(backbone: Backbone, size: number): { scores: tf.Shape; features: tf.Shape[] } {
  const out = backbone.apply(tf.input({ shape: [size, size, 3] }));
  return { scores: out.scores.shape, features: out.features.map((f) => f.shape) };
}

describe('atrous ResNet', () => {
  it('has torchvision ResNet-18/50 parameter counts (body without fc) at width 1', () => {
    // torchvision resnet18: 11,689,512 params − fc 513,000; resnet50: 25,557,032 − 2,049,000.
    for (const [depth, body] of [[18, 11_176_512], [50, 23_508_032]] as const) {
      const backbone = new ResNetBackbone({ depth, classes: 2 });
      backbone.apply(tf.input({ shape: [32, 32, 3] }));
      const classifier = 2 * (backbone.outChannels[4]! + 1); // 1×1 conv to two classes, with bias
      expect(trainableCount(backbone.trainableWeights)).toBe(body + classifier);
      backbone.dispose();
    }
  });

  it('gives the pyramid [stem, stage1..4] with its channels and strides, for output strides 8/16/32', () => {
    const expected: Record<number, number[]> = { 8: [2, 4, 8, 8, 8], 16: [2, 4, 8, 16, 16], 32: [2, 4, 8, 16, 32] };
    for (const outputStride of [8, 16, 32] as const) {
      const backbone = new ResNetBackbone({ depth: 18, width: 0.125, outputStride, classes: 3 });
      expect(backbone.levelStrides).toEqual(expected[outputStride]);
      expect(backbone.outputStride).toBe(outputStride);
      expect(backbone.outChannels).toEqual([8, 8, 16, 32, 64]);
      const { scores, features } = shapesAt(backbone, 64);
      expect(scores).toEqual([null, 64 / outputStride, 64 / outputStride, 3]);
      expect(features.map((f) => f[1])).toEqual(expected[outputStride]!.map((s) => 64 / s));
      expect(features.map((f) => f[3])).toEqual([...backbone.outChannels]);
    }
    const bottleneck = new ResNetBackbone({ depth: 50, width: 0.0625 });
    expect(bottleneck.outChannels).toEqual([4, 16, 32, 64, 128]);
  });

  it('dilates the last stages instead of striding (DeepLab) and uses batch norm after every conv', () => {
    const backbone = new ResNetBackbone({ depth: 18, width: 0.125, outputStride: 8, name: 'r' });
    const rate = (name: string): unknown => (backbone.layers.find((l) => l.name === name)!.getConfig() as { dilationRate: unknown }).dilationRate;
    expect(rate('r.layer2.0.conv1')).toEqual([1, 1]);
    expect(rate('r.layer3.0.conv1')).toEqual([1, 1]); // first block keeps the previous dilation
    expect(rate('r.layer3.1.conv1')).toEqual([2, 2]);
    expect(rate('r.layer4.0.conv1')).toEqual([2, 2]);
    expect(rate('r.layer4.1.conv2')).toEqual([4, 4]);
    const convs = backbone.layers.filter((l) => l.getClassName() === 'Conv2D' && l.name !== 'r.classifier').length;
    const norms = backbone.layers.filter((l) => l.getClassName() === 'BatchNormalization').length;
    expect(norms).toBe(convs);
  });

  it('names layers deterministically and uniquely under its prefix', () => {
    const a = new SimDeepLab({ depth: 18, width: 0.125, name: 'seed' });
    const b = new SimDeepLab({ depth: 18, width: 0.125, name: 'seed' });
    const names = a.layers.map((l) => l.name);
    expect(names).toEqual(b.layers.map((l) => l.name));
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => n.startsWith('seed.'))).toBe(true);
    expect(names).toContain('seed.layer1.0.conv1');
    expect(names).toContain('seed.aspp.3');
  });

  it('initialises identically for one seed and differently for another', () => {
    const weightsOf = (seed: number): tf.Tensor[] => {
      const backbone = new TinyFcn({ channels: 4, classes: 2, seed });
      backbone.apply(tf.input({ shape: [16, 16, 3] }));
      return backbone.trainableWeights.map((w) => w.read());
    };
    const [a, b, c] = [weightsOf(3), weightsOf(3), weightsOf(4)];
    a.forEach((w, i) => expectTensorClose(w, b[i]!, { atol: 0 }));
    expect(a.some((w, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(w, c[i]!))).dataSync()[0]!) > 0)).toBe(true);
  });

  it('rejects bad args with ConfigErrors naming the field', () => {
    expect(() => new ResNetBackbone({ depth: 20 as 18 })).toThrow(/resnet\/depth must be one of 18, 34, 50, 101, got 20/);
    expect(() => new ResNetBackbone({ width: 0 })).toThrow(ConfigError);
    expect(() => new SimDeepLab({ outputStride: 4 as 8 })).toThrow(/sim-deeplab\/outputStride/);
    expect(() => new SimDeepLab({ rates: [] })).toThrow(/sim-deeplab\/rates/);
    expect(() => new TinyFcn({ name: 'bad name' })).toThrow(/fcn\/name must match pattern/);
    expect(() => defaultRegistry().createBackbone({ type: 'resnet', bogus: 1 })).toThrow(/resnet\/bogus is not a known argument/);
    expect(() => defaultRegistry().createBackbone({ type: 'vgg' })).toThrow(/backbone\.type must be one of 'resnet', 'sim-deeplab', 'fcn', 'unet'/);
  });
});

describe('Sim-DeepLab', () => {
  it('sums four dilated 3×3 classifiers (rates 6/12/18/24) into stride-8 scores', () => {
    const backbone = new SimDeepLab({ depth: 18, width: 0.125, classes: 5, name: 's' });
    expect(shapesAt(backbone, 64).scores).toEqual([null, 8, 8, 5]);
    const aspp = backbone.layers.filter((l) => l.name.startsWith('s.aspp.') && l.getClassName() === 'Conv2D');
    expect(aspp.map((l) => (l.getConfig() as { dilationRate: number[] }).dilationRate[0])).toEqual([6, 12, 18, 24]);
    const plain = new SimDeepLab({ depth: 18, width: 0.125, classes: 5, aspp: false, name: 's' });
    expect(plain.layers.filter((l) => l.name.startsWith('s.aspp'))).toHaveLength(0);
    expect(shapesAt(plain, 64).scores).toEqual([null, 8, 8, 5]);
  });
});

describe('small backbones', () => {
  it('TinyFcn: five stages at strides 2..32, FCN-8s scores at stride 8 (odd sizes too)', () => {
    const backbone = new TinyFcn({ channels: 4, classes: 3 });
    expect(backbone.outChannels).toEqual([4, 8, 16, 32, 32]);
    expect(shapesAt(backbone, 64).scores).toEqual([null, 8, 8, 3]);
    const odd = backbone.apply(tf.zeros([1, 37, 45, 3]) as tf.Tensor4D);
    expect(odd.scores.shape).toEqual([1, 5, 6, 3]);
    tf.dispose([odd.scores, ...odd.features]);
  });

  it('SmallUNet: five encoder levels at strides 1..16, scores at full size (odd sizes too)', () => {
    const backbone = new SmallUNet({ channels: 2, classes: 3 });
    expect(backbone.outChannels).toEqual([2, 4, 8, 16, 32]);
    expect(backbone.levelStrides).toEqual([1, 2, 4, 8, 16]);
    const odd = backbone.apply(tf.zeros([1, 19, 23, 3]) as tf.Tensor4D);
    expect(odd.scores.shape).toEqual([1, 19, 23, 3]);
    expect(odd.features.map((f) => f.shape[1])).toEqual([19, 10, 5, 3, 2]);
    tf.dispose([odd.scores, ...odd.features]);
  });
});

describe('backbone apply', () => {
  it('eager apply equals the functional model, in inference and training mode', () => {
    const backbone = new ResNetBackbone({ depth: 18, width: 0.0625, classes: 2 });
    const input = tf.input({ shape: [32, 32, 3] });
    const out = backbone.apply(input);
    const model = tf.model({ inputs: input, outputs: [out.scores, ...out.features] });
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const eager = backbone.apply(x);
    const predicted = model.predict(x) as tf.Tensor[];
    expectTensorClose(eager.scores, predicted[0]!, { atol: 1e-5 });
    eager.features.forEach((f, i) => expectTensorClose(f, predicted[i + 1]!, { atol: 1e-5 }));
    const trainingMode = backbone.apply(x, { training: true });
    // Batch statistics differ from the (initial) moving statistics.
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(trainingMode.scores, eager.scores))).dataSync()[0]!)).toBeGreaterThan(1e-4);
    tf.dispose([x, eager.scores, ...eager.features, ...predicted, trainingMode.scores, ...trainingMode.features]);
    model.dispose();
  });

  it('rejects a non-RGB image with a ShapeError and does not leak', async () => {
    const backbone = new TinyFcn({ channels: 2, classes: 2 });
    expect(() => backbone.apply(tf.input({ shape: [16, 16, 1] }))).toThrow(ShapeError);
    expect(() => backbone.apply(tf.input({ shape: [16, 16, 1] }))).toThrow(/fcn image must have 3 \(RGB\) channels/);
    const x = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
    await expectNoLeak(() => backbone.apply(x, { training: true }));
    x.dispose();
    backbone.dispose();
  });
});
