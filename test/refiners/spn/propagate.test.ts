import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, spn, spnPropagate, SPN_DIRECTIONS, type SpnDirection } from '../../../src/index.js';
import { spnPropagateReference, spnReference } from '../../../src/refiners/spn/reference.js';
import { checkGradients, expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';

type Nchw = number[][][][];
interface SpnFixture {
  X: Nchw;
  G: Nchw;
  gates_normalized: Nchw;
  prop_L2R: Nchw;
  prop_R2L: Nchw;
  prop_T2B: Nchw;
  prop_B2T: Nchw;
  single_pass_max: Nchw;
  module_output_two_pass: Nchw;
}

const fixture = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/spn/spn3way_n1_c3_h7_w9.json'), 'utf8')) as SpnFixture;
const FIXTURE_KEYS: Record<SpnDirection, keyof SpnFixture> = {
  'left-to-right': 'prop_L2R',
  'right-to-left': 'prop_R2L',
  'top-to-bottom': 'prop_T2B',
  'bottom-to-top': 'prop_B2T',
};
const TOLERANCE = { atol: 1e-5, rtol: 1e-5 };

/** The fixture is NCHW; segrefine is NHWC. */
function nhwc(values: Nchw): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(values), [0, 2, 3, 1]));
}

/** Gate chunk d (3C channels) of a 12C gate tensor. */
function chunk(gates: tf.Tensor4D, d: number): tf.Tensor4D {
  const [b, h, w, g] = gates.shape;
  return tf.slice(gates, [0, 0, 0, (d * g) / 4], [b, h, w, g / 4]);
}

function maxAbs(t: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);
}

describeOnBackends('spn propagation', () => {
  describe('pytorch_spn fixture (float32, atol = rtol = 1e-5)', () => {
    it.each(SPN_DIRECTIONS.map((d, i) => [d, i] as const))('%s', (direction, d) => {
      tf.tidy(() => {
        const x = nhwc(fixture.X);
        const gates = chunk(nhwc(fixture.G), d);
        expectTensorClose(spnPropagate(x, gates, { direction }), nhwc(fixture[FIXTURE_KEYS[direction]] as Nchw), TOLERANCE);
        // The fixture's own normalised gates, not normalised again, give the same propagation.
        const normalized = chunk(nhwc(fixture.gates_normalized), d);
        expectTensorClose(spnPropagate(x, normalized, { direction, normalization: 'none' }), nhwc(fixture[FIXTURE_KEYS[direction]] as Nchw), TOLERANCE);
      });
    });

    it('the single max-merged pass and the two-pass module output', () => {
      tf.tidy(() => {
        const x = nhwc(fixture.X);
        const gates = nhwc(fixture.G);
        expectTensorClose(spn(x, gates, { passes: 1 }), nhwc(fixture.single_pass_max), TOLERANCE);
        expectTensorClose(spn(x, gates), nhwc(fixture.module_output_two_pass), TOLERANCE);
      });
    });

    it('the normalisation matters: without it the fixture is not reproduced', () => {
      tf.tidy(() => {
        const out = spnPropagate(nhwc(fixture.X), chunk(nhwc(fixture.G), 0), { direction: 'left-to-right', normalization: 'none' });
        expect(() => expectTensorClose(out, nhwc(fixture.prop_L2R), TOLERANCE)).toThrow();
      });
    });
  });

  it('zero gates leave x unchanged (every direction, both modes, the module)', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 4, 5, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
      for (const direction of SPN_DIRECTIONS) {
        expectTensorClose(spnPropagate(x, tf.zeros([2, 4, 5, 9]), { direction }), x, { atol: 0, rtol: 0 });
        expectTensorClose(spnPropagate(x, tf.zeros([2, 4, 5, 3]), { direction, mode: 'one-way' }), x, { atol: 0, rtol: 0 });
      }
      expectTensorClose(spn(x, tf.zeros([2, 4, 5, 36])), x, { atol: 0, rtol: 0 });
    });
  });

  it('g2 = 1 copies the first column (row) along the direction', () => {
    tf.tidy(() => {
      const [b, h, w, c] = [1, 4, 5, 2];
      const x = tf.randomNormal([b, h, w, c], 0, 1, 'float32', 12) as tf.Tensor4D;
      const copyGates = tf.concat([tf.zeros([b, h, w, c]), tf.ones([b, h, w, c]), tf.zeros([b, h, w, c])], 3) as tf.Tensor4D;
      const first: Record<SpnDirection, tf.Tensor4D> = {
        'left-to-right': tf.tile(tf.slice(x, [0, 0, 0, 0], [b, h, 1, c]), [1, 1, w, 1]),
        'right-to-left': tf.tile(tf.slice(x, [0, 0, w - 1, 0], [b, h, 1, c]), [1, 1, w, 1]),
        'top-to-bottom': tf.tile(tf.slice(x, [0, 0, 0, 0], [b, 1, w, c]), [1, h, 1, 1]),
        'bottom-to-top': tf.tile(tf.slice(x, [0, h - 1, 0, 0], [b, 1, w, c]), [1, h, 1, 1]),
      };
      for (const direction of SPN_DIRECTIONS) {
        expectTensorClose(spnPropagate(x, copyGates, { direction }), first[direction], { atol: 1e-6, rtol: 0 });
        expectTensorClose(spnPropagate(x, tf.ones([b, h, w, c]) as tf.Tensor4D, { direction, mode: 'one-way' }), first[direction], { atol: 1e-6, rtol: 0 });
      }
    });
  });

  it('stays bounded over 200 columns when the gates sum to ≥ 1 (and explodes without normalisation)', () => {
    tf.tidy(() => {
      const [b, h, w, c] = [1, 6, 200, 2];
      const x = tf.randomNormal([b, h, w, c], 0, 1, 'float32', 13) as tf.Tensor4D;
      const bound = maxAbs(x);
      // Positive gates with Σg ≥ 1.2 everywhere: normalised, every step is a convex combination.
      const positive = tf.randomUniform([b, h, w, 3 * c], 0.4, 1, 'float32', 14) as tf.Tensor4D;
      const normalized = spnPropagate(x, positive, { direction: 'left-to-right' });
      expect(maxAbs(normalized)).toBeLessThanOrEqual(bound * (1 + 1e-5));
      expect(maxAbs(spnPropagate(x, positive, { direction: 'left-to-right', normalization: 'always' }))).toBeLessThanOrEqual(bound * (1 + 1e-5));
      const raw = maxAbs(spnPropagate(x, positive, { direction: 'left-to-right', normalization: 'none' }));
      expect(raw > 1e6 || !Number.isFinite(raw)).toBe(true);
      // Mixed signs, Σ|g| ≥ 1.2: normalised, |h_t| ≤ |1 − Σg|·|x_t| + max|h_{t−1}| ≤ (1 + 2t)·max|x|.
      const signs = tf.sign(tf.randomUniform([b, h, w, 3 * c], -1, 1, 'float32', 15));
      const mixed = spnPropagate(x, tf.mul(positive, signs) as tf.Tensor4D, { direction: 'left-to-right' });
      expect(maxAbs(mixed)).toBeLessThanOrEqual(bound * (1 + 2 * (w - 1)));
      expect(Number.isFinite(maxAbs(mixed))).toBe(true);
    });
  });

  describe('gradients', () => {
    const x = (): tf.Tensor4D => tf.randomNormal([1, 4, 5, 2], 0, 1, 'float32', 21) as tf.Tensor4D;
    // Kink-free regimes: Σ|g| < 1 (never normalised) and Σ|g| > 1 (always), |g| ≥ 0.05.
    const small = (): tf.Tensor4D => tf.randomUniform([1, 4, 5, 6], 0.05, 0.3, 'float32', 22) as tf.Tensor4D;
    const large = (): tf.Tensor4D =>
      tf.tidy(() => tf.mul(tf.randomUniform([1, 4, 5, 6], 0.45, 0.8, 'float32', 23), tf.sign(tf.randomUniform([1, 4, 5, 6], -1, 1, 'float32', 24)))) as tf.Tensor4D;

    it.each(SPN_DIRECTIONS)('match finite differences, %s', (direction) => {
      const [xi, gSmall, gLarge] = [x(), small(), large()];
      const gOneWay = tf.slice(gLarge, [0, 0, 0, 0], [1, 4, 5, 2]) as tf.Tensor4D;
      for (const [gates, mode] of [[gSmall, 'three-way'], [gLarge, 'three-way'], [gOneWay, 'one-way']] as const) {
        // Linear in x (any step is exact, a large one beats round-off); smooth in the gates.
        checkGradients((xv) => spnPropagate(xv as tf.Tensor4D, gates, { direction, mode }), [xi], { epsilon: 1 });
        checkGradients((gv) => spnPropagate(xi, gv as tf.Tensor4D, { direction, mode }), [gates], { epsilon: 2e-2, rtol: 2e-3 });
      }
      tf.dispose([xi, gSmall, gLarge, gOneWay]);
    });

    it('of the module match tfjs autodiff through a plain per-column implementation', () => {
      tf.tidy(() => {
        for (const [mode, taps] of [['three-way', 3], ['one-way', 1]] as const) {
          for (const [h, w] of [[5, 6], [5, 5]]) {
            const xi = tf.randomNormal([2, h, w, 2], 0, 1, 'float32', 31);
            const gi = tf.randomUniform([2, h, w, 4 * taps * 2], -0.7, 0.7, 'float32', 32);
            const r = tf.randomNormal([2, h, w, 2], 0, 1, 'float32', 33);
            const ours = tf.grads((a: tf.Tensor, g: tf.Tensor) => tf.sum(tf.mul(spn(a as tf.Tensor4D, g as tf.Tensor4D, { mode }), r)))([xi, gi]);
            const reference = tf.grads((a: tf.Tensor, g: tf.Tensor) => tf.sum(tf.mul(spnReference(a as tf.Tensor4D, g as tf.Tensor4D, 2, mode), r)))([xi, gi]);
            expectTensorClose(spn(xi as tf.Tensor4D, gi as tf.Tensor4D, { mode }), spnReference(xi as tf.Tensor4D, gi as tf.Tensor4D, 2, mode), TOLERANCE);
            expectTensorClose(ours[0]!, reference[0]!, { atol: 2e-5, rtol: 1e-4 });
            expectTensorClose(ours[1]!, reference[1]!, { atol: 2e-5, rtol: 1e-4 });
          }
        }
        const xi = tf.randomNormal([1, 4, 6, 2], 0, 1, 'float32', 34) as tf.Tensor4D;
        const gi = tf.randomUniform([1, 4, 6, 6], -0.7, 0.7, 'float32', 35) as tf.Tensor4D;
        expectTensorClose(spnPropagate(xi, gi, { direction: 'bottom-to-top', normalization: 'always' }), spnPropagateReference(xi, gi, 'bottom-to-top', 'three-way', 'always'), TOLERANCE);
      });
    });
  });

  it('does not leak (forward and backward)', async () => {
    const x = tf.randomNormal([1, 5, 4, 2], 0, 1, 'float32', 41) as tf.Tensor4D;
    const gates = tf.randomUniform([1, 5, 4, 24], -0.6, 0.6, 'float32', 42) as tf.Tensor4D;
    await expectNoLeak(() => spn(x, gates));
    const oneWay = tf.slice(gates, [0, 0, 0, 0], [1, 5, 4, 2]) as tf.Tensor4D;
    await expectNoLeak(() => spnPropagate(x, oneWay, { direction: 'top-to-bottom', mode: 'one-way' }));
    await expectNoLeak(() => tf.grads((a: tf.Tensor, g: tf.Tensor) => tf.sum(spn(a as tf.Tensor4D, g as tf.Tensor4D)))([x, gates]));
    tf.dispose([x, gates, oneWay]);
  });
});

describe('spn propagation: bad inputs', () => {
  const x = tf.zeros([1, 4, 5, 2]) as tf.Tensor4D;
  const error = (fn: () => unknown): Error => {
    try {
      fn();
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected an error');
  };

  it('gate channels must be 3C (one direction) or 12C (the module), naming gates', () => {
    const e1 = error(() => spnPropagate(x, tf.zeros([1, 4, 5, 4]) as tf.Tensor4D, { direction: 'left-to-right' }));
    expect(e1).toBeInstanceOf(ShapeError);
    expect((e1 as ShapeError).argument).toBe('gates');
    expect(e1.message).toMatch(/3·C = 6 channels/);
    const e2 = error(() => spn(x, tf.zeros([1, 4, 5, 6]) as tf.Tensor4D));
    expect((e2 as ShapeError).argument).toBe('gates');
    expect(e2.message).toMatch(/12·C = 24 channels/);
    expect(error(() => spn(x, tf.zeros([1, 4, 5, 6]) as tf.Tensor4D, { mode: 'one-way' })).message).toMatch(/4·C = 8 channels/);
  });

  it('gates must match x in batch and size; x must be rank 4', () => {
    const e = error(() => spnPropagate(x, tf.zeros([1, 4, 6, 6]) as tf.Tensor4D, { direction: 'top-to-bottom' }));
    expect(e).toBeInstanceOf(ShapeError);
    expect((e as ShapeError).argument).toBe('gates');
    expect(e.message).toContain('[1, 4, 5, ·]');
    const bad = error(() => spn(tf.zeros([4, 5, 2]) as unknown as tf.Tensor4D, tf.zeros([1, 4, 5, 24]) as tf.Tensor4D));
    expect((bad as ShapeError).argument).toBe('x');
  });

  it('options are validated', () => {
    const gates = tf.zeros([1, 4, 5, 6]) as tf.Tensor4D;
    const e = error(() => spnPropagate(x, gates, { direction: 'diagonal' as SpnDirection }));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).argument).toBe('options.direction');
    expect(error(() => spn(x, tf.zeros([1, 4, 5, 24]) as tf.Tensor4D, { passes: 0 })).message).toBe('options.passes must be an integer >= 1, got 0');
  });
});
