import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, createRegistry, createNeck, DataError, defaultRegistry, SdnNeck, sdnNeckSpec, ShapeError, type NeckSpec, type SdnNeckArgs } from '../../../src/index.js';
import { checkGradients, expectNoLeak, expectTensorClose } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';

/** A 3-level pyramid, fine → coarse, with a channel change between levels 0 and 1. */
const SHAPES: [number, number, number, number][] = [
  [2, 8, 8, 4],
  [2, 4, 4, 6],
  [2, 2, 2, 6],
];
const pyramid = (seed = 1): tf.Tensor4D[] => SHAPES.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', seed + i) as tf.Tensor4D);

async function saveAndReload(model: tf.LayersModel): Promise<tf.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tf.loadLayersModel(tf.io.fromMemory(saved!));
}

function weightNames(neck: SdnNeck): string[] {
  return neck.weights.map((w) => w.originalName.slice(neck.name.length + 1));
}

describeOnBackends('SdnNeck', () => {
  for (const mode of ['multi', 'single'] as const) {
    it(`keeps every level's shape (${mode}-scale), eagerly and symbolically`, () => {
      const neck = new SdnNeck({ mode, fusionInitializer: 'random' });
      const inputs = SHAPES.map((s) => tf.input({ shape: s.slice(1) }));
      const symbolic = neck.apply(inputs);
      expect(symbolic.map((t) => t.shape)).toEqual(SHAPES.map((s) => [null, ...s.slice(1)]));
      const features = pyramid();
      const out = neck.apply(features);
      expect(out.map((t) => t.shape)).toEqual(SHAPES);
      // A random fusion changes every level.
      out.forEach((o, i) => expect(tf.max(tf.abs(tf.sub(o, features[i]!))).dataSync()[0]).toBeGreaterThan(1e-3));
      tf.dispose([...features, ...out]);
      neck.dispose();
    });

    it(`starts as the identity with the default fusion init (${mode}-scale)`, () => {
      const neck = new SdnNeck({ mode });
      const features = pyramid(5);
      const out = neck.refineFeatures(features);
      out.forEach((o, i) => expectTensorClose(o, features[i]!, { atol: 1e-6, rtol: 0 }));
      tf.dispose([...features, ...out]);
      neck.dispose();
    });
  }

  it('creates the guidance weights each mode describes', () => {
    const multi = new SdnNeck({ mode: 'multi', diffusionChannels: 5 });
    multi.apply(SHAPES.map((s) => tf.input({ shape: s.slice(1) })));
    const names = weightNames(multi);
    // Level 0 (4 ch) is guided by level 1 (6 ch): a 1×1 projection 6 → 4.
    expect(multi.weights.find((w) => w.originalName.endsWith('level0/guide/kernel'))!.shape).toEqual([1, 1, 6, 4]);
    // Level 1 and level 2 have the same channels: no projection for level 1.
    expect(names).not.toContain('level1/guide/kernel');
    // The deepest level is guided by a 3×3 conv of itself.
    expect(multi.weights.find((w) => w.originalName.endsWith('level2/guide/kernel'))!.shape).toEqual([3, 3, 6, 6]);
    expect(multi.weights.find((w) => w.originalName.endsWith('level0/sdc/kernel'))!.shape).toEqual([3, 3, 4, 5]);
    expect(multi.weights.find((w) => w.originalName.endsWith('level0/fuse/kernel'))!.shape).toEqual([9, 4]);
    expect(multi.nonTrainableWeights.map((w) => w.originalName.slice(multi.name.length + 1))).toEqual([
      'level0/bn/moving_mean',
      'level0/bn/moving_variance',
      'level1/bn/moving_mean',
      'level1/bn/moving_variance',
      'level2/bn/moving_mean',
      'level2/bn/moving_variance',
    ]);
    const single = new SdnNeck({ mode: 'single', levels: [1], similarity: 'embedding' });
    single.apply(SHAPES.map((s) => tf.input({ shape: s.slice(1) })));
    expect(weightNames(single).filter((n) => n.includes('guide'))).toEqual(['level1/guide/kernel', 'level1/guide/bias']);
    expect(single.weights.find((w) => w.originalName.endsWith('level1/sdc/lambda'))!.shape).toEqual([1]);
    multi.dispose();
    single.dispose();
  });

  it('passes the levels it does not refine through unchanged (they still guide in multi mode)', () => {
    const neck = new SdnNeck({ levels: [0], fusionInitializer: 'random' });
    const features = pyramid(9);
    const out = neck.apply(features);
    expectTensorClose(out[1]!, features[1]!, { atol: 0, rtol: 0 });
    expectTensorClose(out[2]!, features[2]!, { atol: 0, rtol: 0 });
    expect(out[1]).not.toBe(features[1]);
    // Level 0 depends on level 1 through its guidance.
    const moved = [features[0]!, tf.mul(features[1]!, 3) as tf.Tensor4D, features[2]!];
    const out2 = neck.apply(moved);
    expect(tf.max(tf.abs(tf.sub(out2[0]!, out[0]!))).dataSync()[0]).toBeGreaterThan(1e-4);
    tf.dispose([...features, ...out, moved[1]!, ...out2]);
    neck.dispose();
  });

  it('has input gradients matching finite differences', () => {
    const shapes: [number, number, number, number][] = [
      [1, 4, 4, 2],
      [1, 2, 2, 3],
    ];
    const features = shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', 20 + i) as tf.Tensor4D);
    const neck = new SdnNeck({ mode: 'multi', fusionInitializer: 'random', seed: 3 });
    const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      const [y0, y1] = neck.apply([a as tf.Tensor4D, b as tf.Tensor4D]);
      return tf.concat([tf.reshape(y0!, [-1]), tf.reshape(y1!, [-1])]);
    };
    checkGradients(f, features, { epsilon: 1e-2, rtol: 1e-2 });
    tf.dispose(features);
    neck.dispose();
  });

  it('trains: a few Adam steps lower a regression loss and move the batch-norm statistics', () => {
    const features = pyramid(30);
    const neck = new SdnNeck({ mode: 'single', fusionInitializer: 'random', momentum: 0.5 });
    // Target: a sharpened version of each level (what a boundary-enhancing neck should learn to approach).
    const targets = features.map((f) => tf.tidy(() => tf.sign(f)));
    const loss = (): tf.Scalar =>
      tf.tidy(() => {
        const out = neck.apply(features, { training: true });
        return tf.addN(out.map((o, i) => tf.mean(tf.square(tf.sub(o, targets[i]!))))) as tf.Scalar;
      });
    const before = loss();
    const meanBefore = neck.nonTrainableWeights[0]!.read().arraySync() as number[];
    const optimizer = tf.train.adam(0.05);
    const vars = neck.trainableWeights.map((w) => w.read() as tf.Variable);
    for (let step = 0; step < 5; step++) tf.dispose(optimizer.minimize(loss, true, vars) ?? []);
    const after = loss();
    expect(after.dataSync()[0]).toBeLessThan(before.dataSync()[0]! * 0.9);
    const meanAfter = neck.nonTrainableWeights[0]!.read().arraySync() as number[];
    expect(meanAfter).not.toEqual(meanBefore);
    tf.dispose([...features, ...targets, before, after]);
    optimizer.dispose();
    neck.dispose();
  });

  it('round-trips through save/load in a model with a head after it', async () => {
    for (const args of [{ mode: 'multi', fusionInitializer: 'random', kernelSize: 5 }, { mode: 'single', fusionInitializer: 'random', levels: [0, 2], similarity: 'embedding' }] as SdnNeckArgs[]) {
      const inputs = SHAPES.map((s) => tf.input({ shape: s.slice(1) }));
      const refined = new SdnNeck(args).apply(inputs);
      const head = tf.layers.conv2d({ filters: 3, kernelSize: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(refined[0]!) as tf.SymbolicTensor;
      // A training step so the batch-norm statistics are not at their initial
      // values. (Through the head only: tfjs's fit cannot sum the losses of
      // outputs of different shapes.)
      const trainer = tf.model({ inputs, outputs: head });
      trainer.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
      const features = pyramid(40);
      const targets = [tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 41)];
      await trainer.fit(features, targets[0]!, { epochs: 1, batchSize: 2, verbose: 0 });
      const model = tf.model({ inputs, outputs: [head, ...refined] });
      const reloaded = await saveAndReload(model);
      const a = model.predict(features) as tf.Tensor[];
      const b = reloaded.predict(features) as tf.Tensor[];
      expect(b.map((t) => t.shape)).toEqual(a.map((t) => t.shape));
      a.forEach((t, i) => expectTensorClose(b[i]!, t, { atol: 0, rtol: 0 }));
      tf.dispose([...features, ...targets, ...a, ...b]);
      model.dispose();
      reloaded.dispose();
    }
  });

  it('does not leak (eager, training, gradients)', async () => {
    const features = pyramid(50);
    const neck = new SdnNeck({ fusionInitializer: 'random' });
    await expectNoLeak(() => neck.refineFeatures(features));
    await expectNoLeak(() => neck.apply(features, { training: true }));
    await expectNoLeak(() => tf.grads((a: tf.Tensor) => tf.sum(neck.apply([a as tf.Tensor4D, features[1]!, features[2]!])[0]!))([features[0]!]));
    tf.dispose(features);
    neck.dispose();
  });

  it('leaves no tensor behind when built with the default identity fusion and disposed', () => {
    const features = pyramid(51);
    const before = tf.memory().numTensors;
    const neck = new SdnNeck();
    tf.dispose(neck.apply(features) as tf.Tensor[]);
    neck.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(features);
  });

  it('rejects bad pyramids with ShapeErrors naming the level, and NaN with a DataError', () => {
    const neck = new SdnNeck();
    const features = pyramid(60);
    const errorOf = (fn: () => unknown): ShapeError => {
      try {
        fn();
      } catch (error) {
        return error as ShapeError;
      }
      throw new Error('expected an error');
    };
    expect(errorOf(() => neck.refineFeatures([])).argument).toBe('features');
    const rank3 = tf.zeros([8, 8, 4]) as unknown as tf.Tensor4D;
    expect(errorOf(() => neck.refineFeatures([rank3])).message).toMatch(/^features\[0\] must be rank 4/);
    const otherBatch = tf.zeros([1, 4, 4, 6]) as tf.Tensor4D;
    const batchError = errorOf(() => neck.refineFeatures([features[0]!, otherBatch, features[2]!]));
    expect(batchError).toBeInstanceOf(ShapeError);
    expect(batchError.argument).toBe('features[1]');
    tf.dispose(neck.refineFeatures(features));
    // Built for 3 levels of 4, 6, 6 channels.
    expect(errorOf(() => neck.refineFeatures(features.slice(0, 2))).message).toMatch(/^features must have 3 level\(s\), as when sdn was built, got "2 level\(s\)"/);
    const wrongChannels = tf.zeros([2, 4, 4, 5]) as tf.Tensor4D;
    const channelError = errorOf(() => neck.apply([features[0]!, wrongChannels, features[2]!]));
    expect(channelError).toBeInstanceOf(ShapeError);
    expect(channelError.argument).toBe('features[1]');
    expect(channelError.message).toMatch(/must have 6 channels/);
    const nan = tf.fill([2, 2, 2, 6], NaN) as tf.Tensor4D;
    expect(() => neck.refineFeatures([features[0]!, features[1]!, nan])).toThrow(DataError);
    // Symbolic inputs are checked the same way.
    expect(() => neck.apply([tf.input({ shape: [8, 8, 4] }), tf.input({ shape: [4, 4, 7] }), tf.input({ shape: [2, 2, 6] })])).toThrow(/^features\[1\] must have 6 channels/);
    tf.dispose([...features, rank3, otherBatch, wrongChannels, nan]);
    neck.dispose();
  });
});

describe('SdnNeck args and registry', () => {
  it('is registered as the neck "sdn" and built from a config', () => {
    expect(defaultRegistry().neckIds()).toContain('sdn');
    expect(defaultRegistry().necks().find((s) => s.id === 'sdn')).toBe(sdnNeckSpec);
    const neck = createNeck({ type: 'sdn', mode: 'single', kernelSize: 5 });
    expect(neck).toBeInstanceOf(SdnNeck);
    expect(neck.neckId).toBe('sdn');
    expect(neck.differentiable).toBe(true);
    expect((neck as SdnNeck).getConfig()).toMatchObject({ mode: 'single', kernelSize: 5, dilationRate: 1, similarity: 'diffusivity', fusionInitializer: 'identity', levels: null });
    neck.dispose();
  });

  it('names the field, rule and value of a bad config', () => {
    expect(() => createNeck({ type: 'nope' })).toThrow(/^neck\.type must be one of 'sdn'/);
    expect(() => createNeck({ type: 'sdn', mode: 'both' })).toThrow('sdn/mode must be one of "single", "multi", got "both"');
    expect(() => createNeck({ type: 'sdn', levels: [] })).toThrow(ConfigError);
    expect(() => createNeck({ type: 'sdn', walks: 3 })).toThrow(/sdn\/walks is not a known argument/);
    const neck = new SdnNeck({ levels: [3] });
    expect(() => neck.apply(SHAPES.map((s) => tf.input({ shape: s.slice(1) })))).toThrow("sdn/levels must index the pyramid's 3 level(s) (0..2), got [3]");
  });

  it('accepts user neck specs in a registry, with unique ids', () => {
    const spec: NeckSpec<SdnNeckArgs> = { ...sdnNeckSpec, id: 'my-sdn', create: (args) => new SdnNeck({ ...args, mode: 'single' }) };
    const registry = createRegistry({ necks: [spec as NeckSpec<never>] });
    expect(registry.neckIds()).toEqual(['sdn', 'my-sdn']);
    expect(defaultRegistry().neckIds()).not.toContain('my-sdn');
    expect(() => createRegistry({ necks: [sdnNeckSpec as NeckSpec<never>] })).toThrow(/necks must have unique ids \('sdn' registered twice\)/);
    expect(createRegistry({ builtins: false }).neckIds()).toEqual([]);
  });
});
