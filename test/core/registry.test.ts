import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, createRegistry, createRefiner, compileArgs, IdentityRefiner, parseArgs, defaultRegistry, ShapeError, DataError, type RefinerSpec } from '../../src/index.js';
import { expectNoLeak, expectTensorClose } from '../../src/testing/index.js';

describe('registry', () => {
  it('an unknown type is a ConfigError naming the valid types', () => {
    expect(() => createRefiner({ type: 'nope' })).toThrow(ConfigError);
    expect(() => createRefiner({ type: 'nope' })).toThrow(/refiner\.type must be one of 'none'.*got "nope"/);
  });

  it('an unknown argument is a ConfigError naming it', () => {
    try {
      createRefiner({ type: 'none', bogus: 1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).argument).toBe('none/bogus');
      expect((error as Error).message).toContain('bogus');
      expect((error as Error).message).toContain('valid: outputSize');
    }
  });

  it('the identity refiner is the first registered spec', () => {
    expect(defaultRegistry().refinerIds()[0]).toBe('none');
  });

  it('containers are independent and accept user specs', () => {
    const schema = compileArgs<{ scale?: number }>('ScaleArgs', {
      type: 'object',
      properties: { scale: { type: 'number', nullable: true, default: 2 } },
      required: [],
      additionalProperties: false,
    });
    const spec: RefinerSpec<{ scale?: number }> = {
      id: 'toy',
      summary: 'toy',
      differentiable: true,
      schema,
      create: () => new IdentityRefiner(),
    };
    const registry = createRegistry({ refiners: [spec as RefinerSpec<never>] });
    expect(registry.refinerIds()).toContain('toy');
    expect(defaultRegistry().refinerIds()).not.toContain('toy');
    expect(() => createRegistry({ refiners: [spec as RefinerSpec<never>, spec as RefinerSpec<never>] })).toThrow(/unique ids/);
  });
});

describe('parseArgs', () => {
  const schema = compileArgs<{ walks: number; mode?: 'a' | 'b' }>('DemoArgs', {
    type: 'object',
    properties: { walks: { type: 'integer', minimum: 1, default: 5 }, mode: { type: 'string', enum: ['a', 'b'], nullable: true } },
    required: [],
    additionalProperties: false,
  });
  it('fills defaults and copies', () => {
    const input = {};
    expect(parseArgs(schema, input)).toEqual({ walks: 5 });
    expect(input).toEqual({});
  });
  it('names the field, the rule and the value', () => {
    expect(() => parseArgs(schema, { walks: 0 })).toThrow('DemoArgs/walks must be >= 1, got 0');
    expect(() => parseArgs(schema, { walks: 1.5 })).toThrow('DemoArgs/walks must be integer, got 1.5');
    expect(() => parseArgs(schema, { mode: 'c' })).toThrow('DemoArgs/mode must be one of "a", "b", got "c"');
    expect(() => parseArgs(schema, 3)).toThrow('DemoArgs must be an object, got 3');
  });
});

describe('IdentityRefiner (none)', () => {
  const scores = (): tf.Tensor4D => tf.randomNormal([2, 5, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;

  it('returns the scores, resized when asked', () => {
    const s = scores();
    const refiner = createRefiner({ type: 'none' });
    const out = refiner.refine({ scores: s });
    expectTensorClose(out, s);
    const big = refiner.refine({ scores: s }, { outputSize: [10, 12] });
    expect(big.shape).toEqual([2, 10, 12, 3]);
    tf.dispose([s, out, big]);
  });

  it('works inside a functional model and round-trips through save/load', async () => {
    const input = tf.input({ shape: [5, 6, 3] });
    const layer = new IdentityRefiner({ outputSize: [10, 12] });
    const output = layer.apply(input) as tf.SymbolicTensor;
    expect(output.shape).toEqual([null, 10, 12, 3]);
    const model = tf.model({ inputs: input, outputs: output });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const s = scores();
    expectTensorClose(reloaded.predict(s) as tf.Tensor, model.predict(s) as tf.Tensor);
    tf.dispose(s);
    model.dispose();
    reloaded.dispose();
  });

  it('does not leak', async () => {
    const s = scores();
    const refiner = createRefiner({ type: 'none' });
    await expectNoLeak(() => refiner.refine({ scores: s }, { outputSize: [7, 7] }));
    s.dispose();
  });

  it('rejects bad inputs with typed errors', () => {
    const refiner = createRefiner({ type: 'none' });
    const s = scores();
    expect(() => refiner.refine({ scores: tf.zeros([5, 6, 3]) as unknown as tf.Tensor4D })).toThrow(ShapeError);
    expect(() => refiner.refine({ scores: s, features: [s] })).toThrow(/inputs.features must have exactly 0 level/);
    expect(() => refiner.refine({ scores: s, image: tf.zeros([2, 5, 6, 3]) as tf.Tensor4D })).toThrow(/inputs.image is not taken by none/);
    const nan = tf.fill([1, 2, 2, 2], NaN) as tf.Tensor4D;
    expect(() => refiner.refine({ scores: nan })).toThrow(DataError);
    const out = refiner.refine({ scores: nan }, { checkFinite: false });
    expect(out.shape).toEqual([1, 2, 2, 2]);
    tf.dispose([s, nan, out]);
  });
});
