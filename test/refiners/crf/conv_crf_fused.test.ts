import * as tf from '@tensorflow/tfjs';
import { afterEach, expect, it } from 'vitest';
import { CONV_CRF_MAX_BYTES, ConfigError, ConvCrf, convCrfMemoryBytes } from '../../../src/index.js';
import { windowKernelsAvailable } from '../../../src/refiners/crf/conv_crf_frame.js';
import { convCrfMeanField, type ConvCrfConfig } from '../../../src/refiners/crf/conv_crf_ops.js';
import { windowKernelTaps, windowMessages } from '../../../src/refiners/crf/conv_crf_window.js';
import { convCrfImplementation, type ConvCrfImplementation } from '../../../src/refiners/crf/implementation.js';
import { resolveKernels, type CrfNormalization } from '../../../src/refiners/crf/params.js';
import { checkGradients, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';

/** batch, height, width, labels, kernel size, downsample, normalisation. */
type Case = readonly [number, number, number, number, number, number, CrfNormalization];

const CASES: Case[] = [
  [1, 5, 6, 3, 3, 1, 'symmetric'],
  [2, 7, 9, 4, 3, 1, 'after'],
  [2, 9, 10, 5, 5, 1, 'none'],
  [1, 11, 8, 6, 5, 2, 'symmetric'],
  [2, 13, 12, 3, 7, 1, 'symmetric'],
  [1, 12, 13, 7, 7, 2, 'after'],
  [2, 10, 11, 4, 7, 2, 'none'],
  [1, 6, 7, 9, 5, 1, 'symmetric'],
  // Rows of 6 and of 9 v128s: the widest register-held message rows, and past them.
  [1, 7, 8, 21, 3, 1, 'symmetric'],
  [2, 5, 6, 34, 3, 2, 'after'],
];

function caseInputs([batch, height, width, labels]: Case, seed: number) {
  return tf.tidy(() => ({
    scores: tf.randomNormal([batch, height, width, labels], 0, 1.5, 'float32', seed) as tf.Tensor4D,
    image: tf.randomUniform([batch, height, width, 3], 0, 1, 'float32', seed + 1) as tf.Tensor4D,
    weights: [tf.scalar(1.3), tf.scalar(0.6)],
    compatibility: tf.add(tf.eye(labels), tf.randomUniform([labels, labels], -0.3, 0.3, 'float32', seed + 2)) as tf.Tensor2D,
    projection: tf.randomNormal([batch, height, width, labels], 0, 1, 'float32', seed + 3),
  }));
}

function caseConfig([, , , , kernelSize, downsample, normalization]: Case, implementation: ConvCrfImplementation): ConvCrfConfig {
  // srgb 60 on random colours keeps the appearance taps away from underflow, so every path through them is exercised.
  const kernels = resolveKernels({ sxy: 2, compat: 1 }, { sxy: 4, srgb: 60, compat: 2 });
  return { iterations: 3, kernelSize, downsample, kernels, normalization, clip: 1e-5, implementation };
}

/** The logits and the gradients of ⟨logits, projection⟩ w.r.t. scores, image, both weights and the compatibility. */
function logitsAndGradients(c: Case, implementation: ConvCrfImplementation, seed: number): { values: Float32Array[]; leaked: number } {
  const x = caseInputs(c, seed);
  const config = caseConfig(c, implementation);
  const before = tf.memory().numTensors;
  const run = (scores: tf.Tensor, image: tf.Tensor, w0: tf.Tensor, w1: tf.Tensor, compatibility: tf.Tensor): tf.Tensor4D =>
    convCrfMeanField(scores as tf.Tensor4D, image as tf.Tensor4D, [w0, w1], compatibility as tf.Tensor2D, config);
  const logits = run(x.scores, x.image, x.weights[0]!, x.weights[1]!, x.compatibility);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(run(xs[0]!, xs[1]!, xs[2]!, xs[3]!, xs[4]!), x.projection)))([x.scores, x.image, ...x.weights, x.compatibility]);
  const values = [logits, ...grads].map((t) => t.dataSync() as Float32Array);
  tf.dispose([logits, ...grads]);
  const leaked = tf.memory().numTensors - before;
  tf.dispose([x.scores, x.image, ...x.weights, x.compatibility, x.projection]);
  return { values, leaked };
}

afterEach(() => {
  delete process.env['SEGREFINE_CONV_CRF_KERNEL'];
});

describeOnBackends('ConvCrf fused window kernels', () => {
  CASES.forEach((c, index) => {
    const [batch, height, width, labels, k, s, normalization] = c;
    it(`equal the tfjs-ops reference, forward and gradients (B ${batch}, ${height}×${width}, K ${labels}, k ${k}, downsample ${s}, ${normalization})`, () => {
      const seed = 10 * index + 1;
      const reference = logitsAndGradients(c, 'ops', seed);
      const fused = logitsAndGradients(c, 'fused', seed);
      expect(fused.leaked).toBe(0);
      expect(reference.leaked).toBe(0);
      const names = ['logits', 'd scores', 'd image', 'd pos weight', 'd bilateral weight', 'd compatibility'];
      fused.values.forEach((values, i) => {
        const expected = reference.values[i]!;
        const scale = Math.max(...Array.from(expected, Math.abs), 1e-3);
        let worst = 0;
        for (let j = 0; j < values.length; j++) worst = Math.max(worst, Math.abs(values[j]! - expected[j]!));
        expect(worst / scale, names[i]).toBeLessThan(2e-5);
      });
    });
  });

  it('match finite differences with after-normalisation, k 5, K 5 and downsample 2', () => {
    const c: Case = [2, 5, 6, 5, 5, 2, 'after'];
    const x = caseInputs(c, 77);
    const config = caseConfig(c, 'fused');
    const f = (...xs: tf.Tensor[]): tf.Tensor => convCrfMeanField(xs[0] as tf.Tensor4D, xs[1] as tf.Tensor4D, [xs[2]!, xs[3]!], xs[4] as tf.Tensor2D, config);
    const result = checkGradients(f, [x.scores, x.image, ...x.weights, x.compatibility], { epsilon: 0.1, rtol: 2e-3 });
    expect(result.entries.length).toBeGreaterThan(20);
    tf.dispose([x.scores, x.image, ...x.weights, x.compatibility, x.projection]);
  });

  it('keep their window weights correct when another grid ran in between', () => {
    const grid = (batch: number, size: number, seed: number) =>
      tf.tidy(() => [tf.randomUniform([batch, size, size, 2], 0, 3, 'float32', seed), tf.randomUniform([batch, size, size, 5], 0, 3, 'float32', seed + 1)] as tf.Tensor4D[]);
    const weights = [tf.scalar(1), tf.scalar(2)];
    const first = grid(1, 6, 1);
    const second = grid(2, 9, 3);
    const q = tf.randomUniform([1, 6, 6, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const tapsFirst = windowKernelTaps(first, weights, 5, 'symmetric');
    const before = windowMessages(tapsFirst, q, 5);
    const tapsSecond = windowKernelTaps(second, weights, 5, 'symmetric'); // overwrites the kernels' resident weights
    const after = windowMessages(tapsFirst, q, 5);
    expectTensorClose(after, before, { atol: 0, rtol: 0 });
    tf.dispose([...first, ...second, ...weights, q, tapsFirst, tapsSecond, before, after]);
  });
});

it('the ConvCrf implementation switch: explicit choice, environment override, typed error for a bad value', () => {
  const available = (): boolean => true;
  expect(convCrfImplementation('wasm', available)).toBe('fused');
  expect(convCrfImplementation('cpu', available)).toBe('fused');
  expect(convCrfImplementation('webgl', available)).toBe('ops');
  expect(convCrfImplementation('wasm', () => false)).toBe('ops');
  expect(convCrfImplementation('wasm', available, 'ops')).toBe('ops');
  expect(() => convCrfImplementation('wasm', () => false, 'fused')).toThrow(ConfigError);
  expect(() => convCrfImplementation('wasm', () => false, 'fused')).toThrow(/WebAssembly SIMD/);
  process.env['SEGREFINE_CONV_CRF_KERNEL'] = 'ops';
  expect(convCrfImplementation('wasm', available)).toBe('ops');
  process.env['SEGREFINE_CONV_CRF_KERNEL'] = 'simd';
  expect(() => convCrfImplementation('wasm', available)).toThrow(ConfigError);
  expect(() => convCrfImplementation('wasm', available)).toThrow('SEGREFINE_CONV_CRF_KERNEL must be fused or ops, got "simd"');
});

describeOnBackends('ConvCrf memory estimate of the fused path', () => {
  it('bounds the measured forward + backward tensor peak within 1.25×, where the tfjs-ops estimate is 3–6× higher', async () => {
    for (const [batch, size, classes, kernelSize] of [[1, 64, 4, 7], [2, 64, 6, 5]] as const) {
      const layer = new ConvCrf({ kernelSize });
      const scores = tf.randomNormal([batch, size / 8, size / 8, classes], 0, 1, 'float32', 1) as tf.Tensor4D;
      const image = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      tf.dispose(layer.refine({ scores, image })); // builds the layer and its kernels outside the measurement
      const before = tf.memory().numBytes;
      const info = await tf.profile(() => tf.grads((s: tf.Tensor) => tf.sum(layer.refine({ scores: s as tf.Tensor4D, image })))([scores]));
      tf.dispose(info.result as tf.Tensor[]);
      const measured = info.peakBytes - before;
      const estimate = convCrfMemoryBytes({ kernelSize }, image.shape, classes, 'fused');
      expect(estimate).toBeGreaterThanOrEqual(measured);
      expect(estimate).toBeLessThan(1.25 * measured);
      expect(convCrfMemoryBytes({ kernelSize }, image.shape, classes, 'ops')).toBeGreaterThan(3 * estimate);
      tf.dispose([scores, image]);
      layer.dispose();
    }
  });

  it('accepts a call the tfjs-ops estimate would refuse (one 128² image, 21 classes, k 11) when the fused path runs', () => {
    const args = { kernelSize: 11 };
    expect(convCrfMemoryBytes(args, [1, 128, 128, 3], 21, 'ops')).toBeGreaterThan(CONV_CRF_MAX_BYTES);
    expect(convCrfMemoryBytes(args, [1, 128, 128, 3], 21, 'fused')).toBeLessThan(CONV_CRF_MAX_BYTES / 4);
    if (convCrfImplementation(tf.getBackend(), windowKernelsAvailable) !== 'fused') return;
    const before = tf.memory().numTensors;
    const layer = new ConvCrf(args);
    const scores = tf.randomNormal([1, 16, 16, 21], 0, 1, 'float32', 3) as tf.Tensor4D;
    const image = tf.randomUniform([1, 128, 128, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const logits = layer.refine({ scores, image });
    expect(logits.shape).toEqual([1, 16, 16, 21]);
    tf.dispose([scores, image, logits]);
    layer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
