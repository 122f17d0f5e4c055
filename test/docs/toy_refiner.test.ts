// The refiner of docs/adding-a-refiner.md, tested as the guide says: its first
// code block is imported as a module (so the test checks exactly the code the
// guide shows), then built, registered, checked for values, gradients, leaks,
// serialization and typed errors with the shared helpers, and run through a
// tiny bench where it must appear in the results.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  builtinBackboneSpecs,
  ConfigError,
  createRegistry,
  defaultRegistry,
  createRefiner,
  createSegmenter,
  identitySpec,
  RefinerLayer,
  ShapeError,
  type BackboneSpec,
  type RefinerSpec,
} from 'segrefine';
import { runBench } from 'segrefine/bench';
import { checkGradients, expectNoLeak, expectTensorClose } from 'segrefine/testing';
import { repoRoot, snippetsOf, writeSnippetFile } from '../../scripts/doc-snippets.js';
import { describeOnBackends } from '../helpers/backends.js';

interface GuideModule {
  LearnedSmoothing: new (args?: { kernelSize?: number; outputSize?: [number, number] | null; name?: string }) => RefinerLayer;
  learnedSmoothingSpec: RefinerSpec<never>;
  smoothScores: (scores: tf.Tensor4D, delta: tf.Tensor4D, bias: tf.Tensor1D) => tf.Tensor4D;
}

let guide: GuideModule;

beforeAll(async () => {
  const page = 'docs/adding-a-refiner.md';
  const first = snippetsOf(page, readFileSync(join(repoRoot, page), 'utf8')).snippets.find((s) => !s.illustrative);
  if (first === undefined) throw new Error(`${page} has no runnable block`);
  guide = (await import(writeSnippetFile(first))) as GuideModule;
});

/** The op by the definition, in plain loops: y = x + Σ_k Δ(k) x(p + k − c) + b, zero outside. */
function referenceSmooth(x: tf.Tensor4D, delta: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  const [batch, height, width, classes] = x.shape;
  const k = delta.shape[0];
  const c = (k - 1) / 2;
  const xs = x.arraySync();
  const ds = delta.arraySync();
  const bs = bias.arraySync();
  const out = xs.map((image) =>
    image.map((row, i) =>
      row.map((pixel, j) =>
        pixel.map((value, ch) => {
          let sum = value + bs[ch]!;
          for (let u = 0; u < k; u++) {
            for (let v = 0; v < k; v++) {
              const [y, z] = [i + u - c, j + v - c];
              if (y >= 0 && y < height && z >= 0 && z < width) sum += ds[u]![v]![ch]![0]! * image[y]![z]![ch]!;
            }
          }
          return sum;
        }),
      ),
    ),
  );
  return tf.tensor4d(out, [batch, height, width, classes]);
}

describeOnBackends('the guide refiner (learned smoothing)', () => {
  it('matches the definition, starts as the identity and resizes', () => {
    const x = tf.randomNormal([2, 6, 5, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    const layer = new guide.LearnedSmoothing({ kernelSize: 3 });
    expectTensorClose(layer.refine({ scores: x }), x, { atol: 1e-6 }); // zero Δ and b at init
    const delta = tf.randomNormal([3, 3, 3, 1], 0, 0.5, 'float32', 12) as tf.Tensor4D;
    const bias = tf.tensor1d([0.1, -0.2, 0.3]);
    layer.setWeights([delta, bias]);
    expectTensorClose(layer.refine({ scores: x }), referenceSmooth(x, delta, bias), { atol: 1e-5 });
    expect(layer.refine({ scores: x }, { outputSize: [12, 10] }).shape).toEqual([2, 12, 10, 3]);
    layer.dispose();
  });

  it('has the gradients of its op and trains its weights', () => {
    const x = tf.randomNormal([1, 5, 4, 2], 0, 1, 'float32', 21) as tf.Tensor4D;
    const delta = tf.randomNormal([3, 3, 2, 1], 0, 0.3, 'float32', 22) as tf.Tensor4D;
    const bias = tf.randomNormal([2], 0, 1, 'float32', 23) as tf.Tensor1D;
    const { maxRelError } = checkGradients((a, b, c) => guide.smoothScores(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor1D), [x, delta, bias], { epsilon: 1 });
    expect(maxRelError).toBeLessThan(1e-3);
    // One optimiser step through the layer moves both weights.
    const layer = new guide.LearnedSmoothing();
    const target = tf.randomNormal([1, 5, 4, 2], 0, 1, 'float32', 24);
    layer.refine({ scores: x }).dispose();
    const before = layer.getWeights().map((w) => w.arraySync());
    const optimizer = tf.train.sgd(0.1);
    optimizer.minimize(() => tf.mean(tf.square(tf.sub(layer.apply(x) as tf.Tensor, target))) as tf.Scalar, false, layer.trainableWeights.map((w) => w.read() as tf.Variable));
    layer.getWeights().forEach((w, i) => expect(w.arraySync()).not.toEqual(before[i]));
    optimizer.dispose();
    layer.dispose();
  });

  it('does not leak', async () => {
    const x = tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 31) as tf.Tensor4D;
    const layer = new guide.LearnedSmoothing({ kernelSize: 5, outputSize: [8, 8] });
    await expectNoLeak(() => layer.refine({ scores: x }));
    await expectNoLeak(() => layer.apply(x));
    layer.dispose();
    x.dispose();
  });
});

describe('the guide refiner: registry, serialization, errors, bench', () => {
  it('registers in a registry of its own and validates its config', () => {
    const registry = createRegistry({ refiners: [guide.learnedSmoothingSpec] });
    expect(registry.refinerIds()).toContain('learned-smoothing');
    expect(defaultRegistry().refinerIds()).not.toContain('learned-smoothing');
    const refiner = createRefiner({ type: 'learned-smoothing', kernelSize: 5 }, registry);
    expect(refiner).toBeInstanceOf(guide.LearnedSmoothing);
    expect(() => createRefiner({ type: 'learned-smoothing', kernelSize: 4 }, registry)).toThrow(ConfigError);
    expect(() => createRefiner({ type: 'learned-smoothing', kernelSize: 4 }, registry)).toThrow('learned-smoothing/kernelSize must be one of 1, 3, 5, 7, 9, got 4');
    expect(() => createRefiner({ type: 'learned-smoothing' })).toThrow(/refiner\.type must be one of/);
    const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    expect(() => refiner.refine({ scores: x, features: [x] })).toThrow(ShapeError);
    x.dispose();
  });

  it('builds into a segmenter and round-trips through save/load', async () => {
    const registry = createRegistry({ refiners: [guide.learnedSmoothingSpec] });
    const model = createSegmenter({ backbone: { type: 'fcn', classes: 3, channels: 4 }, refiner: { type: 'learned-smoothing' }, inputSize: [32, 32], registry });
    const smoothing = model.layers.find((l) => l instanceof guide.LearnedSmoothing)!;
    smoothing.setWeights(smoothing.getWeights().map((w) => tf.randomNormal(w.shape, 0, 0.2, 'float32', 41)));
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(reloaded.layers.some((l) => l.getClassName() === 'example>learned-smoothing')).toBe(true);
    const image = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 42);
    expectTensorClose(reloaded.predict(image) as tf.Tensor, model.predict(image) as tf.Tensor, { atol: 1e-5 });
    tf.dispose(image);
    model.dispose();
    reloaded.dispose();
  });

  describe('in the bench', () => {
    let outputDir = '';
    beforeAll(() => {
      outputDir = mkdtempSync(join(tmpdir(), 'segrefine-toy-bench-'));
    });
    afterAll(() => rmSync(outputDir, { recursive: true, force: true }));

    it('appears in the results through includeAllRefiners', async () => {
      const registry = createRegistry({
        builtins: false,
        backbones: builtinBackboneSpecs as BackboneSpec<never>[],
        refiners: [identitySpec as RefinerSpec<never>, guide.learnedSmoothingSpec],
      });
      const before = tf.memory().numTensors;
      const run = await runBench(
        {
          name: 'toy',
          outputDir,
          dataset: { type: 'synthetic', size: [32, 32], train: 8, val: 4, classes: 4 },
          backbone: { type: 'fcn', channels: 4 },
          train: { epochs: 1, refinerEpochs: 1, batchSize: 4 },
          eval: { panels: 1 },
          includeAllRefiners: true,
        },
        { registry },
      );
      expect(tf.memory().numTensors).toBe(before);
      expect(run.results.complete).toBe(true);
      const entry = run.results.entries.find((e) => e.refiner === 'learned-smoothing');
      expect(entry).toBeDefined();
      expect(entry!.protocol).toBe('refine-frozen');
      expect(entry!.trained).toBe(true);
      expect(entry!.refinerParams).toBe(3 * 3 * 4 + 4); // Δ [3, 3, K, 1] and b [K] for K = 4 classes
      expect(entry!.losses.length).toBeGreaterThan(0);
      expect(entry!.meanIou).toBeGreaterThanOrEqual(0);
      expect(readFileSync(run.files.markdown, 'utf8')).toContain('| learned-smoothing |');
    });
  });
});
