import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { conv2dFilterGradient, conv2dInputGradient } from '../../src/core/kernels/index.js';
import { checkGradients, expectNoLeak, expectTensorClose } from '../../src/testing/index.js';
import { describeOnBackends } from '../helpers/backends.js';

// Convolutions are linear in each input: finite differences have no truncation
// error, so a unit step keeps round-off negligible.
const seeded = (shape: number[], seed: number): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed);

describeOnBackends('conv gradients', (backend) => {
  const cases: { name: string; strides: number; dilation: number; pad: 'same' | 'valid'; k: number }[] = [
    { name: 'stride 1 same', strides: 1, dilation: 1, pad: 'same', k: 3 },
    { name: 'stride 2 same', strides: 2, dilation: 1, pad: 'same', k: 3 },
    { name: 'stride 2 valid', strides: 2, dilation: 1, pad: 'valid', k: 3 },
    { name: 'dilation 2 same', strides: 1, dilation: 2, pad: 'same', k: 3 },
    { name: 'dilation 3 valid', strides: 1, dilation: 3, pad: 'valid', k: 2 },
    { name: 'stride 2 same 7×7 (a stem)', strides: 2, dilation: 1, pad: 'same', k: 7 },
    { name: 'stride 3 valid', strides: 3, dilation: 1, pad: 'valid', k: 2 },
  ];
  for (const c of cases) {
    it(`conv2d ${c.name}: input and filter gradients match finite differences`, () => {
      const x = seeded([2, 9, 8, 3], 1);
      const w = seeded([c.k, c.k, 3, 4], 2);
      const conv = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilation);
      const result = checkGradients(conv, [x, w], { rtol: 1e-3, epsilon: 1 });
      expect(result.maxRelError).toBeLessThan(1e-3);
      tf.dispose([x, w]);
    });
    it(`depthwise ${c.name}: input and filter gradients match finite differences`, () => {
      const x = seeded([2, 9, 8, 3], 3);
      const w = seeded([c.k, c.k, 3, 2], 4);
      const conv = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
        tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilation);
      expect(checkGradients(conv, [x, w], { rtol: 1e-3, epsilon: 1 }).maxRelError).toBeLessThan(1e-3);
      tf.dispose([x, w]);
    });
  }

  it('gather gradient (UnsortedSegmentSum) sums repeated indices', () => {
    const params = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const indices = tf.tensor1d([2, 0, 2, 2], 'int32');
    const g = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.gather(p, indices), tf.tensor2d([[1, 1], [2, 2], [3, 3], [4, 4]]))))(params);
    expectTensorClose(g, [[2, 2], [0, 0], [8, 8]]);
    const seg = tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([0, 2, 0, 5], 'int32'), 3);
    expectTensorClose(seg, [4, 0, 2]);
    tf.dispose([params, indices, g, seg]);
  });

  it('backprop kernels agree with the reference on undilated convs', () => {
    const x = seeded([1, 7, 7, 2], 5) as tf.Tensor4D;
    const w = seeded([3, 3, 2, 3], 6) as tf.Tensor4D;
    const dy = seeded([1, 4, 4, 3], 7) as tf.Tensor4D;
    const g = { strides: [2, 2] as [number, number], dilations: [1, 1] as [number, number], pad: 'same' as const };
    expectTensorClose(conv2dInputGradient(x.shape, dy, w, g), tf.conv2dTranspose(dy, w, x.shape, 2, 'same'), { atol: 1e-4 });
    const reference = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: w.shape }) as tf.Tensor4D;
    expectTensorClose(conv2dFilterGradient(x, dy, w.shape, g), reference, { atol: 1e-4 });
    expect(backend).toBe(tf.getBackend());
    tf.dispose([x, w, dy]);
  });

  it('the gradient kernels do not leak', async () => {
    const x = seeded([1, 6, 6, 2], 8);
    const w = seeded([3, 3, 2, 2], 9);
    await expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same', 'NHWC', 2)))([x, w]));
    await expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, w]));
    tf.dispose([x, w]);
  });
});

describe('conv2d filter gradient kernel on wasm', () => {
  it('matches the cpu backend', async () => {
    const x = seeded([2, 10, 10, 3], 11) as tf.Tensor4D;
    const dy = seeded([2, 5, 5, 4], 12) as tf.Tensor4D;
    const backpropFilter = (): tf.Tensor4D =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] }) as tf.Tensor4D;
    await tf.setBackend('wasm');
    const onWasm = backpropFilter();
    const wasmValues = onWasm.arraySync();
    await tf.setBackend('cpu');
    const onCpu = backpropFilter();
    expectTensorClose(onCpu, wasmValues as number[][][][], { atol: 1e-4 });
    await tf.setBackend('wasm');
    tf.dispose([x, dy, onWasm, onCpu]);
  });
});

describe('wasm Slice (heap view)', () => {
  it('gives the same values as a reference slice for contiguous, strided, int32 and large inputs', async () => {
    expect(tf.getBackend()).toBe('wasm');
    expect((tf.getKernel('Slice', 'wasm')!.kernelFunc as { segrefine?: boolean }).segrefine).toBe(true);
    const cases: { x: tf.Tensor; begin: number[]; size: number[] }[] = [
      { x: tf.randomNormal([2, 9, 8, 5], 0, 1, 'float32', 1), begin: [1, 2, 3, 1], size: [1, 4, 3, 2] },
      { x: tf.randomNormal([2, 9, 8, 5], 0, 1, 'float32', 2), begin: [0, 3, 0, 0], size: [2, 1, 8, 5] },
      { x: tf.range(0, 60, 1, 'int32').reshape([3, 4, 5]), begin: [1, 0, 2], size: [2, 4, 3] },
      { x: tf.randomNormal([1, 300, 300, 16], 0, 1, 'float32', 3), begin: [0, 0, 299, 0], size: [1, 300, 1, 16] },
      { x: tf.randomNormal([7], 0, 1, 'float32', 4), begin: [2], size: [0] },
    ];
    for (const { x, begin, size } of cases) {
      const got = tf.slice(x, begin, size);
      const values = await got.data();
      await tf.setBackend('cpu');
      const expected = tf.slice(x, begin, size);
      expectTensorClose(Array.from(values), Array.from(expected.dataSync()), { atol: 0 });
      expect(got.shape).toEqual(expected.shape);
      await tf.setBackend('wasm');
      tf.dispose([x, got, expected]);
    }
  });
});

describeOnBackends('resizeBilinear gradient', () => {
  it('has the input shape for non-square inputs and matches finite differences', () => {
    const x = tf.randomNormal([1, 3, 5, 2], 0, 1, 'float32', 21);
    // Bilinear resizing is linear in x: a unit step is exact.
    const resize = (a: tf.Tensor): tf.Tensor => tf.image.resizeBilinear(a as tf.Tensor4D, [6, 10]);
    expect(checkGradients(resize, [x], { epsilon: 1 }).maxRelError).toBeLessThan(1e-3);
    const shrink = (a: tf.Tensor): tf.Tensor => tf.image.resizeBilinear(a as tf.Tensor4D, [2, 3]);
    expect(checkGradients(shrink, [x], { epsilon: 1 }).maxRelError).toBeLessThan(1e-3);
    x.dispose();
  });
});
