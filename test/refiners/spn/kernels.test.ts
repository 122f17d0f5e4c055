import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, spn, spnPropagate, SPN_DIRECTIONS, type SpnMode, type SpnNormalize } from '../../../src/index.js';
import { checkGradients, expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';

// The WebAssembly SIMD kernels (implementation 'wasm': in place on tfjs-wasm's
// memory, on a memory of their own on cpu) against the tfjs-ops path they
// replaced, which the pytorch_spn fixture and autodiff tests pin down.

type Nchw = number[][][][];
const fixture = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/spn/spn3way_n1_c3_h7_w9.json'), 'utf8')) as Record<string, Nchw>;

/**
 * NCHW fixture → NHWC with every block of C channels repeated `times`
 * (channels are independent, so outputs repeat too); `blocks` = 12 for the
 * gates (4 directions × g1, g2, g3).
 */
function repeatedChannels(values: Nchw, times: number, blocks = 1): tf.Tensor4D {
  return tf.tidy(() => {
    const nhwc = tf.transpose(tf.tensor4d(values), [0, 2, 3, 1]) as tf.Tensor4D;
    return tf.concat(tf.split(nhwc, blocks, 3).map((block) => tf.concat(Array.from({ length: times }, () => block), 3)), 3) as tf.Tensor4D;
  });
}

const FORWARD = { atol: 1e-5, rtol: 1e-5 };
const GRADIENT = { atol: 5e-5, rtol: 1e-4 };

function randomCase(shape: [number, number, number, number], mode: SpnMode, scale: number, seed: number): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  const [b, h, w, c] = shape;
  const taps = mode === 'three-way' ? 3 : 1;
  return [
    tf.randomNormal(shape, 0, 1, 'float32', seed) as tf.Tensor4D,
    tf.randomUniform([b, h, w, 4 * taps * c], -scale, scale, 'float32', seed + 1) as tf.Tensor4D,
    tf.randomNormal(shape, 0, 1, 'float32', seed + 2) as tf.Tensor4D,
  ];
}

describeOnBackends('spn WebAssembly kernels', () => {
  it('reproduce the pytorch_spn fixture with its channels repeated to C = 6 and 12', () => {
    tf.tidy(() => {
      for (const times of [2, 4]) {
        const x = repeatedChannels(fixture['X']!, times);
        const gates = repeatedChannels(fixture['G']!, times, 12);
        const expected = repeatedChannels(fixture['module_output_two_pass']!, times);
        expectTensorClose(spn(x, gates, { implementation: 'wasm' }), expected, FORWARD);
      }
    });
  });

  // Shapes: C a multiple of 4 or not (the overlapping last vector), C > 64
  // (the channel loop instead of unrolled vectors), one row or column, batch 2.
  const cases: Array<[string, [number, number, number, number], SpnMode, SpnNormalize, number]> = [
    ['three-way, C = 6, batch 2, mixed sums', [2, 5, 7, 6], 'three-way', 'when-needed', 0.9],
    ['three-way, C = 8, every sum below 1', [1, 6, 5, 8], 'three-way', 'when-needed', 0.3],
    ['three-way, C = 70 (looped channels)', [1, 4, 5, 70], 'three-way', 'when-needed', 0.9],
    ['three-way, always', [1, 5, 6, 5], 'three-way', 'always', 0.9],
    ['three-way, none', [1, 6, 6, 4], 'three-way', 'none', 0.4],
    ['one-way, C = 13, batch 2', [2, 4, 6, 13], 'one-way', 'when-needed', 1.5],
    ['a single row', [1, 1, 6, 7], 'three-way', 'when-needed', 0.9],
    ['a single column', [1, 6, 1, 5], 'three-way', 'always', 0.9],
  ];

  it.each(cases)('equal the tfjs-ops path, forward and gradients: %s', (_name, shape, mode, normalize, scale) => {
    const [x, gates, weights] = randomCase(shape, mode, scale, 11);
    const loss = (implementation: 'wasm' | 'ops') => (xi: tf.Tensor, gi: tf.Tensor) =>
      tf.sum(tf.mul(spn(xi as tf.Tensor4D, gi as tf.Tensor4D, { mode, normalization: normalize, implementation }), weights));
    tf.tidy(() => {
      expectTensorClose(spn(x, gates, { mode, normalization: normalize, implementation: 'wasm' }), spn(x, gates, { mode, normalization: normalize, implementation: 'ops' }), FORWARD);
      const [dxKernel, dgKernel] = tf.grads(loss('wasm'))([x, gates]);
      const [dxOps, dgOps] = tf.grads(loss('ops'))([x, gates]);
      expectTensorClose(dxKernel!, dxOps!, GRADIENT);
      expectTensorClose(dgKernel!, dgOps!, GRADIENT);
      for (const direction of SPN_DIRECTIONS) {
        const taps = mode === 'three-way' ? 3 : 1;
        const chunk = tf.slice(gates, [0, 0, 0, 0], [-1, -1, -1, taps * shape[3]]) as tf.Tensor4D;
        const single = (implementation: 'wasm' | 'ops') => (xi: tf.Tensor, gi: tf.Tensor) =>
          tf.sum(tf.mul(spnPropagate(xi as tf.Tensor4D, gi as tf.Tensor4D, { direction, mode, normalization: normalize, implementation }), weights));
        expectTensorClose(spnPropagate(x, chunk, { direction, mode, normalization: normalize, implementation: 'wasm' }), spnPropagate(x, chunk, { direction, mode, normalization: normalize, implementation: 'ops' }), FORWARD);
        const [a, b] = [tf.grads(single('wasm'))([x, chunk]), tf.grads(single('ops'))([x, chunk])];
        expectTensorClose(a[0]!, b[0]!, GRADIENT);
        expectTensorClose(a[1]!, b[1]!, GRADIENT);
      }
    });
    tf.dispose([x, gates, weights]);
  });

  it('route the merge gradient of tied maxima to the first direction, as chained tf.maximum does', () => {
    // Zero gates in directions 1 and 3 (and everywhere for the second case): their states equal x, so
    // the maximum ties between them (and with any other direction that stays at x).
    const shape: [number, number, number, number] = [1, 5, 6, 8];
    const [x, random, weights] = randomCase(shape, 'three-way', 0.9, 23);
    const block = 3 * shape[3];
    const keep = tf.concat([0, 1, 0, 1].map((k) => tf.fill([1, 1, 1, block], 1 - k)), 3);
    for (const gates of [tf.mul(random, keep) as tf.Tensor4D, tf.zerosLike(random) as tf.Tensor4D]) {
      const loss = (implementation: 'wasm' | 'ops') => (xi: tf.Tensor, gi: tf.Tensor) => tf.sum(tf.mul(spn(xi as tf.Tensor4D, gi as tf.Tensor4D, { implementation }), weights));
      tf.tidy(() => {
        const [dxKernel, dgKernel] = tf.grads(loss('wasm'))([x, gates]);
        const [dxOps, dgOps] = tf.grads(loss('ops'))([x, gates]);
        expectTensorClose(dxKernel!, dxOps!, GRADIENT);
        expectTensorClose(dgKernel!, dgOps!, GRADIENT);
      });
      gates.dispose();
    }
    tf.dispose([x, random, weights, keep]);
  });

  it('match finite differences on both kernel branches (every Σ|g| below 1, every Σ|g| above 1)', () => {
    const x = tf.randomNormal([1, 4, 5, 5], 0, 1, 'float32', 51) as tf.Tensor4D;
    const small = tf.randomUniform([1, 4, 5, 15], 0.05, 0.3, 'float32', 52) as tf.Tensor4D;
    const large = tf.tidy(() => tf.mul(tf.randomUniform([1, 4, 5, 15], 0.45, 0.8, 'float32', 53), tf.sign(tf.randomUniform([1, 4, 5, 15], -1, 1, 'float32', 54)))) as tf.Tensor4D;
    for (const gates of [small, large]) {
      for (const direction of ['left-to-right', 'bottom-to-top'] as const) {
        // Linear in x (a large step beats round-off); smooth in the gates away from Σ|g| = 1.
        checkGradients((xv) => spnPropagate(xv as tf.Tensor4D, gates, { direction, implementation: 'wasm' }), [x], { epsilon: 1 });
        checkGradients((gv) => spnPropagate(x, gv as tf.Tensor4D, { direction, implementation: 'wasm' }), [gates], { epsilon: 2e-2, rtol: 2e-3 });
      }
    }
    tf.dispose([x, small, large]);
  });

  it('do not leak, forward and backward', async () => {
    const [x, gates] = randomCase([1, 5, 4, 6], 'three-way', 0.8, 61);
    await expectNoLeak(() => spn(x, gates, { implementation: 'wasm' }));
    await expectNoLeak(() => tf.grads((a: tf.Tensor, g: tf.Tensor) => tf.sum(spn(a as tf.Tensor4D, g as tf.Tensor4D, { implementation: 'wasm' })))([x, gates]));
    tf.dispose([x, gates]);
  });

  it("'auto' takes tfjs ops below 4 channels; 'wasm' there is a ConfigError naming the option", () => {
    const [x, gates] = randomCase([1, 3, 4, 3], 'three-way', 0.5, 71);
    tf.tidy(() => expectTensorClose(spn(x, gates), spn(x, gates, { implementation: 'ops' }), FORWARD));
    expect(() => spn(x, gates, { implementation: 'wasm' })).toThrow(ConfigError);
    expect(() => spn(x, gates, { implementation: 'wasm' })).toThrow(/options\.implementation/);
    expect(() => spn(x, gates, { implementation: 'fast' as never })).toThrow(/options\.implementation/);
    tf.dispose([x, gates]);
  });
});

describe('spn WebAssembly kernels: tfjs clones stay copy-free and correct on wasm', () => {
  it('a clone shares its buffer and outlives the original', async () => {
    await tf.setBackend('wasm');
    const { installKernelFixes } = await import('../../../src/index.js');
    installKernelFixes();
    const original = tf.tensor([1, 2, 3, 4]);
    const copy = tf.clone(original);
    original.dispose();
    expect(Array.from(copy.dataSync())).toEqual([1, 2, 3, 4]);
    copy.dispose();
  });
});
