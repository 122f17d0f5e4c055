import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { ConfigError, createRefiner, embeddingLoss, localMasks, defaultRegistry, SegAwareBilateral, SegAwareCrf, segAwareFilter, ShapeError, type RefinerInputs } from '../../../src/index.js';
import { checkGradients, expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';
import { saveAndReload } from './helpers.js';

function inputs(batch = 2, classes = 3): Required<Pick<RefinerInputs, 'scores' | 'features'>> & { image: tf.Tensor4D } {
  return {
    scores: tf.randomNormal([batch, 4, 5, classes], 0, 1, 'float32', 1) as tf.Tensor4D,
    features: [tf.randomNormal([batch, 2, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D],
    image: tf.randomUniform([batch, 8, 10, 3], 0, 1, 'float32', 3) as tf.Tensor4D,
  };
}

function disposeInputs(x: RefinerInputs): void {
  tf.dispose([x.scores, ...(x.features ?? []), ...(x.image ? [x.image] : [])]);
}

/** Plain-JS mean field of SegAwareCrf on one item, from its embeddings and weights. */
function referenceCrf(
  scores: number[][][],
  embedding: number[][][],
  weights: { lambda: number; mu: number[][]; wE: number[][]; wS: number[][] },
  options: { k: number; dilation: number; spatialK: number; sigma: number; iterations: number },
): number[][][] {
  const h = scores.length;
  const w = scores[0]!.length;
  const classes = scores[0]![0]!.length;
  const softmax = (v: number[]): number[] => {
    const m = Math.max(...v);
    const e = v.map((x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  };
  const average = (q: number[][][], y: [number, number], kernel: (dy: number, dx: number, y2: number, x2: number) => number, size: number, dilation: number): number[] => {
    const c = (size - 1) / 2;
    const sum = new Array<number>(classes).fill(0);
    let norm = 0;
    for (let a = 0; a < size; a++) {
      for (let b = 0; b < size; b++) {
        const dy = (a - c) * dilation;
        const dx = (b - c) * dilation;
        const y2 = y[0]! + dy;
        const x2 = y[1]! + dx;
        if ((dy === 0 && dx === 0) || y2 < 0 || y2 >= h || x2 < 0 || x2 >= w) continue;
        const m = kernel(dy, dx, y2, x2);
        norm += m;
        for (let k = 0; k < classes; k++) sum[k]! += m * q[y2]![x2]![k]!;
      }
    }
    return sum.map((s) => (norm > 0 ? s / norm : 0));
  };
  const mix = (matrix: number[][], v: number[]): number[] => matrix.map((row) => row.reduce((acc, m, j) => acc + m * v[j]!, 0));
  let q = scores.map((row) => row.map(softmax));
  let out = scores;
  for (let it = 0; it < options.iterations; it++) {
    out = scores.map((row, y) =>
      row.map((u, x) => {
        const mE = average(q, [y, x], (_dy, _dx, y2, x2) => Math.exp(-weights.lambda * embedding[y]![x]!.reduce((acc, v, c) => acc + Math.abs(v - embedding[y2]![x2]![c]!), 0)), options.k, options.dilation);
        const mS = average(q, [y, x], (dy, dx) => Math.exp(-(dy * dy + dx * dx) / (2 * options.sigma * options.sigma)), options.spatialK, 1);
        const message = mix(weights.wE, mE).map((v, i) => v + mix(weights.wS, mS)[i]!);
        const pairwise = mix(weights.mu, message);
        return u.map((s, k) => s - pairwise[k]!);
      }),
    );
    q = out.map((row) => row.map(softmax));
  }
  return out;
}

describeOnBackends('SegAwareBilateral (segaware-bf)', () => {
  it('filters the scores with masks from its own embeddings and |λ|', () => {
    const x = inputs();
    const layer = new SegAwareBilateral({ kernelSize: 3, dilationRate: 2, repeats: 2, initialLambda: 0.8, embeddingDim: 5, useImage: true });
    const out = layer.refine(x);
    expect(out.shape).toEqual([2, 4, 5, 3]);
    expect(layer.lambda()).toBeCloseTo(0.8, 6);
    const embedding = layer.embed(x);
    expect(embedding.shape).toEqual([2, 4, 5, 5]);
    const expected = tf.tidy(() => segAwareFilter(x.scores, localMasks(embedding, { kernelSize: 3, dilation: 2, lambda: 0.8 }), { kernelSize: 3, dilation: 2, repeats: 2 }));
    expectTensorClose(out, expected, { atol: 1e-5 });
    // A negative λ acts as |λ|; the output size is honoured.
    layer.setWeights(layer.getWeights().map((w, i) => (i === 0 ? tf.neg(w) : w)));
    expectTensorClose(layer.refine(x), expected, { atol: 1e-5 });
    expect(layer.refine(x, { outputSize: [8, 10] }).shape).toEqual([2, 8, 10, 3]);
    tf.dispose([out, embedding, expected]);
    disposeInputs(x);
    layer.dispose();
  });

  it('trains with the embedding loss as an auxiliary loss', () => {
    const x = inputs(1);
    // A square feature map: tfjs-backend-cpu's ResizeBilinearGrad reports a
    // transposed shape for non-square inputs (a tfjs bug, not segaware's).
    x.features[0]!.dispose();
    x.features[0] = tf.randomNormal([1, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
    const labels = tf.tensor3d([0, 0, 1, 1, 2, 0, 0, 1, 1, 2, 0, 0, 1, 2, 2, 0, 0, 2, 2, 2], [1, 4, 5], 'int32');
    const layer = createRefiner({ type: 'segaware-bf', kernelSize: 3, embeddingDim: 4 }) as SegAwareBilateral;
    const taken = { scores: x.scores, features: x.features };
    tf.dispose(layer.refine(taken));
    const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => {
      const refined = layer.apply([x.scores, x.features[0]!], { training: true }) as tf.Tensor4D;
      const crossEntropy = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 3), refined);
      return tf.add(crossEntropy, embeddingLoss(layer.embed(taken), labels)) as tf.Scalar;
    }, weights);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(Object.keys(grads)).toHaveLength(weights.length);
    Object.values(grads).forEach((g) => expect(tf.all(tf.isFinite(g)).dataSync()[0]).toBe(1));
    tf.dispose([value, labels, ...Object.values(grads)]);
    disposeInputs(x);
    layer.dispose();
  });
});

describeOnBackends('SegAwareCrf (segaware-crf)', () => {
  it('matches a plain mean-field reference (embedding + spatial kernels, learned μ, W_e, W_s)', () => {
    const all = inputs(2, 2);
    const x = { scores: all.scores, features: all.features };
    const layer = new SegAwareCrf({ kernelSize: 3, dilationRate: 1, spatialKernelSize: 3, spatialSigma: 1.5, iterations: 2, initialLambda: 0.7, embeddingDim: 3 });
    tf.dispose(layer.refine(x));
    // Asymmetric matrices pin down which side each multiplies from.
    const mu = [[-1, 0.3], [0.2, -0.8]];
    const wE = [[1, 0.5], [0, 1]];
    const wS = [[0.7, 0], [0.1, 1.2]];
    const [lambda, , , , ...head] = layer.getWeights();
    layer.setWeights([lambda!, tf.tensor2d(mu), tf.tensor2d(wE), tf.tensor2d(wS), ...head]);
    const out = layer.refine(x).arraySync();
    const embedding = layer.embed(x);
    const embeddingValues = embedding.arraySync();
    const scoreValues = x.scores.arraySync();
    [0, 1].forEach((b) => {
      const expected = referenceCrf(scoreValues[b]!, embeddingValues[b]!, { lambda: 0.7, mu, wE, wS }, { k: 3, dilation: 1, spatialK: 3, sigma: 1.5, iterations: 2 });
      expectTensorClose(out[b]!, expected, { atol: 1e-5 });
    });
    embedding.dispose();
    disposeInputs(all);
    layer.dispose();
  });

  it('starts from compatibility −I and kernel weights I (the reference init)', () => {
    const x = inputs(1, 3);
    const layer = new SegAwareCrf({ embeddingDim: 2 });
    tf.dispose(layer.refine({ scores: x.scores, features: x.features }));
    const [lambda, mu, wE, wS] = layer.getWeights();
    expectTensorClose(lambda!, [2]);
    expectTensorClose(mu!, tf.mul(tf.eye(3), -1));
    expectTensorClose(wE!, tf.eye(3));
    expectTensorClose(wS!, tf.eye(3));
    disposeInputs(x);
    layer.dispose();
  });
});

describeOnBackends('segmentation-aware refiners: shared contract', () => {
  const kinds = [
    ['segaware-bf', { kernelSize: 3, dilationRate: 2, repeats: 2, distance: 'l2', embeddingDim: 3 }],
    ['segaware-crf', { kernelSize: 3, dilationRate: 1, spatialKernelSize: 3, distance: 'l2', embeddingDim: 3 }],
  ] as const;

  it.each(kinds)('%s round-trips through save/load inside a functional model', async (type, args) => {
    const scoresIn = tf.input({ shape: [4, 5, 3] });
    const featureIn = tf.input({ shape: [2, 3, 4] });
    const imageIn = tf.input({ shape: [8, 10, 3] });
    const layer = defaultRegistry().refinerSpec(type).create({ ...args, useImage: true, outputSize: [8, 10] } as never) as SegAwareBilateral;
    const out = layer.apply([scoresIn, featureIn, imageIn]) as tf.SymbolicTensor;
    expect(out.shape).toEqual([null, 8, 10, 3]);
    const model = tf.model({ inputs: [scoresIn, featureIn, imageIn], outputs: out });
    const reloaded = await saveAndReload(model);
    const x = inputs();
    const a = model.predict([x.scores, x.features[0]!, x.image]) as tf.Tensor;
    const b = reloaded.predict([x.scores, x.features[0]!, x.image]) as tf.Tensor;
    expectTensorClose(b, a, { atol: 0, rtol: 0 });
    tf.dispose([a, b]);
    disposeInputs(x);
    model.dispose();
    reloaded.dispose();
  });

  it.each(kinds)('%s differentiates w.r.t. the scores and the features (finite differences)', (type, args) => {
    const layer = createRefiner({ type, ...args }) as SegAwareBilateral;
    const scores = tf.randomNormal([1, 3, 4, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
    const feature = tf.randomNormal([1, 2, 2, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const f = (s: tf.Tensor, e: tf.Tensor): tf.Tensor => layer.apply([s, e]) as tf.Tensor;
    // Smooth (l2 distances), so a larger step is safe. Some directional
    // derivatives are ~4e-3 against float32 round-off of ~1e-5 in the
    // differences of the mean-field outputs: 5e-3 is that noise, not a bias
    // (entry-wise checks at several steps agree to 1e-5).
    checkGradients(f, [scores, feature], { epsilon: 3e-2, rtol: 5e-3 });
    tf.dispose([scores, feature]);
    layer.dispose();
  });

  it.each(kinds)('%s does not leak', async (type, args) => {
    const layer = createRefiner({ type, ...args });
    const x = inputs(1);
    await expectNoLeak(() => layer.refine({ scores: x.scores, features: x.features }));
    disposeInputs(x);
    layer.dispose();
  });

  it('reject bad arguments and inputs with typed errors naming them', () => {
    expect(() => createRefiner({ type: 'segaware-bf', kernelSize: 4 })).toThrow(ConfigError);
    expect(() => createRefiner({ type: 'segaware-bf', kernelSize: 4 })).toThrow(/segaware-bf\/kernelSize must be odd.*got 4/);
    expect(() => createRefiner({ type: 'segaware-bf', dilationRate: 0 })).toThrow(/segaware-bf\/dilationRate must be >= 1, got 0/);
    expect(() => createRefiner({ type: 'segaware-bf', featureLevels: 0 })).toThrow(/segaware-bf\/featureLevels must be >= 1 when useImage is false/);
    expect(() => createRefiner({ type: 'segaware-crf', spatialKernelSize: 2 })).toThrow(/segaware-crf\/spatialKernelSize must be odd.*got 2/);
    expect(() => createRefiner({ type: 'segaware-crf', kernelSize: 6 })).toThrow(/segaware-crf\/kernelSize must be odd.*got 6/);
    expect(() => createRefiner({ type: 'segaware-crf', initialLambda: -1 })).toThrow(/segaware-crf\/initialLambda must be >= 0, got -1/);
    expect(() => createRefiner({ type: 'segaware-crf', bogus: 1 })).toThrow(/segaware-crf\/bogus is not a known argument/);
    const x = inputs(1);
    const bf = createRefiner({ type: 'segaware-bf', kernelSize: 3, embeddingDim: 2 });
    expect(() => bf.refine({ scores: x.scores })).toThrow(ShapeError);
    expect(() => bf.refine({ scores: x.scores })).toThrow(/inputs\.features must have exactly 1 level\(s\) for segaware-bf/);
    const withImage = createRefiner({ type: 'segaware-crf', useImage: true, featureLevels: 0, embeddingDim: 2 });
    expect(() => withImage.refine({ scores: x.scores })).toThrow(/inputs\.image is required by segaware-crf/);
    const wrongBatch = tf.zeros([2, 2, 3, 4]) as tf.Tensor4D;
    expect(() => bf.refine({ scores: x.scores, features: [wrongBatch] })).toThrow(/inputs\.features\[0\] must have the scores' batch size 1/);
    tf.dispose(wrongBatch);
    disposeInputs(x);
    bf.dispose();
    withImage.dispose();
  });
});
