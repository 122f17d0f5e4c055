/**
 * Trains the paper's baseline Sim-DeepLab-18 and DifNet-18 (both at reduced
 * width) on the built-in synthetic scenes with SGD + the poly policy, and
 * reports parameter counts, the loss curve (means over windows of steps) and
 * the validation mIoU after every epoch. Checkpoints go to a directory, and a
 * second call resumes from it.
 *
 * Run: `npx tsx examples/train-difnet.ts` (a few hundred steps per model;
 * `SEGREFINE_FAST=1` for a quick run).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  ConfusionMatrix,
  createDifNet,
  createSegmenter,
  createSyntheticDataset,
  describeBackend,
  initBackend,
  train,
  type SegmentationDataset,
} from 'segrefine';
import { fileCheckpointStore } from 'segrefine/node';

const FAST = process.env['SEGREFINE_FAST'] === '1';

/** Settings of one run; the defaults depend on the fast mode. */
export interface ExampleSettings {
  /** Image size (square). */
  size: number;
  /** ResNet width multiplier of both models. */
  width: number;
  /** Images per batch. */
  batchSize: number;
  /** Training scenes (one epoch = numTrain / batchSize steps). */
  numTrain: number;
  /** Validation scenes. */
  numVal: number;
  /** Epochs per model. */
  epochs: number;
  /** Steps per loss window in the report. */
  window: number;
  /** Which models to train. */
  models: ('sim-deeplab-18' | 'difnet-18')[];
}

const DEFAULTS: ExampleSettings = FAST
  ? { size: 32, width: 0.0625, batchSize: 2, numTrain: 4, numVal: 2, epochs: 1, window: 1, models: ['sim-deeplab-18', 'difnet-18'] }
  : { size: 64, width: 0.25, batchSize: 4, numTrain: 400, numVal: 32, epochs: 4, window: 100, models: ['sim-deeplab-18', 'difnet-18'] };

const CLASSES = 4;

/** What one model's run produced. */
export interface ModelReport {
  /** Model name. */
  name: string;
  /** Trainable parameters. */
  params: number;
  /** Mean training loss per window of steps, in order. */
  windowLosses: number[];
  /** Validation mIoU after each epoch. */
  miou: number[];
  /** Mean seconds per step. */
  secondsPerStep: number;
}

function trainableParams(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
}

/** mIoU of the model on the validation split. */
async function validate(model: tf.LayersModel, dataset: SegmentationDataset, batchSize: number): Promise<number> {
  const confusion = new ConfusionMatrix(CLASSES);
  for await (const batch of dataset.batches('val', { batchSize })) {
    const logits = model.predict(batch.images) as tf.Tensor4D;
    confusion.update(logits, batch.labels);
    tf.dispose([logits, batch.images, batch.labels]);
  }
  return confusion.meanIou();
}

function build(name: ModelReport['name'], s: ExampleSettings): tf.LayersModel {
  return name === 'difnet-18'
    ? createDifNet({ depth: 18, width: s.width, classes: CLASSES, inputSize: [s.size, s.size], seed: 1 })
    : createSegmenter({ backbone: { type: 'sim-deeplab', depth: 18, width: s.width, classes: CLASSES, seed: 1 }, inputSize: [s.size, s.size] });
}

/**
 * Trains the models and returns their reports.
 * @param overrides - settings to change (the test passes a tiny run)
 */
export async function main(overrides: Partial<ExampleSettings> = {}): Promise<ModelReport[]> {
  const s = { ...DEFAULTS, ...overrides };
  console.log(`backend: ${describeBackend(await initBackend())}`);
  // An easier variant of the built-in scenes (colour tells the class, 1–3 objects, no occluders): the
  // models train from scratch, without ImageNet weights, on a CPU budget.
  const dataset = createSyntheticDataset({
    size: [s.size, s.size],
    numTrain: s.numTrain,
    numVal: s.numVal,
    numClasses: CLASSES,
    objectsPerScene: [1, 3],
    colourBias: 1,
    occluderProbability: 0,
    seed: 7,
  });
  const stepsPerEpoch = Math.floor(s.numTrain / s.batchSize);
  const checkpoints = await mkdtemp(join(tmpdir(), 'segrefine-example-'));
  const reports: ModelReport[] = [];
  try {
    const sd34 = createSegmenter({ backbone: { type: 'sim-deeplab', depth: 34, width: s.width, classes: CLASSES } });
    console.log(`Sim-DeepLab-34 at width ${s.width}: ${trainableParams(sd34).toLocaleString('en')} trainable parameters (for comparison)`);
    sd34.dispose();
    for (const name of s.models) {
      const model = build(name, s);
      const params = trainableParams(model);
      console.log(`\n${name} at width ${s.width}: ${params.toLocaleString('en')} trainable parameters`);
      const losses: number[] = [];
      const miou: number[] = [];
      let seconds = 0;
      await train(model, {
        // A fresh, seeded, augmented order every epoch (the same epoch gives the same batches, so resume is exact).
        data: (epoch) => dataset.batches('train', { batchSize: s.batchSize, shuffle: true, seed: epoch, augment: { scaleRange: [0.75, 1.25] }, size: [s.size, s.size], dropRemainder: true }),
        epochs: s.epochs,
        stepsPerEpoch,
        optimizer: { type: 'sgd', learningRate: 0.02, momentum: 0.9, weightDecay: 1e-4, policy: 'poly', power: 0.9 },
        checkpoint: { store: fileCheckpointStore(join(checkpoints, name)) },
        callbacks: {
          onStep: (log) => {
            losses.push(log.loss);
            seconds += log.seconds;
            if (log.step % s.window === 0) {
              const recent = losses.slice(-s.window);
              console.log(`  step ${log.step}: mean loss ${(recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(4)}, lr ${log.learningRate.toFixed(5)}, ${log.seconds.toFixed(2)} s/step`);
            }
          },
          evaluate: async (m, epoch) => {
            const value = await validate(m, dataset, s.batchSize);
            miou.push(value);
            console.log(`  epoch ${epoch}: val mIoU ${(100 * value).toFixed(1)}%`);
            return { miou: value };
          },
        },
      });
      const windowLosses: number[] = [];
      for (let i = 0; i + s.window <= losses.length; i += s.window) {
        windowLosses.push(losses.slice(i, i + s.window).reduce((a, b) => a + b, 0) / s.window);
      }
      reports.push({ name, params, windowLosses, miou, secondsPerStep: seconds / Math.max(1, losses.length) });
      model.dispose();
    }
  } finally {
    await rm(checkpoints, { recursive: true, force: true });
  }
  console.log('\nmodel            params       loss per window                          val mIoU per epoch');
  for (const r of reports) {
    console.log(`${r.name.padEnd(16)} ${String(r.params).padEnd(12)} ${r.windowLosses.map((l) => l.toFixed(3)).join(' ').padEnd(40)} ${r.miou.map((m) => (100 * m).toFixed(1)).join(' ')}`);
  }
  return reports;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
