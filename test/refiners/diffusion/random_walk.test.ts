import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { DataError, diffusionClosedForm, randomWalk, ShapeError, transitionMatrix } from '../../../src/index.js';
import { checkGradients, expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';

interface CascadeFixture {
  N: number;
  K: number;
  s: number[][];
  feats: number[][][];
  alpha_raw: number[];
  beta_raw: number[];
  P0: number[][];
  walk_outputs: number[][][];
  final: number[][];
}
interface GradFixture extends CascadeFixture {
  R: number[][];
  loss: { value: number };
  closed_form: { mu: number; y: number[][] };
  grad_s: number[][];
  grad_feats: number[][][];
  grad_alpha_raw: number[];
  grad_beta_raw: number[];
}

const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../../fixtures/difnet/${name}`, import.meta.url), 'utf8')) as T;
const n48 = load<CascadeFixture & { 'closed_form_P0_mu0.8': number[][] }>('cascade_n48.json');
const n120 = load<GradFixture>('cascade_n120_k7.json');

const batched = (rows: number[][]): tf.Tensor3D => tf.tensor3d([rows]);
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The cascade with raw α, b as tensors so gradients reach them. */
function cascade(s: tf.Tensor3D, feats: tf.Tensor3D[], alphaRaw: tf.Tensor1D, betaRaw: tf.Tensor1D): tf.Tensor3D[] {
  const outputs: tf.Tensor3D[] = [];
  let y = s;
  feats.forEach((f, t) => {
    const mu = tf.reshape(tf.sigmoid(tf.neg(tf.slice(alphaRaw, [t], [1]))), []) as tf.Scalar;
    const beta = tf.reshape(tf.sigmoid(tf.slice(betaRaw, [t], [1])), []) as tf.Scalar;
    y = randomWalk({ y, seed: s, embedding: f, mu, beta });
    outputs.push(y);
  });
  return outputs;
}

describeOnBackends('randomWalk', () => {
  it('reproduces the authors’ cascade (N = 48): P0, every walk and the final output', () => {
    tf.tidy(() => {
      const s = batched(n48.s);
      const feats = n48.feats.map(batched);
      expectTensorClose(transitionMatrix(feats[0]!), [n48.P0], { atol: 1e-5, rtol: 1e-5 });
      const outputs = cascade(s, feats, tf.tensor1d(n48.alpha_raw), tf.tensor1d(n48.beta_raw));
      outputs.forEach((y, t) => expectTensorClose(y, [n48.walk_outputs[t]!], { atol: 1e-5, rtol: 1e-5 }));
      expectTensorClose(outputs[4]!, [n48.final], { atol: 1e-5, rtol: 1e-5 });
    });
  });

  it('reproduces the N = 120, K = 7 cascade and its gradients w.r.t. seed, features, α and b', () => {
    tf.tidy(() => {
      const inputs = [batched(n120.s), ...n120.feats.map(batched), tf.tensor1d(n120.alpha_raw), tf.tensor1d(n120.beta_raw)];
      const R = batched(n120.R);
      const walks = n120.feats.length;
      const loss = (...xs: tf.Tensor[]): tf.Scalar => {
        const outputs = cascade(xs[0] as tf.Tensor3D, xs.slice(1, 1 + walks) as tf.Tensor3D[], xs[1 + walks] as tf.Tensor1D, xs[2 + walks] as tf.Tensor1D);
        return tf.sum(tf.mul(outputs[walks - 1]!, R));
      };
      const outputs = cascade(inputs[0] as tf.Tensor3D, inputs.slice(1, 1 + walks) as tf.Tensor3D[], inputs[1 + walks] as tf.Tensor1D, inputs[2 + walks] as tf.Tensor1D);
      outputs.forEach((y, t) => expectTensorClose(y, [n120.walk_outputs[t]!], { atol: 1e-5, rtol: 1e-5 }));
      expectTensorClose(loss(...inputs), n120.loss.value, { atol: 1e-4, rtol: 1e-5 });
      const grads = tf.grads(loss)(inputs);
      const tol = { atol: 2e-5, rtol: 1e-4 };
      expectTensorClose(grads[0]!, [n120.grad_s], tol);
      n120.grad_feats.forEach((g, t) => expectTensorClose(grads[1 + t]!, [g], tol));
      expectTensorClose(grads[1 + walks]!, n120.grad_alpha_raw, tol);
      expectTensorClose(grads[2 + walks]!, n120.grad_beta_raw, tol);
    });
  });

  it('matches the closed form of the fixtures and converges to it when one P is repeated', () => {
    tf.tidy(() => {
      const s = batched(n48.s);
      const f = batched(n48.feats[0]!);
      expectTensorClose(diffusionClosedForm({ seed: s, embedding: f, mu: 0.8 }), [n48['closed_form_P0_mu0.8']], { atol: 1e-5 });
      const closed = diffusionClosedForm({ seed: batched(n120.s), embedding: batched(n120.feats[0]!), mu: n120.closed_form.mu });
      expectTensorClose(closed, [n120.closed_form.y], { atol: 1e-4 });
    });
    // β only changes the speed of convergence, not the fixed point.
    const s = batched(n48.s);
    const f = batched(n48.feats[0]!);
    let y = s;
    for (let i = 0; i < 200; i++) {
      const next = randomWalk({ y, seed: s, embedding: f, mu: 0.8, beta: 0.3 });
      if (y !== s) y.dispose();
      y = next;
    }
    expectTensorClose(y, [n48['closed_form_P0_mu0.8']], { atol: 1e-5 });
    tf.dispose([s, f, y]);
  });

  it('at initialisation (μ = β = 0.5) the first walk is 0.25·P·s + 0.75·s', () => {
    tf.tidy(() => {
      const s = batched(n48.s);
      const f = batched(n48.feats[1]!);
      const y = randomWalk({ y: s, seed: s, embedding: f, mu: sigmoid(0), beta: sigmoid(0) });
      const expected = tf.add(tf.mul(0.25, tf.matMul(transitionMatrix(f), s)), tf.mul(0.75, s));
      expectTensorClose(y, expected, { atol: 1e-6 });
    });
  });

  it('stays finite for embeddings with entries up to ±1e3', () => {
    tf.tidy(() => {
      const s = tf.randomNormal([2, 30, 4], 0, 1, 'float32', 1) as tf.Tensor3D;
      const f = tf.mul(tf.randomUniform([2, 30, 8], -1, 1, 'float32', 2), 1e3) as tf.Tensor3D;
      const y = randomWalk({ y: s, seed: s, embedding: f, mu: 0.7, beta: 0.2 });
      expect(tf.all(tf.isFinite(y)).dataSync()[0]).toBe(1);
      expect(tf.all(tf.isFinite(transitionMatrix(f))).dataSync()[0]).toBe(1);
    });
  });

  it('is differentiable w.r.t. y, seed, embedding, μ and β (finite differences)', () => {
    const xs = [
      tf.randomNormal([1, 12, 3], 0, 1, 'float32', 3),
      tf.randomNormal([1, 12, 3], 0, 1, 'float32', 4),
      tf.randomNormal([1, 12, 5], 0, 0.7, 'float32', 5),
      tf.scalar(0.6),
      tf.scalar(0.3),
    ];
    const walk = (y: tf.Tensor, seed: tf.Tensor, e: tf.Tensor, mu: tf.Tensor, beta: tf.Tensor): tf.Tensor =>
      randomWalk({ y: y as tf.Tensor3D, seed: seed as tf.Tensor3D, embedding: e as tf.Tensor3D, mu: mu as tf.Scalar, beta: beta as tf.Scalar });
    // The walk is linear in y and seed (exact differences at a unit step), smooth in the rest.
    expect(checkGradients(walk, xs, { epsilon: [1, 1, 1e-2, 1e-2, 1e-2] }).maxRelError).toBeLessThan(1e-3);
    const closed = (seed: tf.Tensor, e: tf.Tensor): tf.Tensor => diffusionClosedForm({ seed: seed as tf.Tensor3D, embedding: e as tf.Tensor3D, mu: 0.7 });
    expect(checkGradients(closed, [xs[1]!, xs[2]!], { epsilon: [1, 5e-2] }).maxRelError).toBeLessThan(1e-3);
    tf.dispose(xs);
  });

  it('does not leak', async () => {
    const s = tf.randomNormal([1, 20, 3], 0, 1, 'float32', 6) as tf.Tensor3D;
    const f = tf.randomNormal([1, 20, 4], 0, 1, 'float32', 7) as tf.Tensor3D;
    await expectNoLeak(() => randomWalk({ y: s, seed: s, embedding: f, mu: 0.5, beta: 0.5 }));
    await expectNoLeak(() => diffusionClosedForm({ seed: s, embedding: f, mu: 0.5 }));
    tf.dispose([s, f]);
  });

  it('rejects bad inputs with typed errors', () => {
    const s = tf.zeros([1, 6, 2]) as tf.Tensor3D;
    const f = tf.zeros([1, 6, 3]) as tf.Tensor3D;
    expect(() => randomWalk({ y: s, seed: tf.zeros([6, 2]) as unknown as tf.Tensor3D, embedding: f, mu: 0.5, beta: 0.5 })).toThrow(/randomWalk.seed must be rank 3/);
    expect(() => randomWalk({ y: s, seed: s, embedding: tf.zeros([1, 5, 3]) as tf.Tensor3D, mu: 0.5, beta: 0.5 })).toThrow(ShapeError);
    expect(() => randomWalk({ y: tf.zeros([1, 6, 3]) as tf.Tensor3D, seed: s, embedding: f, mu: 0.5, beta: 0.5 })).toThrow(/randomWalk.y must have the seed's shape/);
    expect(() => randomWalk({ y: s, seed: s, embedding: f, mu: 1.5, beta: 0.5 })).toThrow(DataError);
    expect(() => randomWalk({ y: s, seed: s, embedding: f, mu: 0.5, beta: NaN })).toThrow(/randomWalk.beta must be a number in \[0, 1\], got NaN/);
    expect(() => diffusionClosedForm({ seed: s, embedding: f, mu: 1 })).toThrow(/must be < 1/);
    tf.dispose([s, f]);
  });
});
