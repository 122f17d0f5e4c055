/**
 * The `end-to-end` protocol: build a whole model (backbone + neck + refiner,
 * or DifNet), train it, evaluate it.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import { defaultRegistry, type Registry, type TypedConfig } from '../core/registry.js';
import { createDifNet } from '../models/difnet.js';
import { createSegmenter } from '../models/segmenter.js';
import { train } from '../train/train.js';
import type { BatchSource } from '../train/types.js';
import { stepsPerEpoch, trainBatches, type BenchData } from './dataset.js';
import { evaluateEntry, type EntryEvaluation, type EntryPredictor, type PanelStore } from './evaluate.js';
import type { Experiment, ExperimentEntry } from './experiment.js';
import { modelInspector } from './panel_extras.js';
import { throwIfStopped, type ProgressReporter } from './progress.js';

/** A model built for an entry, with what the report says about it. */
export interface BuiltModel {
  /** image → logits at the image size. */
  model: tf.LayersModel;
  /** Backbone description. */
  backbone: string;
  /** Refiner id. */
  refiner: string;
  /** Neck id, if any. */
  neck?: string;
  /** Parameters of the refiner/neck/diffusion branch. */
  refinerParams: number;
}

/** `sim-deeplab depth 18 ×0.25` from a backbone config. */
export function describeBackbone(config: TypedConfig): string {
  const parts = [config.type];
  if (config['depth'] !== undefined) parts.push(`depth ${String(config['depth'])}`);
  if (config['width'] !== undefined && config['width'] !== 1) parts.push(`×${String(config['width'])}`);
  return parts.join(' ');
}

/**
 * A tfjs model name for an entry: `<prefix>_<label>`, every character other
 * than `[A-Za-z0-9_]` replaced by `_`.
 * @param prefix - the protocol's prefix (`m`, `frozen`, `coarse`)
 * @param label - the entry label
 */
export function entryModelName(prefix: string, label: string): string {
  return `${prefix}_${label.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Adds the dataset's classes and the experiment seed to a backbone/model config. */
export function withClasses(config: TypedConfig, classes: number, seed: number): TypedConfig {
  return { ...config, classes, seed: config['seed'] ?? seed };
}

/**
 * Builds the model of an end-to-end entry.
 * @param entry - the entry
 * @param experiment - default backbone, seed
 * @param classes - number of classes
 * @param registry - from `createRegistry` (default: the built-ins)
 */
export function buildEntryModel(entry: ExperimentEntry, experiment: Experiment, classes: number, registry: Registry = defaultRegistry()): BuiltModel {
  const name = entryModelName('m', entry.label);
  if (entry.model !== undefined) {
    const { type, ...args } = entry.model;
    if (type !== 'difnet') throw new ConfigError('entry.model.type', "must be 'difnet' (use backbone + refiner for other models)", type);
    const model = createDifNet({ ...args, classes, seed: (args['seed'] as number | undefined) ?? experiment.seed, name } as Parameters<typeof createDifNet>[0]);
    // The refiner's share: everything but the seed branch (the similarity branch and the head).
    const seedParams = model.layers.filter((l) => l.name.startsWith('seed')).reduce((sum, l) => sum + l.countParams(), 0);
    return { model, backbone: describeBackbone({ type: 'difnet', ...args }), refiner: 'difnet', refinerParams: model.countParams() - seedParams };
  }
  const backbone = withClasses(entry.backbone ?? experiment.backbone, classes, experiment.seed);
  const refiner = entry.refiner ?? { type: 'none' };
  const model = createSegmenter({
    backbone,
    refiner,
    neck: entry.neck ?? null,
    featureLevels: entry.featureLevels ?? null,
    imageAsFeature: entry.imageAsFeature ?? false,
    name,
    registry,
  });
  const refinerParams = model.layers.filter((l) => l.name === 'refiner' || l.name === 'neck').reduce((sum, l) => sum + l.countParams(), 0);
  return { model, backbone: describeBackbone(entry.backbone ?? experiment.backbone), refiner: refiner.type, neck: entry.neck?.type, refinerParams };
}

/** Training result of one entry. */
export interface TrainedEntry {
  /** Loss per step. */
  losses: number[];
  /** Wall time, s. */
  seconds: number;
}

/** How {@link trainEntryModel} trains. */
export interface EntryTraining {
  /** Batches of an epoch (default: the experiment's training batches). */
  data?: BatchSource;
  /** Epochs (default: the experiment's `train.epochs`). */
  epochs?: number;
}

/**
 * Trains an entry's model with the library's `train()` — the experiment's
 * optimiser, poly schedule and weight decay, a refiner's own auxiliary
 * loss — and reports progress. Returns undefined when the model has nothing
 * to train.
 * @param model - the entry's model
 * @param data - the dataset
 * @param experiment - budget and optimiser
 * @param reporter - progress
 * @param label - entry label
 * @param signal - stop request
 * @param options - other batches or epochs (frozen and coarse refiners)
 */
export async function trainEntryModel(
  model: tf.LayersModel,
  data: BenchData,
  experiment: Experiment,
  reporter: ProgressReporter,
  label: string,
  signal?: AbortSignal,
  options: EntryTraining = {},
): Promise<TrainedEntry | undefined> {
  if (model.trainableWeights.length === 0) return undefined;
  const steps = stepsPerEpoch(data, experiment);
  const epochs = options.epochs ?? experiment.train.epochs;
  const losses: number[] = [];
  const started = performance.now();
  reporter.start(`train ${label}`, steps * epochs);
  try {
    await train(model, {
      data: options.data ?? ((epoch) => trainBatches(data, experiment, epoch)),
      epochs,
      stepsPerEpoch: steps,
      optimizer: { type: experiment.train.optimizer, learningRate: experiment.train.learningRate, weightDecay: experiment.train.weightDecay },
      callbacks: {
        onStep: (log) => {
          losses.push(log.loss);
          reporter.update(log.step, `loss ${log.loss.toFixed(3)}`);
          throwIfStopped(signal);
        },
      },
    });
  } finally {
    reporter.stop();
  }
  return { losses, seconds: (performance.now() - started) / 1000 };
}

/**
 * The predictor of a model that maps images to logits, with the panels of
 * its refiner's `inspect()` when it has one.
 * @param model - image → logits at the image size
 */
export function modelPredictor(model: tf.LayersModel): EntryPredictor {
  return {
    inputs: (batch) => [batch.images],
    predict: (inputs) => model.predict(inputs[0]!) as tf.Tensor4D,
    inspect: modelInspector(model),
  };
}

/**
 * Evaluates a whole model on the validation split.
 * @param model - image → logits at the image size
 * @param data - the dataset
 * @param experiment - evaluation settings
 * @param panels - shared panel images
 * @param reporter - progress
 * @param label - entry label
 * @param signal - stop request
 */
export function evaluateModel(model: tf.LayersModel, data: BenchData, experiment: Experiment, panels: PanelStore, reporter: ProgressReporter, label: string, signal?: AbortSignal): Promise<EntryEvaluation> {
  throwIfStopped(signal);
  return evaluateEntry(modelPredictor(model), data, experiment, panels, reporter, label, signal);
}
