import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { ConfigError, createRefiner, DataError, DiffusionHead, ShapeError, transitionMatrix } from '../../../src/index.js';
import { expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';
import { roundTrip } from '../../helpers/round_trip.js';

const K = 3;
const scores = (): tf.Tensor4D => tf.randomNormal([2, 6, 8, K], 0, 1, 'float32', 1) as tf.Tensor4D;
/** Image-size level, a stride-2 level and a seed-size level, as a tiny pyramid. */
const pyramid = (): tf.Tensor4D[] => [
  tf.randomUniform([2, 24, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D,
  tf.randomNormal([2, 12, 16, 5], 0, 1, 'float32', 3) as tf.Tensor4D,
  tf.randomNormal([2, 6, 8, 7], 0, 1, 'float32', 4) as tf.Tensor4D,
];

describeOnBackends('DiffusionHead', () => {
  it('refines [scores, ...features] to logits at the requested size', () => {
    const head = new DiffusionHead({ walks: 3, embeddingDim: 4 });
    const s = scores();
    const f = pyramid();
    const out = head.refine({ scores: s, features: f });
    expect(out.shape).toEqual([2, 6, 8, K]);
    const big = head.refine({ scores: s, features: f }, { outputSize: [24, 32] });
    expect(big.shape).toEqual([2, 24, 32, K]);
    const mu0 = 1 / (1 + Math.exp(2)); // σ(−2): the default initialAlpha
    head.mu().forEach((mu) => expect(mu).toBeCloseTo(mu0, 6));
    expect(head.betaWeights()).toEqual([0.5, 0.5, 0.5]);
    tf.dispose([s, ...f, out, big]);
    head.dispose();
  });

  it('starts close to the identity on its scores by default, unlike the reference initialisation', () => {
    const s = scores();
    const f = pyramid();
    const distance = (args: ConstructorParameters<typeof DiffusionHead>[0]): { relative: number; agreement: number } => {
      const head = new DiffusionHead({ walks: 3, embeddingDim: 4, ...args });
      const out = head.refine({ scores: s, features: f });
      const relative = tf.tidy(() => tf.div(tf.norm(tf.sub(out, s)), tf.norm(s)).dataSync()[0]!);
      const agreement = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(out, 3), tf.argMax(s, 3)), 'float32')).dataSync()[0]!);
      tf.dispose(out);
      head.dispose();
      return { relative, agreement };
    };
    const byDefault = distance({});
    const reference = distance({ initialAlpha: 0, initialImportance: 0 });
    expect(byDefault.relative).toBeLessThan(0.2);
    expect(byDefault.agreement).toBeGreaterThan(0.9);
    // The reference's M ≈ 0.5 and μ = 0.5 halve the logits and mix in P·s.
    expect(reference.relative).toBeGreaterThan(0.4);
    expect(byDefault.relative).toBeLessThan(reference.relative / 2);
    tf.dispose([s, ...f]);
  });

  it('at the reference initialisation (α = 0), without importance, walk 1 is 0.25·P·s + 0.75·s with s = x', () => {
    const head = new DiffusionHead({ walks: 3, embeddingDim: 4, importance: false, initialAlpha: 0 });
    const s = scores();
    const f = pyramid();
    const inspection = head.inspect({ scores: s, features: f });
    tf.tidy(() => {
      expectTensorClose(inspection.seed, s);
      const x = tf.reshape(s, [2, 48, K]) as tf.Tensor3D;
      // P_1 rows from the inspection, for every node, rebuild P·s.
      const nodes = Array.from({ length: 48 }, (_, i) => i);
      const rows = [0, 1].map((b) => tf.reshape(inspection.transitionRows(0, nodes, b), [48, 48]));
      const p = tf.stack(rows) as tf.Tensor3D;
      expectTensorClose(tf.sum(p, 2), tf.ones([2, 48]), { atol: 1e-5 });
      const expected = tf.add(tf.mul(0.25, tf.matMul(p, x)), tf.mul(0.75, x));
      expectTensorClose(inspection.walks[0]!, tf.reshape(expected, [2, 6, 8, K]), { atol: 1e-5 });
      expect(transitionMatrix(tf.zeros([1, 4, 2]) as tf.Tensor3D).shape).toEqual([1, 4, 4]);
    });
    inspection.dispose();
    tf.dispose([s, ...f]);
    head.dispose();
  });

  it('inspect() returns M, E, the seed, every walk, μ, β and P rows without leaking', async () => {
    const head = new DiffusionHead({ walks: 3, embeddingDim: 4 });
    const s = scores();
    const f = pyramid();
    await expectNoLeak(() => {
      const inspection = head.inspect({ scores: s, features: f });
      expect(inspection.importance.shape).toEqual([2, 6, 8, 1]);
      expect(inspection.influence.shape).toEqual([2, 6, 8, 1]);
      const influence = tf.tidy(() => tf.sum(tf.abs(s), 3, true));
      expectTensorClose(inspection.influence, influence);
      influence.dispose();
      expect(inspection.walks).toHaveLength(3);
      expect(inspection.mu).toEqual(head.mu());
      expect(inspection.values['mu']).toEqual(head.mu());
      expect(inspection.maps.map((m) => m.caption)).toEqual(['DifNet seed', 'importance M', 'walk 1', 'walk 2', 'walk 3', 'P3 row (3,4)', 'P3 row (1,2)']);
      const rows = inspection.transitionRows(2, [[1, 2], 5]);
      expect(rows.shape).toEqual([2, 6, 8]);
      expect(() => inspection.transitionRows(3, [0])).toThrow(/transitionRows.walk/);
      expect(() => inspection.transitionRows(0, [[6, 0]])).toThrow(/transitionRows.nodes/);
      rows.dispose();
      inspection.dispose();
    });
    await expectNoLeak(() => head.refine({ scores: s, features: f }));
    tf.dispose([s, ...f]);
    head.dispose();
  });

  it('trains: gradients reach α, b, the importance net and the embedding branches', () => {
    const head = new DiffusionHead({ walks: 3, embeddingDim: 4 });
    const s = scores();
    const f = pyramid();
    head.refine({ scores: s, features: f }).dispose();
    const target = tf.randomNormal([2, 6, 8, K], 0, 1, 'float32', 9);
    const optimizer = tf.train.adam(0.05);
    const loss = (): tf.Scalar => tf.mean(tf.square(tf.sub(head.apply([s, ...f], { training: true }) as tf.Tensor, target)));
    const { value, grads } = tf.variableGrads(loss, head.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
    value.dispose();
    const names = head.trainableWeights.map((w) => w.originalName);
    expect(Object.keys(grads)).toHaveLength(names.length);
    expect(names.some((n) => n.includes('alpha'))).toBe(true);
    expect(names.some((n) => n.includes('importance_conv1'))).toBe(true);
    expect(names.some((n) => n.includes('embed3_conv'))).toBe(true);
    for (const g of Object.values(grads)) expect(tf.all(tf.isFinite(g)).dataSync()[0]).toBe(1);
    tf.dispose(grads);
    const before = loss().dataSync()[0]!;
    for (let i = 0; i < 20; i++) optimizer.minimize(loss);
    expect(loss().dataSync()[0]!).toBeLessThan(before);
    const mu0 = 1 / (1 + Math.exp(2));
    expect(head.mu().some((mu) => Math.abs(mu - mu0) > 1e-4)).toBe(true);
    tf.dispose([s, ...f, target]);
    optimizer.dispose();
    head.dispose();
  });

  it('saves and reloads inside a tf.model with identical predictions', async () => {
    const inputs = [tf.input({ shape: [6, 8, K] }), tf.input({ shape: [24, 32, 3] }), tf.input({ shape: [12, 16, 5] }), tf.input({ shape: [6, 8, 7] })];
    const head = new DiffusionHead({ walks: 3, embeddingDim: 4, outputSize: [24, 32], seed: 3 });
    const output = head.apply(inputs) as tf.SymbolicTensor;
    expect(output.shape).toEqual([null, 24, 32, K]);
    const model = tf.model({ inputs, outputs: output });
    // Move α/b and BN statistics off their initial values so the check is meaningful.
    model.setWeights(model.getWeights().map((w, i) => tf.add(w, tf.mul(0.1, tf.randomNormal(w.shape, 0, 1, 'float32', 100 + i))).abs()));
    const reloaded = await roundTrip(model);
    const s = scores();
    const f = pyramid();
    expectTensorClose(reloaded.predict([s, ...f]) as tf.Tensor, model.predict([s, ...f]) as tf.Tensor, { atol: 1e-6 });
    expect(reloaded.layers[4]!.getConfig()['walks']).toBe(3);
    tf.dispose([s, ...f]);
    model.dispose();
    reloaded.dispose();
  });

  it('rejects bad inputs and args with typed errors', () => {
    const head = new DiffusionHead({ walks: 3, embeddingDim: 4 });
    const s = scores();
    const f = pyramid();
    expect(() => head.refine({ scores: s, features: f.slice(0, 2) })).toThrow(/inputs.features must have exactly 3 level/);
    expect(() => head.refine({ scores: tf.zeros([6, 8, K]) as unknown as tf.Tensor4D, features: f })).toThrow(/inputs.scores must be rank 4/);
    expect(() => head.refine({ scores: s, features: [f[0]!, f[1]!, tf.zeros([1, 6, 8, 7]) as tf.Tensor4D] })).toThrow(/inputs.features\[2\] must have the scores' batch size 2/);
    head.refine({ scores: s, features: f }).dispose();
    expect(() => head.refine({ scores: tf.zeros([2, 6, 8, K + 1]) as tf.Tensor4D, features: f })).toThrow(/inputs.scores must have K = 3 channels/);
    const nan = tf.tidy(() => tf.where(tf.equal(tf.range(0, 2 * 6 * 8 * K).reshape([2, 6, 8, K]), 5), tf.fill([2, 6, 8, K], NaN), s)) as tf.Tensor4D;
    expect(() => head.refine({ scores: nan, features: f })).toThrow(DataError);
    expect(() => head.refine({ scores: s, features: [f[0]!, f[1]!, tf.fill([2, 6, 8, 7], Infinity) as tf.Tensor4D] })).toThrow(/inputs.features\[2\] must contain only finite values/);
    const unchecked = head.refine({ scores: nan, features: f }, { checkFinite: false });
    expect(() => new DiffusionHead({ walks: 0 })).toThrow('difnet/walks must be >= 1, got 0');
    expect(() => new DiffusionHead({ walks: 2.5 })).toThrow('difnet/walks must be integer, got 2.5');
    expect(() => createRefiner({ type: 'difnet', walk: 3 })).toThrow(ConfigError);
    expect(() => head.inspect({ scores: s, features: f.slice(1) })).toThrow(ShapeError);
    tf.dispose([s, ...f, nan, unchecked]);
    head.dispose();
  });

  it('is registered as difnet', () => {
    const refiner = createRefiner({ type: 'difnet', walks: 2 });
    expect(refiner.refinerId).toBe('difnet');
    expect(refiner).toBeInstanceOf(DiffusionHead);
    refiner.dispose();
  });
});
