import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, createRefiner, defaultRegistry, ShapeError, SpnRefiner, type SpnRefinerArgs } from '../../../src/index.js';
import { expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';
import { roundTrip } from '../../helpers/round_trip.js';

const K = 3;
const scores = (): tf.Tensor4D => tf.randomNormal([2, 6, 6, K], 0, 1, 'float32', 1) as tf.Tensor4D;
const image = (): tf.Tensor4D => tf.randomUniform([2, 12, 12, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
const level = (): tf.Tensor4D => tf.randomNormal([2, 6, 6, 5], 0, 1, 'float32', 3) as tf.Tensor4D;

describeOnBackends('SpnRefiner (spn)', () => {
  it('is registered, takes the image by default and keeps K at the propagation (or requested) size', () => {
    expect(defaultRegistry().refinerIds()).toContain('spn');
    const refiner = createRefiner({ type: 'spn', guidanceWidth: 4, guidanceDepth: 1 }) as SpnRefiner;
    expect(refiner).toBeInstanceOf(SpnRefiner);
    expect(refiner.inputRoles()).toEqual({ features: 0, image: true });
    const [s, img] = [scores(), image()];
    // The propagation runs at the image's size, and the output stays there (resizing back would discard the detail).
    const out = refiner.refine({ scores: s, image: img });
    expect(out.shape).toEqual([2, 12, 12, K]);
    const small = refiner.refine({ scores: s, image: img }, { outputSize: [6, 6] });
    expect(small.shape).toEqual([2, 6, 6, K]);
    const gates = refiner.gates({ scores: s, image: img });
    expect(gates.shape).toEqual([2, 12, 12, 12 * K]);
    tf.dispose([s, img, out, small, gates]);
    refiner.dispose();
    // The symbolic output shape says the same: the image's size, the propagation size, or the output size.
    const scoresIn = tf.input({ shape: [6, 6, K] });
    const imageIn = tf.input({ shape: [12, 12, 3] });
    const shapeOf = (args: SpnRefinerArgs): tf.Shape => (new SpnRefiner(args).apply([scoresIn, imageIn]) as tf.SymbolicTensor).shape;
    expect(shapeOf({})).toEqual([null, 12, 12, K]);
    expect(shapeOf({ propagationSize: [9, 9] })).toEqual([null, 9, 9, K]);
    expect(shapeOf({ propagationSize: [9, 9], outputSize: [6, 6] })).toEqual([null, 6, 6, K]);
  });

  it('with zero gates and propagation at the scores’ size, returns the scores', () => {
    const refiner = new SpnRefiner({ gateInitScale: 0, propagationSize: [6, 6], guidanceWidth: 4, guidanceDepth: 2 });
    const [s, img] = [scores(), image()];
    const out = refiner.refine({ scores: s, image: img });
    expectTensorClose(out, s, { atol: 1e-6, rtol: 0 });
    tf.dispose([s, img, out]);
    refiner.dispose();
  });

  it('starts from the same weights for the same seed (tfjs reads a normal initialiser\'s seed 0 as unseeded)', () => {
    const [s, img] = [scores(), image()];
    const weights = (seed: number | undefined): number[][] => {
      const refiner = new SpnRefiner({ guidanceWidth: 4, guidanceDepth: 2, ...(seed === undefined ? {} : { seed }) });
      tf.dispose(refiner.refine({ scores: s, image: img }));
      const values = refiner.getWeights().map((w) => Array.from(w.dataSync()));
      refiner.dispose();
      return values;
    };
    expect(weights(undefined)).toEqual(weights(undefined));
    expect(weights(-1)).toEqual(weights(-1));
    expect(weights(3)).not.toEqual(weights(4));
    tf.dispose([s, img]);
  });

  it('guidance from a pyramid level (and both), projection to C channels, one-way mode', () => {
    const [s, img, f] = [scores(), image(), level()];
    const cases: [SpnRefinerArgs, { features: number; image: boolean }, number][] = [
      [{ guidance: 'features', propagationChannels: 4, gateInitScale: 0.3 }, { features: 1, image: false }, 4 * 3 * 4],
      [{ guidance: 'both', mode: 'one-way', passes: 1, gateInitScale: 0.3 }, { features: 1, image: true }, 4 * K],
      [{ guidance: 'features', guidanceDepth: 0 }, { features: 1, image: false }, 12 * K],
    ];
    for (const [args, roles, gateChannels] of cases) {
      const refiner = new SpnRefiner({ guidanceWidth: 4, guidanceDepth: 1, ...args });
      expect(refiner.inputRoles()).toEqual(roles);
      const inputs = { scores: s, features: roles.features ? [f] : undefined, image: roles.image ? img : undefined };
      const out = refiner.refine(inputs);
      // At the guidance's size: the image's when taken, else the level's.
      expect(out.shape).toEqual(roles.image ? [2, 12, 12, K] : [2, 6, 6, K]);
      const gates = refiner.gates(inputs);
      expect(gates.shape[3]).toBe(gateChannels);
      tf.dispose([out, gates]);
      refiner.dispose();
    }
    tf.dispose([s, img, f]);
  });

  it('gradients reach every weight and the scores', () => {
    const refiner = new SpnRefiner({ guidanceWidth: 4, guidanceDepth: 2, propagationChannels: 2, gateInitScale: 0.3 });
    const [s, img] = [scores(), image()];
    refiner.refine({ scores: s, image: img }).dispose();
    const target = tf.randomNormal([2, 12, 12, K], 0, 1, 'float32', 4);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(refiner.apply([s, img]) as tf.Tensor, target)) as tf.Scalar);
    const names = refiner.trainableWeights.map((w) => w.originalName.slice(w.originalName.indexOf('/') + 1));
    expect(names).toEqual(expect.arrayContaining(['guidance_conv1/kernel', 'guidance_conv2/bias', 'gate_conv/kernel', 'project_in/kernel', 'project_out/bias']));
    for (const w of refiner.trainableWeights) {
      const g = grads[(w.read() as tf.Variable).name];
      expect(g, w.originalName).toBeDefined();
      expect(tf.tidy(() => tf.max(tf.abs(g!)).dataSync()[0]!), w.originalName).toBeGreaterThan(0);
    }
    const dScores = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(refiner.apply([x, img]) as tf.Tensor, target)))(s);
    expect(tf.tidy(() => tf.max(tf.abs(dScores)).dataSync()[0]!)).toBeGreaterThan(0);
    tf.dispose([s, img, target, dScores, ...Object.values(grads)]);
    refiner.dispose();
  });

  it('saves and reloads inside a functional model with identical predictions', async () => {
    const scoresIn = tf.input({ shape: [6, 6, K] });
    const imageIn = tf.input({ shape: [12, 12, 3] });
    const layer = new SpnRefiner({ guidanceWidth: 4, guidanceDepth: 1, propagationChannels: 2, gateInitScale: 0.5, outputSize: [12, 12], seed: 3 });
    const output = layer.apply([scoresIn, imageIn]) as tf.SymbolicTensor;
    expect(output.shape).toEqual([null, 12, 12, K]);
    const model = tf.model({ inputs: [scoresIn, imageIn], outputs: output });
    const reloaded = await roundTrip(model);
    const [s, img] = [scores(), image()];
    const expected = model.predict([s, img]) as tf.Tensor;
    const actual = reloaded.predict([s, img]) as tf.Tensor;
    expectTensorClose(actual, expected, { atol: 0, rtol: 0 });
    // Not a trivial identity: the propagation changed the (upsampled) scores.
    const plain = tf.image.resizeBilinear(s, [12, 12]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(expected, plain))).dataSync()[0]!)).toBeGreaterThan(1e-3);
    tf.dispose([s, img, expected, actual, plain]);
    model.dispose();
    reloaded.dispose();
  });

  it('does not leak', async () => {
    const refiner = new SpnRefiner({ guidanceWidth: 4, guidanceDepth: 1, gateInitScale: 0.3 });
    const [s, img] = [scores(), image()];
    await expectNoLeak(() => refiner.refine({ scores: s, image: img }, { outputSize: [7, 7] }));
    await expectNoLeak(() => tf.grad((x: tf.Tensor) => tf.sum(refiner.apply([x, img]) as tf.Tensor))(s));
    tf.dispose([s, img]);
    refiner.dispose();
  });
});

describe('SpnRefiner: bad arguments and inputs', () => {
  it('rejects bad args with a ConfigError naming the field', () => {
    expect(() => new SpnRefiner({ passes: 0 })).toThrow(ConfigError);
    expect(() => new SpnRefiner({ passes: 0 })).toThrow('spn/passes must be >= 1, got 0');
    expect(() => createRefiner({ type: 'spn', guidance: 'depth' })).toThrow(/spn\/guidance must be one of "image", "features", "both"/);
    expect(() => createRefiner({ type: 'spn', mode: 'two-way' })).toThrow(/spn\/mode/);
    expect(() => createRefiner({ type: 'spn', propagationSize: [0, 4] })).toThrow(ConfigError);
    expect(() => createRefiner({ type: 'spn', bogus: 1 })).toThrow(/spn\/bogus is not a known argument/);
  });

  it('missing or extra inputs are ShapeErrors naming them', () => {
    const refiner = new SpnRefiner({ guidanceWidth: 2, guidanceDepth: 1 });
    const s = scores();
    expect(() => refiner.refine({ scores: s })).toThrow(ShapeError);
    expect(() => refiner.refine({ scores: s })).toThrow(/inputs.image is required by spn/);
    const byLevel = new SpnRefiner({ guidance: 'features' });
    expect(() => byLevel.refine({ scores: s, features: [] })).toThrow(/inputs.features must have exactly 1 level/);
    s.dispose();
  });
});
