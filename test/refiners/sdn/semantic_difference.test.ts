import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { semanticDifferenceConv, ShapeError, type SemanticDifferenceOptions } from '../../../src/index.js';
import { checkGradients, expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';

/** Direct transcription of the formula, in float64 loops (the independent reference). */
function referenceSdc(
  u: number[][][][],
  v: number[][][][],
  w: number[][][][],
  lambda: number[],
  options: Required<SemanticDifferenceOptions>,
): number[][][][] {
  const [B, H, W, C, D, O] = [u.length, u[0]!.length, u[0]![0]!.length, u[0]![0]![0]!.length, v[0]![0]![0]!.length, w[0]![0]![0]!.length];
  const k = options.kernelSize;
  const half = (k - 1) / 2;
  const out = Array.from({ length: B }, () => Array.from({ length: H }, () => Array.from({ length: W }, () => new Array<number>(O).fill(0))));
  for (let b = 0; b < B; b++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const ny = y + (ky - half) * options.dilation;
            const nx = x + (kx - half) * options.dilation;
            if (ny < 0 || ny >= H || nx < 0 || nx >= W) continue;
            let l1 = 0;
            for (let d = 0; d < D; d++) l1 += Math.abs(v[b]![ny]![nx]![d]! - v[b]![y]![x]![d]!);
            for (let c = 0; c < C; c++) {
              const dv = v[b]![ny]![nx]![options.similarity === 'diffusivity' ? c : 0]! - v[b]![y]![x]![options.similarity === 'diffusivity' ? c : 0]!;
              const s = options.similarity === 'diffusivity' ? 1 / Math.sqrt(1 + (dv * dv) / (lambda[c]! * lambda[c]!)) : Math.exp(-lambda[0]! * l1);
              const du = u[b]![ny]![nx]![c]! - u[b]![y]![x]![c]!;
              for (let o = 0; o < O; o++) out[b]![y]![x]![o]! += w[ky]![kx]![c]![o]! * du * s;
            }
          }
  return out;
}

const arr4 = (t: tf.Tensor): number[][][][] => t.arraySync() as number[][][][];

describeOnBackends('semanticDifferenceConv', () => {
  it('matches a hand-computed 5×5 case (ramp features, step guidance)', () => {
    // U(y, x) = x (a ramp); V = 0 for x ≤ 1, 3 for x ≥ 2 (an edge between
    // columns 1 and 2); W(ky, kx) = 3·ky + kx + 1 (taps 1..9), one channel; λ = 1.
    const u = tf.tensor4d(Array.from({ length: 25 }, (_, i) => i % 5), [1, 5, 5, 1]);
    const v = tf.tensor4d(Array.from({ length: 25 }, (_, i) => (i % 5 >= 2 ? 3 : 0)), [1, 5, 5, 1]);
    const w = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3, 1, 1]);
    const y = semanticDifferenceConv(u, v, w, tf.tensor1d([1]), { kernelSize: 3 });
    const out = arr4(y)[0]!;
    // Corner (0, 0): only (0,1), (1,0), (1,1) are inside; ΔU = 1, 0, 1; same
    // guidance so s = 1: Y = W(1,2)·1 + W(2,1)·0 + W(2,2)·1 = 6 + 9 = 15.
    expect(out[0]![0]![0]).toBeCloseTo(15, 5);
    // Interior (2, 2): left column ΔU = −1 across the edge (ΔV = 3, s = 1/√10)
    // with taps 1 + 4 + 7 = 12; right column ΔU = +1, s = 1, taps 3 + 6 + 9 = 18.
    expect(out[2]![2]![0]).toBeCloseTo(18 - 12 / Math.sqrt(10), 5);
    // (2, 1), left of the edge: left ΔU = −1 (s = 1, taps 12); right ΔU = +1 across the edge (s = 1/√10, taps 18).
    expect(out[2]![1]![0]).toBeCloseTo(-12 + 18 / Math.sqrt(10), 5);
    // Right border (2, 4): only the left column exists, ΔU = −1, s = 1: Y = −12.
    expect(out[2]![4]![0]).toBeCloseTo(-12, 5);
    // Every pixel against the loop reference.
    expectTensorClose(y, referenceSdc(arr4(u), arr4(v), arr4(w), [1], { kernelSize: 3, dilation: 1, similarity: 'diffusivity' }), { atol: 1e-5 });
    tf.dispose([u, v, w, y]);
  });

  it('matches the loop reference with channels, batch, dilation and both similarity forms', () => {
    const u = tf.randomNormal([2, 5, 6, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    const v = tf.randomNormal([2, 5, 6, 3], 0, 1, 'float32', 12) as tf.Tensor4D;
    const e = tf.randomNormal([2, 5, 6, 4], 0, 0.5, 'float32', 13) as tf.Tensor4D;
    const w3 = tf.randomNormal([3, 3, 3, 2], 0, 1, 'float32', 14) as tf.Tensor4D;
    const w5 = tf.randomNormal([5, 5, 3, 2], 0, 1, 'float32', 15) as tf.Tensor4D;
    const lambdas = tf.tensor1d([0.5, 1, 2]);
    const single = tf.tensor1d([0.7]);
    const cases: [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, Required<SemanticDifferenceOptions>][] = [
      [v, w3, lambdas, { kernelSize: 3, dilation: 1, similarity: 'diffusivity' }],
      [v, w3, lambdas, { kernelSize: 3, dilation: 2, similarity: 'diffusivity' }],
      [v, w5, lambdas, { kernelSize: 5, dilation: 1, similarity: 'diffusivity' }],
      [e, w3, single, { kernelSize: 3, dilation: 1, similarity: 'embedding' }],
    ];
    for (const [guide, w, lambda, options] of cases) {
      const y = semanticDifferenceConv(u, guide, w, lambda, options);
      expectTensorClose(y, referenceSdc(arr4(u), arr4(guide), arr4(w), Array.from(lambda.dataSync()), options), { atol: 2e-5, rtol: 1e-4 });
      y.dispose();
    }
    tf.dispose([u, v, e, w3, w5, lambdas, single]);
  });

  it('with constant guidance is a plain difference convolution (taps outside the image dropped)', () => {
    const u = tf.randomNormal([1, 6, 5, 2], 0, 1, 'float32', 21) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 2, 3], 0, 1, 'float32', 22) as tf.Tensor4D;
    const flat = tf.fill([1, 6, 5, 2], 0.8) as tf.Tensor4D;
    // Σ_k W_k (U(p+k) − U(p)) = conv2d(U, W) − Σ_c U_c(p) · Σ_{k inside} W_k[c]; the
    // second sum is conv2d of an all-ones image with that channel's taps.
    const expected = tf.tidy(() => {
      const ones = tf.ones([1, 6, 5, 1]) as tf.Tensor4D;
      let centre: tf.Tensor = tf.zeros([1, 6, 5, 3]);
      for (let c = 0; c < 2; c++) {
        const tapSums = tf.conv2d(ones, tf.slice(w, [0, 0, c, 0], [3, 3, 1, 3]) as tf.Tensor4D, 1, 'same');
        centre = tf.add(centre, tf.mul(tf.slice(u, [0, 0, 0, c], [1, 6, 5, 1]), tapSums));
      }
      return tf.sub(tf.conv2d(u, w, 1, 'same'), centre);
    });
    for (const similarity of ['diffusivity', 'embedding'] as const) {
      const lambda = similarity === 'diffusivity' ? tf.tensor1d([0.3, 2]) : tf.tensor1d([1.5]);
      const y = semanticDifferenceConv(u, flat, w, lambda, { kernelSize: 3, similarity });
      expectTensorClose(y, expected, { atol: 1e-5, rtol: 1e-5 });
      // In the interior (all taps inside) it is the central difference convolution conv2d(U, W) − U·ΣW.
      const cdc = tf.tidy(() => tf.sub(tf.conv2d(u, w, 1, 'same'), tf.conv2d(u, tf.sum(w, [0, 1], true) as tf.Tensor4D, 1, 'same')));
      expectTensorClose(tf.slice(y, [0, 1, 1, 0], [1, 4, 3, 3]), tf.slice(cdc, [0, 1, 1, 0], [1, 4, 3, 3]), { atol: 1e-5, rtol: 1e-5 });
      tf.dispose([lambda, y, cdc]);
    }
    tf.dispose([u, w, flat, expected]);
  });

  it('is exactly 0 when U is constant, whatever the guidance', () => {
    const u = tf.fill([2, 4, 5, 3], -1.7) as tf.Tensor4D;
    const v = tf.randomNormal([2, 4, 5, 3], 0, 3, 'float32', 31) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 32) as tf.Tensor4D;
    const y = semanticDifferenceConv(u, v, w, tf.tensor1d([1, 1, 1]), { kernelSize: 3, dilation: 2 });
    expect(y.shape).toEqual([2, 4, 5, 4]);
    expect(tf.max(tf.abs(y)).dataSync()[0]).toBe(0);
    tf.dispose([u, v, w, y]);
  });

  it('stronger guidance edges damp the diffusion across them', () => {
    // One channel, U a step, V a step at the same place with growing height.
    const u = tf.tensor4d([0, 0, 1, 1], [1, 1, 4, 1]);
    const w = tf.tensor4d([0, 0, 0, 0, 0, 1, 0, 0, 0], [3, 3, 1, 1]); // right neighbour only
    const across = (height: number): number =>
      tf.tidy(() => semanticDifferenceConv(u, tf.tensor4d([0, 0, height, height], [1, 1, 4, 1]), w, tf.tensor1d([1]), { kernelSize: 3 }).dataSync()[1]!);
    const values = [0, 1, 3, 10].map(across);
    expect(values[0]).toBeCloseTo(1, 6);
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeLessThan(values[i - 1]!);
    tf.dispose([u, w]);
  });

  it('has gradients matching finite differences in U, V, W and λ (diffusivity)', () => {
    const u = tf.randomNormal([1, 4, 5, 2], 0, 1, 'float32', 41);
    const v = tf.randomNormal([1, 4, 5, 2], 0, 1, 'float32', 42);
    const w = tf.randomNormal([3, 3, 2, 2], 0, 1, 'float32', 43);
    const lambda = tf.tensor1d([0.8, 1.3]);
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor): tf.Tensor =>
      semanticDifferenceConv(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, d as tf.Tensor1D, { kernelSize: 3 });
    // U and W enter linearly: a unit step is exact. V and λ are smooth: a small step.
    checkGradients((a) => f(a, v, w, lambda), [u], { epsilon: 1, rtol: 2e-3 });
    checkGradients((c) => f(u, v, c, lambda), [w], { epsilon: 1, rtol: 2e-3 });
    checkGradients((b) => f(u, b, w, lambda), [v], { epsilon: 2e-2, rtol: 5e-3 });
    checkGradients((d) => f(u, v, w, d), [lambda], { epsilon: 2e-2, rtol: 5e-3 });
    tf.dispose([u, v, w, lambda]);
  });

  it('has gradients matching finite differences in U, V, W and λ (embedding)', () => {
    const u = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 51);
    // Guidance values are distinct multiples of 0.3, so no |ΔV| is near the
    // kink at 0 within the finite-difference steps.
    // (17·i mod 48 is a fixed permutation: 17 and 48 are coprime.)
    const v = tf.tensor4d(Array.from({ length: 48 }, (_, i) => 0.3 * ((17 * i) % 48) - 7), [1, 4, 4, 3]);
    const w = tf.randomNormal([3, 3, 2, 2], 0, 1, 'float32', 53);
    const lambda = tf.tensor1d([0.4]);
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor): tf.Tensor =>
      semanticDifferenceConv(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, d as tf.Tensor1D, { kernelSize: 3, similarity: 'embedding' });
    checkGradients((a) => f(a, v, w, lambda), [u], { epsilon: 1, rtol: 2e-3 });
    checkGradients((c) => f(u, v, c, lambda), [w], { epsilon: 1, rtol: 2e-3 });
    checkGradients((b) => f(u, b, w, lambda), [v], { epsilon: 2e-2, rtol: 5e-3 });
    checkGradients((d) => f(u, v, w, d), [lambda], { epsilon: 2e-2, rtol: 5e-3 });
    tf.dispose([u, v, w, lambda]);
  });

  it('does not leak (forward and gradient)', async () => {
    const u = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 61) as tf.Tensor4D;
    const v = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 62) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 2, 2], 0, 1, 'float32', 63) as tf.Tensor4D;
    const lambda = tf.tensor1d([1, 1]);
    await expectNoLeak(() => semanticDifferenceConv(u, v, w, lambda, { kernelSize: 3 }));
    await expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(semanticDifferenceConv(a as tf.Tensor4D, b as tf.Tensor4D, w, lambda, { kernelSize: 3 })))([u, v]));
    tf.dispose([u, v, w, lambda]);
  });

  it('rejects mismatched U/V, kernels and λ with ShapeErrors naming the argument', () => {
    const u = tf.zeros([1, 5, 5, 2]) as tf.Tensor4D;
    const w = tf.zeros([3, 3, 2, 2]) as tf.Tensor4D;
    const lambda = tf.ones([2]) as tf.Tensor1D;
    const expectShapeError = (fn: () => unknown, argument: string, message: RegExp): void => {
      try {
        fn();
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ShapeError);
        expect((error as ShapeError).argument).toBe(argument);
        expect((error as Error).message).toMatch(message);
      }
    };
    const sdc = (v: tf.Tensor, k: tf.Tensor = w, l: tf.Tensor = lambda, options: SemanticDifferenceOptions = { kernelSize: 3 }): tf.Tensor =>
      semanticDifferenceConv(u, v as tf.Tensor4D, k as tf.Tensor4D, l as tf.Tensor1D, options);
    expectShapeError(() => sdc(tf.zeros([1, 4, 5, 2])), 'V', /must have U's batch, height and width \[1, 5, 5\], got tensor of shape \[1, 4, 5, 2\]/);
    expectShapeError(() => sdc(tf.zeros([1, 5, 5, 3])), 'V', /must have U's 2 channels/);
    expectShapeError(() => sdc(tf.zeros([5, 5, 2])), 'V', /rank 4/);
    expectShapeError(() => semanticDifferenceConv(tf.zeros([5, 5, 2]) as unknown as tf.Tensor4D, u, w, lambda, { kernelSize: 3 }), 'U', /rank 4/);
    expectShapeError(() => sdc(u, tf.zeros([3, 3, 3, 2])), 'kernel', /must be \[3, 3, 2, Cout\]/);
    expectShapeError(() => sdc(u, w, tf.ones([3])), 'lambda', /must be \[2\] for the diffusivity similarity/);
    expectShapeError(() => sdc(u, w, lambda, { kernelSize: 4 }), 'kernelSize', /odd integer >= 3/);
    // The embedding form accepts any guidance channel count, but one λ.
    const y = sdc(tf.zeros([1, 5, 5, 7]), w, tf.ones([1]), { kernelSize: 3, similarity: 'embedding' });
    expect(y.shape).toEqual([1, 5, 5, 2]);
    expectShapeError(() => sdc(tf.zeros([1, 5, 5, 7]), w, lambda, { kernelSize: 3, similarity: 'embedding' }), 'lambda', /must be \[1\]/);
    tf.dispose([u, w, lambda, y]);
  });
});
