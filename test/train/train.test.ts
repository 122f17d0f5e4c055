import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError, ShapeError, createSegmenter, hasCheckpoint, SegmentationOptimizer, train, trainOnBatch, type SegmentationBatch, type TrainOptions } from '../../src/index.js';
import { fileCheckpointStore, loadCheckpointModel } from '../../src/node/index.js';
import { expectNoLeak, expectTensorClose } from '../../src/testing/index.js';
import { sceneBatch, sceneSource } from './scenes.js';

const SIZE = 16;
const CLASSES = 3;
const directories: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'segrefine-train-'));
  directories.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(directories.map((d) => rm(d, { recursive: true, force: true })));
});

function tinyModel(seed = 1): tf.LayersModel {
  return createSegmenter({ backbone: { type: 'fcn', channels: 4, classes: CLASSES, seed }, inputSize: [SIZE, SIZE] });
}

const source = (steps: number, voidBand = false): TrainOptions['data'] => sceneSource({ batch: 2, size: SIZE, classes: CLASSES, steps, voidBand });

function weightsOf(model: tf.LayersModel): tf.Tensor[] {
  return model.weights.map((w) => w.read());
}

describe('train', () => {
  it('lowers the loss on synthetic scenes and follows the poly schedule', async () => {
    const model = tinyModel();
    const epochsSeen: number[] = [];
    const result = await train(model, {
      data: source(4, true),
      epochs: 3,
      stepsPerEpoch: 4,
      optimizer: { type: 'adam', learningRate: 0.01 },
      callbacks: {
        evaluate: (_, epoch) => {
          epochsSeen.push(epoch);
          return { epochTimesTen: epoch * 10 };
        },
      },
    });
    expect(result.steps).toBe(12);
    expect(result.epochsCompleted).toBe(3);
    expect(result.resumedFrom).toBeNull();
    expect(epochsSeen).toEqual([0, 1, 2]);
    expect(result.epochs.map((e) => e.metrics['epochTimesTen'])).toEqual([0, 10, 20]);
    const means = result.epochs.map((e) => e.meanLoss);
    expect(means[2]!).toBeLessThan(means[0]! * 0.9);
    const rates = result.history.map((h) => h.learningRate);
    expect(rates[0]).toBeCloseTo(0.01, 10);
    expect(rates[9]).toBeCloseTo(0.01 * (1 - 9 / 12) ** 0.9, 10);
    expect(result.history.every((h) => h.batchSize === 2 && h.seconds > 0)).toBe(true);
  });

  it('is deterministic: the same seed and data give identical losses and weights', async () => {
    const run = async (): Promise<{ losses: number[]; weights: tf.Tensor[] }> => {
      const model = tinyModel(7);
      const result = await train(model, { data: source(3), totalSteps: 3, optimizer: { learningRate: 0.05, weightDecay: 1e-3 } });
      return { losses: result.history.map((h) => h.loss), weights: weightsOf(model) };
    };
    const [a, b] = [await run(), await run()];
    expect(b.losses).toEqual(a.losses);
    a.weights.forEach((w, i) => expectTensorClose(b.weights[i]!, w, { atol: 0 }));
  });

  it('resumes from a checkpoint exactly where it stopped (mid-epoch), optimiser state included', async () => {
    const options = (directory: string, onStep?: (step: number) => void): TrainOptions => ({
      data: source(3),
      epochs: 2,
      stepsPerEpoch: 3,
      optimizer: { type: 'sgd', learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3 },
      checkpoint: { store: fileCheckpointStore(directory), everySteps: 1 },
      callbacks: { onStep: (log) => onStep?.(log.step) },
    });
    const straight = tinyModel(3);
    await train(straight, options(await tempDir()));

    const directory = await tempDir();
    const crash = new Error('simulated crash');
    await expect(train(tinyModel(3), options(directory, (step) => {
      if (step === 5) throw crash;
    }))).rejects.toBe(crash);
    expect(await hasCheckpoint(fileCheckpointStore(directory))).toBe(true);
    const resumedModel = tinyModel(99); // different init: everything must come from the checkpoint
    const resumed = await train(resumedModel, options(directory));
    expect(resumed.resumedFrom).toBe(4);
    expect(resumed.history.map((h) => h.step)).toEqual([5, 6]);
    expect(resumed.steps).toBe(6);
    weightsOf(straight).forEach((w, i) => expectTensorClose(weightsOf(resumedModel)[i]!, w, { atol: 0 }));

    // The checkpoint is also a loadable tfjs model.
    const loaded = await loadCheckpointModel(directory);
    const x = tf.randomUniform([1, SIZE, SIZE, 3], 0, 1, 'float32', 5);
    const [p, q] = [straight.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    expectTensorClose(q, p, { atol: 1e-6 });
    tf.dispose([x, p, q]);
    loaded.dispose();
  });

  it('resumes a checkpoint taken on an epoch’s last step into that epoch’s end, and refuses another model', async () => {
    const options = (directory: string, failEvaluate: boolean): TrainOptions => ({
      data: source(3), // more batches than stepsPerEpoch: a resumed full epoch must not take a third
      epochs: 2,
      stepsPerEpoch: 2,
      optimizer: { learningRate: 0.05 },
      checkpoint: { store: fileCheckpointStore(directory), everySteps: 1 },
      callbacks: {
        evaluate: () => {
          if (failEvaluate) throw new Error('evaluation failed');
          return {};
        },
      },
    });
    const straight = tinyModel(2);
    await train(straight, options(await tempDir(), false));
    const directory = await tempDir();
    await expect(train(tinyModel(2), options(directory, true))).rejects.toThrow('evaluation failed');
    const resumedModel = tinyModel(2);
    const resumed = await train(resumedModel, options(directory, false));
    expect(resumed.resumedFrom).toBe(2);
    expect(resumed.history.map((h) => h.step)).toEqual([3, 4]);
    expect(resumed.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    weightsOf(straight).forEach((w, i) => expectTensorClose(weightsOf(resumedModel)[i]!, w, { atol: 0 }));

    const other = createSegmenter({ backbone: { type: 'fcn', channels: 8, classes: CLASSES }, inputSize: [SIZE, SIZE] });
    await expect(train(other, options(directory, false))).rejects.toThrow(/checkpoint\.store must hold the weights of this model to resume/);
    await expect(train(tinyModel(2), { ...options(directory, false), optimizer: { type: 'adam' } })).rejects.toThrow(/optimizer must match the checkpoint's \('sgd', momentum 0\.9\) to resume/);
  });

  it('adds auxiliary losses computed from the outputs and labels', async () => {
    const model = tinyModel();
    const result = await train(model, {
      data: source(2),
      totalSteps: 2,
      auxiliaryLosses: [({ outputs }) => tf.mul(0.5, tf.mean(tf.square(outputs[0]!))) as tf.Scalar],
    });
    for (const log of result.history) {
      expect(log.losses['auxiliary0']).toBeGreaterThan(0);
      expect(log.loss).toBeCloseTo(log.losses['crossEntropy']! + log.losses['auxiliary0']!, 5);
    }
  });

  it('does not leak tensors (batches, gradients, optimiser slots)', async () => {
    const model = tinyModel();
    for (const optimizer of [{ type: 'adam' as const }, { type: 'sgd' as const, momentum: 0.9 }, { type: 'sgd' as const, momentum: 0 }]) {
      await expectNoLeak(async () => {
        await train(model, { data: source(1), totalSteps: 1, optimizer });
      });
    }
  });
});

describe('trainOnBatch', () => {
  it('takes one step like train() and leaves the batch to the caller', async () => {
    const [a, b] = [tinyModel(5), tinyModel(5)];
    const viaLoop = await train(a, { data: [sceneBatch({ batch: 2, size: SIZE, classes: CLASSES, seed: 11 })], totalSteps: 1, optimizer: { learningRate: 0.05 } });
    const batch = sceneBatch({ batch: 2, size: SIZE, classes: CLASSES, seed: 11 });
    const optimizer = new SegmentationOptimizer({ learningRate: 0.05 });
    const loss = await trainOnBatch(b, batch, optimizer);
    expect(loss).toBeCloseTo(viaLoop.history[0]!.loss, 6);
    weightsOf(a).forEach((w, i) => expectTensorClose(weightsOf(b)[i]!, w, { atol: 0 }));
    expect(batch.images.isDisposed).toBe(false);
    tf.dispose([batch.images, batch.labels]);
    optimizer.dispose();
  });
});

describe('train errors', () => {
  const model = tinyModel();

  it('rejects bad options before training', async () => {
    await expect(train(model, { data: source(1) })).rejects.toThrow(/totalSteps is required by the 'poly' learning-rate policy/);
    await expect(train(model, { data: source(1), epochs: 0 })).rejects.toThrow(/TrainOptions\/epochs must be >= 1/);
    await expect(train(model, { data: source(1), totalSteps: 1, outputIndex: 1 })).rejects.toThrow(/outputIndex must be < 1/);
    await expect(train(model, { data: 5 as never, totalSteps: 1 })).rejects.toThrow(ConfigError);
    await expect(train(model, { data: source(1), totalSteps: 1, optimizer: { type: 'lbfgs' as 'sgd' } })).rejects.toThrow(/OptimizerArgs\/type must be one of "sgd", "adam"/);
    await expect(train({} as tf.LayersModel, { data: source(1) })).rejects.toThrow(/model must be a tf.LayersModel/);
  });

  it('names bad batches and labels', async () => {
    const one = (batch: SegmentationBatch): TrainOptions['data'] => [batch];
    const good = (): SegmentationBatch => sceneBatch({ batch: 1, size: SIZE, classes: CLASSES, seed: 1 });
    const outOfRange = good();
    const labels = tf.tidy(() => tf.add(outOfRange.labels, tf.scalar(5, 'int32')) as tf.Tensor3D);
    outOfRange.labels.dispose();
    await expect(train(model, { data: one({ images: outOfRange.images, labels }), totalSteps: 1 })).rejects.toThrow(/labels must be in \[0, 3\) or 255 \(void\)/);
    const floatLabels = good();
    await expect(train(model, { data: one({ images: floatLabels.images, labels: tf.cast(floatLabels.labels, 'float32') as tf.Tensor3D }), totalSteps: 1 })).rejects.toThrow(DataError);
    floatLabels.labels.dispose();
    const mismatch = good();
    await expect(train(model, { data: one({ images: mismatch.images, labels: tf.zeros([1, 8, 8], 'int32') as tf.Tensor3D }), totalSteps: 1 })).rejects.toThrow(ShapeError);
    mismatch.labels.dispose();
  });

  it('asks for a per-epoch function when a one-shot iterator runs dry', async () => {
    function* once(): Generator<SegmentationBatch> {
      yield sceneBatch({ batch: 1, size: SIZE, classes: CLASSES, seed: 2 });
    }
    await expect(train(model, { data: once(), epochs: 2, optimizer: { policy: 'constant' } })).rejects.toThrow(/data must yield batches in every epoch/);
  });
});

describe('train on every backend', () => {
  it('trains an atrous Sim-DeepLab on wasm and cpu with the same losses', async () => {
    const previous = tf.getBackend();
    const lossesOn = async (backend: string): Promise<number[]> => {
      await tf.setBackend(backend);
      const model = createSegmenter({ backbone: { type: 'sim-deeplab', depth: 18, width: 0.0625, classes: CLASSES, rates: [2, 4] }, inputSize: [SIZE, SIZE] });
      const result = await train(model, { data: source(2), totalSteps: 2, optimizer: { learningRate: 0.02 } });
      model.dispose();
      return result.history.map((h) => h.loss);
    };
    try {
      const [wasm, cpu] = [await lossesOn('wasm'), await lossesOn('cpu')];
      expect(wasm.every(Number.isFinite)).toBe(true);
      wasm.forEach((l, i) => expect(Math.abs(l - cpu[i]!) / l).toBeLessThan(1e-3));
    } finally {
      await tf.setBackend(previous);
    }
  });
});

describe('train() resuming a damaged checkpoint', () => {
  it('names the file and the rule for bad JSON, bad counters, a step past the training, and a truncated optimizer file, leaking nothing', async () => {
    const { readFileSync, writeFileSync } = await import('node:fs');
    const options = (directory: string): TrainOptions => ({
      data: source(2),
      epochs: 1,
      stepsPerEpoch: 2,
      optimizer: { type: 'adam', learningRate: 0.01 },
      checkpoint: { store: fileCheckpointStore(directory), everySteps: 1 },
    });
    const directory = await tempDir();
    const first = tinyModel(4);
    await train(first, options(directory));
    first.dispose();
    const sidecar = join(directory, 'training.json');
    const good = readFileSync(sidecar, 'utf8');
    const optimizerBytes = readFileSync(join(directory, 'optimizer.bin'));
    const model = tinyModel(5);
    const before = tf.memory().numTensors;
    const attempt = (): Promise<unknown> => train(model, options(directory));

    writeFileSync(sidecar, '{ not json');
    await expect(attempt()).rejects.toThrow(/training\.json must be valid JSON/);
    writeFileSync(sidecar, JSON.stringify({ ...JSON.parse(good), step: -5 }));
    await expect(attempt()).rejects.toThrow(/training\.json step must be an integer >= 0, got -5/);
    writeFileSync(sidecar, JSON.stringify({ ...JSON.parse(good), step: 1e6, stepInEpoch: 0 }));
    await expect(attempt()).rejects.toThrow(/step must be <= the 2 steps of this training to resume, got 1000000/);
    writeFileSync(sidecar, good);
    writeFileSync(join(directory, 'optimizer.bin'), optimizerBytes.subarray(0, 10));
    await expect(attempt()).rejects.toThrow(DataError);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
