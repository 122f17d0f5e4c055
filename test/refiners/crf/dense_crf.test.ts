import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, ShapeError, denseCrf, type DenseCrfParams, type LabelProbabilities, type RgbImage } from '../../../src/index.js';
import { expectNoLeak } from '../../../src/testing/index.js';
import { compareMarginals, exactFeatures, exactMeanField, exactUnary } from './brute_force.js';
import { fixtureImage, fixtureProbabilities, float32s, readFixture } from './fixture.js';


interface FixtureCase {
  name: string;
  iters: number;
  pos_xy: number;
  pos_w: number;
  bi_xy: number;
  bi_rgb: number;
  bi_w: number;
  norm: number;
  Q_file: string;
  argmax_file: string;
}
const sidecar = JSON.parse(readFixture('densecrf_fixture.json').toString('utf8')) as {
  W: number;
  H: number;
  M: number;
  files: Record<string, { bytes: number; sha256: string }>;
  cases: FixtureCase[];
};
const { W, H, M } = sidecar;
const image: RgbImage = fixtureImage;
const probabilities: LabelProbabilities = fixtureProbabilities;

function paramsOf(c: FixtureCase): DenseCrfParams {
  return {
    iterations: c.iters,
    pos: { sxy: c.pos_xy, compat: c.pos_w },
    bilateral: { sxy: c.bi_xy, srgb: c.bi_rgb, compat: c.bi_w },
    normalization: c.norm === 3 ? 'symmetric' : c.norm === 2 ? 'after' : 'none',
  };
}

describe('denseCrf against pydensecrf (densecrf v2 C++) fixtures', () => {
  it('the fixture files are intact', () => {
    for (const [file, { bytes, sha256 }] of Object.entries(sidecar.files)) {
      if (file.startsWith('gt_')) continue;
      const data = readFixture(file);
      expect(data.length, file).toBe(bytes);
      expect(createHash('sha256').update(data).digest('hex'), file).toBe(sha256);
    }
  });

  for (const c of sidecar.cases) {
    it(`case ${c.name}: argmax agreement and mean |ΔQ|`, () => {
      const q = denseCrf(image, probabilities, paramsOf(c));
      expect([q.height, q.width, q.labels]).toEqual([H, W, M]);
      const reference = float32s(readFixture(c.Q_file));
      const { agreement, meanAbs } = compareMarginals(q.data, reference, M);
      // The bar, and the fixtures README's bar for a float32 port of the same lattice.
      expect(agreement).toBeGreaterThanOrEqual(0.999);
      expect(meanAbs).toBeLessThanOrEqual(1e-4);
      const argmax = readFixture(c.argmax_file);
      let same = 0;
      for (let i = 0; i < H * W; i++) {
        let best = 0;
        for (let m = 1; m < M; m++) if (q.data[i * M + m]! > q.data[i * M + best]!) best = m;
        if (best === argmax[i]) same++;
      }
      expect(same / (H * W)).toBeGreaterThanOrEqual(0.995);
    });
  }

  it('takes tensors too and returns a tensor (same numbers, no leak)', async () => {
    const c = sidecar.cases.find((x) => x.name.startsWith('d_'))!;
    const img = tf.tensor3d(Int32Array.from(image.data), [H, W, 3], 'int32');
    const prob = tf.tensor3d(probabilities.data, [H, W, M]);
    const typed = denseCrf(image, probabilities, paramsOf(c));
    const q = denseCrf(img, prob, paramsOf(c));
    expect(q.shape).toEqual([H, W, M]);
    expect(Array.from(q.dataSync())).toEqual(Array.from(typed.data));
    q.dispose();
    await expectNoLeak(() => denseCrf(img, prob, paramsOf(c)));
    tf.dispose([img, prob]);
  });
});

/** A tiny noisy scene: three colour regions, probabilities that favour the true label. */
function tinyScene(height: number, width: number, labels: number): { rgb: Uint8Array; prob: Float32Array } {
  let seed = 12345;
  const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const palette = [[200, 40, 40], [40, 200, 60], [60, 60, 220]];
  const rgb = new Uint8Array(height * width * 3);
  const prob = new Float32Array(height * width * labels);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const label = x + y > (height + width) / 2 ? 1 : x < width / 4 ? 2 : 0;
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.max(0, Math.min(255, Math.round(palette[label]![c]! + 10 * gauss())));
      const logits = Array.from({ length: labels }, (_, m) => (m === label ? 1.2 : 0) + 1.2 * gauss());
      const sum = logits.reduce((a, v) => a + Math.exp(v), 0);
      for (let m = 0; m < labels; m++) prob[i * labels + m] = Math.exp(logits[m]!) / sum;
    }
  }
  return { rgb, prob };
}

describe('denseCrf against an exact O(N²) mean field', () => {
  const [h, w, m] = [9, 11, 3];
  const { rgb, prob } = tinyScene(h, w, m);
  for (const normalization of ['symmetric', 'after', 'none'] as const) {
    it(`agrees within the lattice's approximation (${normalization})`, () => {
      const params: DenseCrfParams = { iterations: 3, pos: { sxy: 2, compat: 1 }, bilateral: { sxy: 6, srgb: 20, compat: 2 }, normalization };
      const q = denseCrf({ data: rgb, height: h, width: w }, { data: prob, height: h, width: w, labels: m }, params).data;
      const kernels = [
        { ...exactFeatures(h, w, 2), compat: 1 },
        { ...exactFeatures(h, w, 6, rgb, 20), compat: 2 },
      ];
      const exact = exactMeanField(exactUnary(prob), h * w, m, kernels, normalization, 3);
      const unaryOnly = compareMarginals(exactMeanField(exactUnary(prob), h * w, m, [], normalization, 0).q, exact.q, m);
      const lattice = compareMarginals(q, exact.q, m);
      expect(unaryOnly.meanAbs).toBeGreaterThan(0.05); // the CRF moves Q a lot …
      expect(lattice.agreement).toBeGreaterThanOrEqual(0.97); // … and the lattice follows it closely
      expect(lattice.meanAbs).toBeLessThan(0.1 * unaryOnly.meanAbs);
      expect(lattice.meanAbs).toBeLessThan(0.01);
    });
  }

  it('0 iterations return the clipped, renormalised probabilities', () => {
    const p = Float32Array.from(prob);
    p[0] = 0;
    p[1] = 1;
    p[2] = 0;
    const q = denseCrf({ data: rgb, height: h, width: w }, { data: p, height: h, width: w, labels: m }, { iterations: 0 }).data;
    expect(q[0]).toBeCloseTo(1e-5 / (1 + 2e-5), 9);
    expect(q[1]).toBeCloseTo(1 / (1 + 2e-5), 6);
    const sum = q[3]! + q[4]! + q[5]!;
    expect(q[3]! / sum).toBeCloseTo(p[3]! / (p[3]! + p[4]! + p[5]!), 6);
  });

  it('terms can be switched off, and each changes the result', () => {
    const run = (params: DenseCrfParams): Float32Array =>
      denseCrf({ data: rgb, height: h, width: w }, { data: prob, height: h, width: w, labels: m }, { iterations: 2, ...params }).data;
    const none = run({ pos: null, bilateral: null });
    const posOnly = run({ bilateral: null });
    const both = run({});
    expect(compareMarginals(none, run({ iterations: 0 }), m).maxAbs).toBeLessThan(1e-6);
    expect(compareMarginals(posOnly, none, m).maxAbs).toBeGreaterThan(1e-3);
    expect(compareMarginals(both, posOnly, m).maxAbs).toBeGreaterThan(1e-3);
  });
});

describe('denseCrf input validation', () => {
  const [h, w, m] = [4, 5, 2];
  const img = (): RgbImage => ({ data: new Uint8Array(h * w * 3).fill(100), height: h, width: w });
  const probs = (fill = 0.5, labels = m): LabelProbabilities => ({ data: new Float32Array(h * w * labels).fill(fill), height: h, width: w, labels });

  it('names the argument, the rule and the value', () => {
    expect(() => denseCrf({ data: new Uint8Array(h * w * 4), height: h, width: w }, probs())).toThrow(/image\.data must hold height·width·3 = 60 bytes \(RGBA\? drop the alpha channel\), got "80 bytes"/);
    expect(() => denseCrf({ ...img(), height: 0 }, probs())).toThrow(ShapeError);
    expect(() => denseCrf({ ...img(), data: new Float32Array(60) as unknown as Uint8Array }, probs())).toThrow(/image\.data must be a Uint8Array/);
    expect(() => denseCrf(img(), { ...probs(), height: w, width: h })).toThrow(/probabilities must be \[height, width, labels\] with the image's height 4 and width 5 \(height and width swapped\?\), got "\[5, 4, 2\]"/);
    expect(() => denseCrf(img(), probs(1, 1))).toThrow(/probabilities must have at least 2 labels/);
    expect(() => denseCrf(img(), { ...probs(), data: new Float32Array(7) })).toThrow(/probabilities\.data must hold height·width·labels = 40 values, got "7 values"/);
    expect(() => denseCrf(img(), probs(NaN))).toThrow(DataError);
    expect(() => denseCrf(img(), probs(-0.5))).toThrow(/probabilities must hold finite probabilities in \[0, 1\], got "-0.5 at pixel 0, label 0"/);
    expect(() => denseCrf(img(), probs(3))).toThrow(/logits\? apply a softmax first/);
    expect(() => denseCrf(img(), probs(), { bilateral: { srgb: 0 } })).toThrow(ConfigError);
    expect(() => denseCrf(img(), probs(), { bilateral: { srgb: 0 } })).toThrow('DenseCrfParams/bilateral/srgb must be > 0, got 0');
    expect(() => denseCrf(img(), probs(), { iterations: -1 })).toThrow('DenseCrfParams/iterations must be >= 0, got -1');
    expect(() => denseCrf(img(), probs(), { normalization: 'both' as never })).toThrow(/DenseCrfParams\/normalization must be one of "symmetric", "after", "none"/);
    expect(() => denseCrf(img(), probs(), { pos: { compat: Infinity } })).toThrow(/DenseCrfParams\/pos\/compat/);
    expect(() => denseCrf(img(), probs(), { bogus: 1 } as never)).toThrow(/DenseCrfParams\/bogus is not a known argument/);
  });

  it('validates tensors: rank, channels, range, finiteness', () => {
    const good = tf.fill([h, w, 3], 100) as tf.Tensor3D;
    const p = tf.fill([h, w, m], 0.5) as tf.Tensor3D;
    const bad = [tf.fill([h, w, 4], 100), tf.fill([h, w, 3], 300), tf.fill([h, w, 3], NaN)] as tf.Tensor3D[];
    expect(() => denseCrf(bad[0]!, p)).toThrow(/image must be a \[height, width, 3\] RGB tensor/);
    expect(() => denseCrf(bad[1]!, p)).toThrow(/image must hold finite RGB values in \[0, 255\]/);
    expect(() => denseCrf(bad[2]!, p)).toThrow(DataError);
    // The library's [0, 1] image convention would run as a black image: refused, naming the fix.
    const unit = tf.fill([h, w, 3], 0.4) as tf.Tensor3D;
    expect(() => denseCrf(unit, p)).toThrow(/image must hold RGB values in 0\.\.255 as pydensecrf does .*tf\.mul\(image, 255\)/);
    const black = tf.zeros([h, w, 3]) as tf.Tensor3D;
    expect(() => denseCrf(black, p).dispose()).not.toThrow();
    tf.dispose([unit, black]);
    const wrong = tf.fill([w, h, m], 0.5) as tf.Tensor3D;
    expect(() => denseCrf(good, wrong)).toThrow(/swapped/);
    const flat = tf.fill([h, w], 0.5) as unknown as tf.Tensor3D;
    expect(() => denseCrf(good, flat)).toThrow(/probabilities must be a \[height, width, labels\] tensor/);
    tf.dispose([good, p, wrong, flat, ...bad]);
  });
});
