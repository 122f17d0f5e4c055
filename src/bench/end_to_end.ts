/**
 * The `end-to-end` protocol: build a whole model (backbone + neck + refiner,
 * or DifNet), train it, evaluate it.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { ConfigError } from '../core/errors.js';
import type { TypedConfig } from '../core/registry.js';
import { createDifNet } from '../models/difnet.js';
import { createSegmenter } from '../models/segmenter.js';
import { DiffusionHead } from '../refiners/diffusion/diffusion_head.js';
import { train } from '../train/train.js';
import { stepsPerEpoch, trainBatches, type BenchData } from './dataset.js';
import { evaluateEntry, type EntryEvaluation, type PanelExtras, type PanelStore } from './evaluate.js';
import type { Experiment, ExperimentEntry } from './experiment.js';
import { difnetTiles } from './panel_extras.js';
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

/** Adds the dataset's classes and the experiment seed to a backbone/model config. */
export function withClasses(config: TypedConfig, classes: number, seed: number): TypedConfig {
  return { ...config, classes, seed: config['seed'] ?? seed };
}

/**
 * Builds the model of an end-to-end entry.
 * @param entry - the entry
 * @param experiment - default backbone, seed
 * @param classes - number of classes
 * @param container - registry container (default: the built-ins)
 */
export function buildEntryModel(entry: ExperimentEntry, experiment: Experiment, classes: number, container?: DependencyContainer): BuiltModel {
  const name = `m_${entry.label.replace(/[^A-Za-z0-9_]/g, '_')}`;
  if (entry.model !== undefined) {
    const { type, ...args } = entry.model;
    if (type !== 'difnet') throw new ConfigError('entry.model.type', "must be 'difnet' (use backbone + refiner for other models)", type);
    const model = createDifNet({ ...args, classes, seed: (args['seed'] as number | undefined) ?? experiment.seed, name } as Parameters<typeof createDifNet>[0]);
    const head = model.layers.find((l) => l instanceof DiffusionHead);
    const seedBranch = model.layers.filter((l) => l.name.startsWith('seed'));
    const seedParams = seedBranch.reduce((sum, l) => sum + l.countParams(), 0);
    return { model, backbone: describeBackbone({ type: 'difnet', ...args }), refiner: 'difnet', refinerParams: head ? model.countParams() - seedParams : 0 };
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
    container,
  });
  const refinerParams = model.layers.filter((l) => l.name === 'refiner' || l.name === 'neck').reduce((sum, l) => sum + l.countParams(), 0);
  return { model, backbone: describeBackbone(entry.backbone ?? experiment.backbone), refiner: refiner.type, neck: entry.neck?.type, refinerParams };
}

/** DifNet panel tiles for a model that contains a DiffusionHead. */
export function difnetExtras(model: tf.LayersModel): PanelExtras | undefined {
  const head = model.layers.find((l): l is DiffusionHead => l instanceof DiffusionHead);
  if (head === undefined) return undefined;
  const headInputs = tf.model({ inputs: model.inputs, outputs: head.input as tf.SymbolicTensor[] });
  return async (image) => {
    const outputs = headInputs.predict(image) as tf.Tensor4D[];
    try {
      return await difnetTiles(head, { scores: outputs[0]!, features: outputs.slice(1) }, [image.shape[1], image.shape[2]]);
    } finally {
      tf.dispose(outputs);
    }
  };
}

/** Training result of one entry. */
export interface TrainedEntry {
  /** Loss per step. */
  losses: number[];
  /** Wall time, s. */
  seconds: number;
}

/**
 * Trains a whole model with the experiment's budget.
 * @param model - the entry's model
 * @param data - the dataset
 * @param experiment - budget and optimiser
 * @param reporter - progress
 * @param label - entry label
 * @param signal - stop request
 */
export async function trainEndToEnd(model: tf.LayersModel, data: BenchData, experiment: Experiment, reporter: ProgressReporter, label: string, signal?: AbortSignal): Promise<TrainedEntry> {
  const steps = stepsPerEpoch(data, experiment);
  const epochs = experiment.train.epochs;
  const losses: number[] = [];
  const started = performance.now();
  reporter.start(`train ${label}`, steps * epochs);
  try {
    await train(model, {
      data: (epoch) => trainBatches(data, experiment, epoch),
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
  return evaluateEntry((images) => model.predict(images) as tf.Tensor4D, data, experiment, panels, reporter, label, signal, difnetExtras(model));
}
