import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { ConfigError, ConvCrf, ShapeError, createRefiner, defaultRegistry } from '../../../src/index.js';
import { convCrfMeanField, type ConvCrfConfig } from '../../../src/refiners/crf/conv_crf_ops.js';
import { resolveKernels } from '../../../src/refiners/crf/params.js';
import { checkGradients, expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';
import { exactFeatures, exactMeanField, exactPooledMeanField, exactUnary, type ExactNormalization } from './brute_force.js';

const POS = { sxy: 2, compat: 1 };
const BILATERAL = { sxy: 4, srgb: 60, compat: 2 };

function inputs(height: number, width: number, labels: number, seed = 3): { scores: tf.Tensor4D; image: tf.Tensor4D } {
  return {
    scores: tf.randomNormal([1, height, width, labels], 0, 1.5, 'float32', seed) as tf.Tensor4D,
    image: tf.randomUniform([1, height, width, 3], 0, 1, 'float32', seed + 1) as tf.Tensor4D,
  };
}

/** −log(clip(softmax(scores))) and the image in 0..255, as float64 arrays. */
function exactInputs(scores: tf.Tensor4D, image: tf.Tensor4D): { unary: Float64Array; rgb: number[] } {
  const p = tf.tidy(() => tf.softmax(scores).dataSync());
  return { unary: exactUnary(p), rgb: Array.from(image.dataSync(), (v) => v * 255) };
}

describeOnBackends('ConvCrf', () => {
  for (const normalization of ['symmetric', 'after', 'none'] as const) {
    it(`with a window covering the image equals the exact dense mean field (${normalization})`, () => {
      const [h, w, m] = [5, 6, 3];
      const { scores, image } = inputs(h, w, m);
      const layer = new ConvCrf({ iterations: 3, kernelSize: 2 * Math.max(h, w) - 1, pos: POS, bilateral: BILATERAL, normalization });
      const out = layer.refine({ scores, image });
      const { unary, rgb } = exactInputs(scores, image);
      const kernels = [
        { ...exactFeatures(h, w, POS.sxy), compat: POS.compat },
        { ...exactFeatures(h, w, BILATERAL.sxy, rgb, BILATERAL.srgb), compat: BILATERAL.compat },
      ];
      const exact = exactMeanField(unary, h * w, m, kernels, normalization as ExactNormalization, 3);
      expectTensorClose(out, Array.from(exact.logits), { atol: 2e-5, rtol: 1e-5 });
      tf.dispose([scores, image, out]);
      layer.dispose();
    });
  }

  it('downsampled messages equal the exact mean field on the pooled grid (sizes not multiples of s)', () => {
    const [h, w, m, s] = [7, 9, 3, 2];
    const { scores, image } = inputs(h, w, m, 11);
    const layer = new ConvCrf({ iterations: 2, kernelSize: 9, downsample: s, pos: POS, bilateral: BILATERAL });
    const out = layer.refine({ scores, image });
    const { unary, rgb } = exactInputs(scores, image);
    const exact = exactPooledMeanField(unary, h, w, m, rgb, [POS, BILATERAL], s, 'symmetric', 2);
    expectTensorClose(out, Array.from(exact.logits), { atol: 2e-5, rtol: 1e-5 });
    tf.dispose([scores, image, out]);
    layer.dispose();
  });

  it('a truncated window changes the result; zero iterations give the unary logits', () => {
    const { scores, image } = inputs(5, 6, 3);
    const full = new ConvCrf({ iterations: 3, kernelSize: 11, pos: POS, bilateral: BILATERAL });
    const local = new ConvCrf({ iterations: 3, kernelSize: 3, pos: POS, bilateral: BILATERAL });
    const none = new ConvCrf({ iterations: 0 });
    const [a, b, c] = [full.refine({ scores, image }), local.refine({ scores, image }), none.refine({ scores, image })];
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!)).toBeGreaterThan(1e-3);
    expectTensorClose(c, tf.tidy(() => tf.maximum(tf.logSoftmax(scores), Math.log(1e-5))), { atol: 1e-6 });
    tf.dispose([scores, image, a, b, c]);
  });

  for (const [downsample, implementation] of [[1, 'fused'], [2, 'fused'], [1, 'ops'], [2, 'ops']] as const) {
    it(`gradients match finite differences (scores, image, kernel weights, compatibility; downsample ${downsample}, ${implementation})`, () => {
      const [h, w, m] = [4, 5, 3];
      const { scores, image } = inputs(h, w, m, 21);
      const config: ConvCrfConfig = {
        iterations: 2,
        kernelSize: 3,
        downsample,
        kernels: resolveKernels(POS, { sxy: 3, srgb: 160, compat: 3 }),
        normalization: 'symmetric',
        clip: 1e-5,
        implementation,
      };
      const weights = [tf.scalar(1.2), tf.scalar(0.7)];
      const compatibility = tf.tidy(() => tf.add(tf.eye(m), tf.randomUniform([m, m], -0.3, 0.3, 'float32', 5))) as tf.Tensor2D;
      const f = (...xs: tf.Tensor[]): tf.Tensor =>
        convCrfMeanField(xs[0] as tf.Tensor4D, xs[1] as tf.Tensor4D, [xs[2]!, xs[3]!], xs[4] as tf.Tensor2D, config);
      // ε = 0.1: the op is smooth at that scale, and single-entry derivatives of ~5e-3 need the
      // larger step to rise above float32 round-off (smaller ε converges to the same values, noisier).
      const result = checkGradients(f, [scores, image, ...weights, compatibility], { epsilon: 0.1, rtol: 2e-3 });
      expect(result.entries.length).toBeGreaterThan(20);
      tf.dispose([scores, image, ...weights, compatibility]);
    });
  }

  it('round-trips through model.save / tf.loadLayersModel with its learned weights', async () => {
    const scoresIn = tf.input({ shape: [4, 5, 3] });
    const imageIn = tf.input({ shape: [8, 10, 3] });
    const layer = new ConvCrf({ iterations: 2, kernelSize: 5, downsample: 2, outputSize: [8, 10], bilateral: { srgb: 30 } });
    const output = layer.apply([scoresIn, imageIn]) as tf.SymbolicTensor;
    expect(output.shape).toEqual([null, 8, 10, 3]);
    const model = tf.model({ inputs: [scoresIn, imageIn], outputs: output });
    const names = layer.getWeights().map((wt) => wt.shape);
    expect(names).toEqual([[], [], [3, 3]]);
    layer.setWeights([tf.scalar(2.5), tf.scalar(4), tf.tidy(() => tf.add(tf.eye(3), 0.1))]);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const x = [tf.randomNormal([2, 4, 5, 3], 0, 1, 'float32', 8), tf.randomUniform([2, 8, 10, 3], 0, 1, 'float32', 9)];
    const [a, b] = [model.predict(x) as tf.Tensor, reloaded.predict(x) as tf.Tensor];
    expectTensorClose(b, a, { atol: 0, rtol: 0 });
    const config = reloaded.layers.find((l) => l instanceof ConvCrf)!.getConfig();
    expect(config).toMatchObject({ iterations: 2, kernelSize: 5, downsample: 2, bilateral: { sxy: 80, srgb: 30, compat: 10 }, normalization: 'symmetric', outputSize: [8, 10] });
    tf.dispose([...x, a, b]);
    model.dispose();
    reloaded.dispose();
  });

  it('trains: one optimizer step moves the kernel weights and the compatibility', () => {
    const { scores, image } = inputs(6, 6, 3, 31);
    const layer = new ConvCrf({ iterations: 2, kernelSize: 3 });
    layer.refine({ scores, image }).dispose();
    const before = layer.getWeights().map((wt) => wt.dataSync().slice());
    const target = tf.oneHot(tf.zeros([1, 6, 6], 'int32'), 3);
    const optimizer = tf.train.sgd(0.5);
    optimizer.minimize(() => tf.losses.softmaxCrossEntropy(target, layer.apply([scores, image]) as tf.Tensor) as tf.Scalar);
    const after = layer.getWeights().map((wt) => wt.dataSync());
    after.forEach((values, i) => expect(Array.from(values)).not.toEqual(Array.from(before[i]!)));
    tf.dispose([scores, image, target]);
    optimizer.dispose();
    layer.dispose();
  });

  it('does not leak', async () => {
    const { scores, image } = inputs(6, 7, 3);
    const layer = new ConvCrf({ iterations: 2, kernelSize: 3, downsample: 2 });
    await expectNoLeak(() => layer.refine({ scores, image }, { outputSize: [9, 9] }));
    tf.dispose([scores, image]);
    layer.dispose();
  });
});

it('ConvCrf rejects bad arguments and inputs with typed errors', () => {
  expect(() => new ConvCrf({ kernelSize: 4 })).toThrow(ConfigError);
  expect(() => new ConvCrf({ kernelSize: 4 })).toThrow('conv-crf/kernelSize must be odd, got 4');
  expect(() => new ConvCrf({ downsample: 0 })).toThrow('conv-crf/downsample must be >= 1, got 0');
  expect(() => new ConvCrf({ bilateral: { srgb: -1 } })).toThrow('conv-crf/bilateral/srgb must be > 0, got -1');
  expect(() => new ConvCrf({ walks: 3 } as never)).toThrow(/conv-crf\/walks is not a known argument/);
  const layer = new ConvCrf({ kernelSize: 3, iterations: 1 });
  const { scores, image } = inputs(4, 4, 3);
  expect(() => layer.refine({ scores })).toThrow(/inputs.image is required by conv-crf/);
  expect(() => layer.refine({ scores, image: tf.zeros([2, 4, 4, 3]) as tf.Tensor4D })).toThrow(ShapeError);
  const one = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
  expect(() => new ConvCrf().refine({ scores: one, image })).toThrow(/inputs.scores must have a known number of classes ≥ 2/);
  layer.refine({ scores, image }).dispose();
  const four = tf.zeros([1, 4, 4, 4]) as tf.Tensor4D;
  expect(() => layer.refine({ scores: four, image })).toThrow(/inputs.scores must have the 3 classes this layer was built with/);
  tf.dispose([scores, image, one, four]);
});

it('ConvCrf and DenseCrf are registered', () => {
  expect(defaultRegistry().refinerIds()).toEqual(expect.arrayContaining(['dense-crf', 'conv-crf']));
  const refiner = createRefiner({ type: 'conv-crf', kernelSize: 5 });
  expect(refiner).toBeInstanceOf(ConvCrf);
  expect(refiner.differentiable).toBe(true);
  expect(defaultRegistry().refinerSpec('dense-crf').differentiable).toBe(false);
});
