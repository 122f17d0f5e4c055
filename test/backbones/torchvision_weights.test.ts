/**
 * torchvision ResNet weights (safetensors) in the `resnet` backbone: stage
 * outputs equal torchvision's for the same weights and image. Fixtures:
 * test/fixtures/torchvision/, made by scripts/make-resnet-fixture.py.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DataError,
  ResNetBackbone,
  SimDeepLab,
  createDifNet,
  createSegmenter,
  defaultRegistry,
  parseSafetensors,
  type SafetensorsFile,
} from '../../src/index.js';
import { setWeightsFileReader } from '../../src/core/weights_reader.js';
import { readSafetensors } from '../../src/node/index.js';
import { describeOnBackends } from '../helpers/backends.js';
import { roundTrip } from '../helpers/round_trip.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/torchvision/${name}`, import.meta.url));
const R18 = fixture('resnet18_w0.125.safetensors');
const R50 = fixture('resnet50_w0.0625.safetensors');
const r18Bytes = readFileSync(R18);
const r50Bytes = readFileSync(R50);
const r18Out = parseSafetensors(readFileSync(fixture('resnet18_w0.125_outputs.safetensors')));
const r50Out = parseSafetensors(readFileSync(fixture('resnet50_w0.0625_outputs.safetensors')));

/** A stored NCHW tensor as NHWC. */
function nhwc(file: SafetensorsFile, name: string): tf.Tensor4D {
  const t = file.tensors.get(name);
  if (t === undefined || t.values === null) throw new Error(`fixture has no float tensor ${name}`);
  return tf.tidy(() => tf.transpose(tf.tensor4d(t.values!, t.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** max |a − b| / max |b|. */
function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(() => {
    expect(actual.shape).toEqual(expected.shape);
    const diff = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]!;
    return diff / tf.max(tf.abs(expected)).dataSync()[0]!;
  });
}

const STAGES = ['stem', 'layer1', 'layer2', 'layer3', 'layer4'] as const;
const measured: Record<string, string> = {};

/** Runs the backbone eagerly on the fixture image and returns each stage's relative error. */
function stageErrors(backbone: ResNetBackbone | SimDeepLab, reference: SafetensorsFile, prefix = ''): number[] {
  const image = nhwc(reference, 'image');
  const { scores, features } = backbone.apply(image);
  const errors = STAGES.map((stage, i) => {
    const expected = nhwc(reference, `${prefix}${stage}`);
    const error = relativeError(features[i]!, expected);
    expected.dispose();
    return error;
  });
  tf.dispose([image, scores, ...features]);
  return errors;
}

afterAll(() => {
  // The parity numbers, for the record (reported, not asserted beyond the tolerance).
  console.log(Object.entries(measured).map(([k, v]) => `${k}: ${v}`).join('\n'));
});

describeOnBackends('torchvision weights', (backend) => {
  it('ResNet-18 (basic blocks) matches torchvision at every stage, output stride 32', () => {
    const before = tf.memory().numTensors;
    for (const seed of [0, 7]) {
      const backbone = new ResNetBackbone({ depth: 18, width: 0.125, outputStride: 32, classes: 21, seed, weights: r18Bytes });
      expect(backbone.args.padding).toBe('torch');
      expect(backbone.args.normalize).toBe(true);
      const errors = stageErrors(backbone, r18Out);
      measured[`resnet18 os32 ${backend} seed ${seed}`] = errors.map((e) => e.toExponential(2)).join(' ');
      for (const error of errors) expect(error).toBeLessThan(1e-4);
      backbone.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('ResNet-50 layout (bottlenecks, F16 file) matches torchvision at output strides 32 and 8 (replace_stride_with_dilation)', () => {
    for (const [outputStride, prefix] of [[32, ''], [8, 'os8.']] as const) {
      const backbone = new ResNetBackbone({ depth: 50, width: 0.0625, outputStride, weights: r50Bytes.buffer.slice(r50Bytes.byteOffset, r50Bytes.byteOffset + r50Bytes.byteLength) });
      const errors = stageErrors(backbone, r50Out, prefix);
      measured[`resnet50 os${outputStride} ${backend}`] = errors.map((e) => e.toExponential(2)).join(' ');
      for (const error of errors) expect(error).toBeLessThan(1e-4);
      backbone.dispose();
    }
  });
});

describe('torchvision weights: configs, paths and models', () => {
  it('loads by path from a config (createSegmenter, resolveBackbone) and runs at output stride 8 with basic blocks', () => {
    const registry = defaultRegistry();
    const fromConfig = registry.createBackbone({ type: 'resnet', depth: 18, width: 0.125, outputStride: 32, weights: R18 }) as ResNetBackbone;
    const errors = stageErrors(fromConfig, r18Out);
    for (const error of errors) expect(error).toBeLessThan(1e-4);
    fromConfig.dispose();

    const model = createSegmenter({ backbone: { type: 'resnet', depth: 18, width: 0.125, outputStride: 8, classes: 5, weights: R18 } });
    const image = nhwc(r18Out, 'image');
    const logits = model.predict(image) as tf.Tensor4D;
    expect(logits.shape).toEqual([1, 64, 48, 5]);
    expect(Number.isFinite(tf.sum(logits).dataSync()[0]!)).toBe(true);
    // The dilated model carries exactly the file's stem weights.
    const conv1 = model.getLayer('resnet.conv1').getWeights()[0]!;
    const stored = readSafetensors(R18).tensors.get('conv1.weight')!;
    const expected = tf.transpose(tf.tensor4d(stored.values!, stored.shape as [number, number, number, number]), [2, 3, 1, 0]);
    expect(relativeError(conv1, expected)).toBe(0);
    tf.dispose([image, logits, expected]);
    model.dispose();
  });

  it('sim-deeplab loads them into its ResNet body (stages match torchvision; the ASPP stays fresh)', () => {
    const before = tf.memory().numTensors;
    const backbone = defaultRegistry().createBackbone({ type: 'sim-deeplab', depth: 18, width: 0.125, outputStride: 32, classes: 4, weights: R18 }) as SimDeepLab;
    expect(backbone.args.padding).toBe('torch');
    expect(backbone.args.normalize).toBe(true);
    const errors = stageErrors(backbone, r18Out);
    measured['sim-deeplab-18 os32 body'] = errors.map((e) => e.toExponential(2)).join(' ');
    for (const error of errors) expect(error).toBeLessThan(1e-4);
    backbone.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('createDifNet loads them into both ResNets (seed and similarity branch), also when fewer walks build fewer stages', () => {
    const stored = readSafetensors(R18).tensors;
    /** The file's OIHW kernel as HWIO. */
    const kernel = (key: string): tf.Tensor => {
      const t = stored.get(key)!;
      return tf.transpose(tf.tensor4d(t.values!, t.shape as [number, number, number, number]), [2, 3, 1, 0]);
    };
    for (const walks of [5, 2]) {
      const model = createDifNet({ depth: 18, width: 0.125, classes: 3, walks, embeddingDim: 4, inputSize: [32, 32], weights: r18Bytes });
      const checks: [string, string][] = [['seed.conv1', 'conv1.weight'], ['seed.layer4.1.conv2', 'layer4.1.conv2.weight'], ['similarity.conv1', 'conv1.weight']];
      if (walks === 5) checks.push(['similarity.layer4.1.conv2', 'layer4.1.conv2.weight']);
      for (const [layer, key] of checks) {
        const expected = kernel(key);
        expect(relativeError(model.getLayer(layer).getWeights()[0]!, expected)).toBe(0);
        expected.dispose();
      }
      // walks 2 builds one similarity stage; the file's later stages are not an error.
      expect(model.layers.some((l) => l.name.startsWith('similarity.layer2'))).toBe(walks === 5);
      const logits = tf.tidy(() => model.predict(tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 1)) as tf.Tensor);
      expect(Number.isFinite(tf.sum(logits).dataSync()[0]!)).toBe(true);
      logits.dispose();
      model.dispose();
    }
  });

  it('createDifNet refuses a file for another depth before building anything, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    expect(() => createDifNet({ depth: 18, width: 0.125, classes: 3, walks: 2, embeddingDim: 4, weights: r50Bytes })).toThrow(ConfigError);
    expect(() => createDifNet({ depth: 18, width: 0.125, classes: 3, walks: 2, embeddingDim: 4, weights: r50Bytes })).toThrow(/weights.*(must hold|must have shape)/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a model with loaded weights saves and reloads with the same outputs (normalisation and padding layers serialize)', async () => {
    const model = createSegmenter({ backbone: { type: 'resnet', depth: 18, width: 0.125, outputStride: 32, classes: 3, weights: r18Bytes } });
    const reloaded = await roundTrip(model);
    const image = nhwc(r18Out, 'image');
    const a = model.predict(image) as tf.Tensor;
    const b = reloaded.predict(image) as tf.Tensor;
    expect(relativeError(b, a)).toBe(0);
    expect(reloaded.layers.some((l) => l.getClassName() === 'SegrefineImageNormalization')).toBe(true);
    tf.dispose([image, a, b]);
    model.dispose();
    reloaded.dispose();
  });

  it('needs both conventions: tfjs same padding or no normalisation break parity', () => {
    for (const args of [{ padding: 'same' as const }, { normalize: false }]) {
      const backbone = new ResNetBackbone({ depth: 18, width: 0.125, outputStride: 32, weights: r18Bytes, ...args });
      expect(Math.max(...stageErrors(backbone, r18Out))).toBeGreaterThan(1e-2);
      backbone.dispose();
    }
  });

  it('keeps today\'s networks unchanged without weights (same padding, no normalisation)', () => {
    const backbone = new ResNetBackbone({ depth: 18, width: 0.125 });
    expect(backbone.args.padding).toBe('same');
    expect(backbone.args.normalize).toBe(false);
    expect(backbone.layers.some((l) => l.getClassName() === 'ZeroPadding2D' || l.getClassName() === 'SegrefineImageNormalization')).toBe(false);
    const torch = new ResNetBackbone({ depth: 18, width: 0.125, padding: 'torch' });
    const shape = (b: ResNetBackbone): number[][] => b.apply(tf.input({ shape: [64, 48, 3] })).features.map((f) => f.shape.slice(1) as number[]);
    expect(shape(torch)).toEqual(shape(backbone));
  });
});

describe('torchvision weights: errors', () => {
  const expectError = (fn: () => unknown, type: typeof ConfigError | typeof DataError, pattern: RegExp): void => {
    let caught: unknown;
    try {
      fn();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(type);
    expect((caught as Error).message).toMatch(pattern);
  };

  it('names the mis-shaped or missing parameter when a file does not fit depth or width, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    expectError(() => new ResNetBackbone({ depth: 18, width: 0.25, weights: r18Bytes }), ConfigError, /weights\['conv1\.weight'\] must have shape \[16, 3, 7, 7\].*got "shape \[8, 3, 7, 7\]"/);
    expectError(() => new ResNetBackbone({ depth: 34, width: 0.125, weights: r18Bytes }), ConfigError, /must hold 'layer1\.2\.conv1\.weight' \[8, 8, 3, 3\] for a torchvision ResNet-34 at width 0\.125.*got "missing"/);
    expectError(() => new ResNetBackbone({ depth: 50, width: 0.125, weights: r18Bytes }), ConfigError, /layer1\.0\.conv1\.weight/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects extra parameters (a deeper network\'s file) but ignores fc.* and num_batches_tracked', () => {
    const file = parseSafetensors(r18Bytes);
    expect(file.tensors.get('fc.weight')).toBeDefined();
    expect(file.tensors.get('bn1.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [], values: null });
    expectError(() => new ResNetBackbone({ depth: 18, width: 0.0625, weights: r50Bytes }), ConfigError, /weights/);
  });

  it('rejects malformed files with a DataError and a path without a reader with a ConfigError', () => {
    expectError(() => new ResNetBackbone({ weights: new Uint8Array([1, 2, 3]) }), DataError, /safetensors/);
    const truncated = r18Bytes.subarray(0, 1000);
    expectError(() => new ResNetBackbone({ depth: 18, width: 0.125, weights: truncated }), DataError, /header length|data section|not JSON/);
    expectError(() => new ResNetBackbone({ weights: 'no/such/file.safetensors' }), DataError, /readable file.*ENOENT/);
    setWeightsFileReader(undefined);
    try {
      expectError(() => new ResNetBackbone({ weights: R18 }), ConfigError, /import 'segrefine\/node'.*bytes/);
    } finally {
      setWeightsFileReader((path) => readFileSync(path));
    }
    expectError(() => defaultRegistry().createBackbone({ type: 'resnet', weights: 5 }), ConfigError, /weights/);
    expectError(() => defaultRegistry().createBackbone({ type: 'resnet', padding: 'reflect' }), ConfigError, /padding/);
  });

  it('parses F16 and BF16 values', () => {
    // A hand-made file: one F16 tensor [1, -2, 0.5] and one BF16 tensor [3.140625].
    const header = JSON.stringify({ a: { dtype: 'F16', shape: [3], data_offsets: [0, 6] }, b: { dtype: 'BF16', shape: [1], data_offsets: [6, 8] }, __metadata__: { m: 'x' } });
    const text = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + text.length + 8);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, text.length, true);
    bytes.set(text, 8);
    [0x3c00, 0xc000, 0x3800].forEach((h, i) => view.setUint16(8 + text.length + 2 * i, h, true));
    view.setUint16(8 + text.length + 6, 0x4049, true); // bf16 of 3.140625
    const file = parseSafetensors(bytes);
    expect([...file.tensors.get('a')!.values!]).toEqual([1, -2, 0.5]);
    expect([...file.tensors.get('b')!.values!]).toEqual([3.140625]);
    expect(file.metadata).toEqual({ m: 'x' });
  });
});
