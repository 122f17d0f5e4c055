/**
 * The `refine-frozen` protocol: the backbone is trained once (as SPN and the
 * dense CRF are used in their papers), then each refiner is trained on the
 * frozen backbone's outputs, or only evaluated when it is not differentiable.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import type { Backbone } from '../core/backbone.js';
import { resizeBilinear } from '../core/ops/resize.js';
import { RefinerLayer, type Refiner } from '../core/refiner.js';
import { registryOf } from '../core/registry.js';
import { createSegmenter, pickLevels } from '../models/segmenter.js';
import { DiffusionHead } from '../refiners/diffusion/diffusion_head.js';
import { segmentationCrossEntropy } from '../train/loss.js';
import { stepsPerEpoch, trainBatches, type BenchData } from './dataset.js';
import { describeBackbone, withClasses, type TrainedEntry } from './end_to_end.js';
import { evaluateEntry, type EntryEvaluation, type PanelExtras, type PanelStore } from './evaluate.js';
import type { Experiment, ExperimentEntry } from './experiment.js';
import { difnetTiles } from './panel_extras.js';
import { throwIfStopped, type ProgressReporter } from './progress.js';

/** The backbone shared by every frozen entry, and its model (backbone + `none`). */
export interface FrozenBackbone {
  /** The backbone (its layers carry the trained weights). */
  backbone: Backbone;
  /** image → the backbone's scores at the image size. */
  model: tf.LayersModel;
  /** Description for the report. */
  description: string;
}

/**
 * Builds the experiment's backbone as a `none` segmenter (to be trained once).
 * @param experiment - backbone config and seed
 * @param classes - number of classes
 * @param container - registry container (default: the built-ins)
 */
export function buildFrozenBackbone(experiment: Experiment, classes: number, container?: DependencyContainer): FrozenBackbone {
  const backbone = registryOf(container).createBackbone(withClasses(experiment.backbone, classes, experiment.seed));
  const model = createSegmenter({ backbone, refiner: { type: 'none' }, name: 'frozen_backbone', container });
  return { backbone, model, description: describeBackbone(experiment.backbone) };
}

/** The refiner's inputs from the frozen backbone, as `apply()` wants them. */
function refinerInputs(frozen: FrozenBackbone, refiner: RefinerLayer, entry: ExperimentEntry, images: tf.Tensor4D): tf.Tensor4D[] {
  return tf.tidy(() => {
    const { scores, features } = frozen.backbone.apply(images, { training: false });
    // A clone, so disposing the returned list never disposes the caller's images.
    const image = tf.clone(images);
    const pyramid = entry.imageAsFeature === true ? [image, ...features] : features;
    const roles = refiner.inputRoles();
    const levels = pickLevels(pyramid.length, roles.features, entry.featureLevels ?? null, refiner.refinerId);
    return [scores, ...levels.map((i) => pyramid[i]!), ...(roles.image ? [image] : [])];
  });
}

/** A frozen entry's refiner, ready to train and evaluate. */
export interface FrozenRefiner {
  /** The refiner instance. */
  refiner: Refiner;
  /** images → logits at the image size. */
  predict: (images: tf.Tensor4D) => tf.Tensor4D;
  /** DifNet's panel tiles, when the refiner is a DiffusionHead. */
  extras?: PanelExtras;
}

/**
 * Creates the entry's refiner on top of the frozen backbone.
 * @param frozen - the trained backbone
 * @param entry - the entry (refiner config, levels)
 * @param container - registry container (default: the built-ins)
 */
export function createFrozenRefiner(frozen: FrozenBackbone, entry: ExperimentEntry, container?: DependencyContainer): FrozenRefiner {
  const refiner = registryOf(container).createRefiner(entry.refiner ?? { type: 'none' });
  if (!(refiner instanceof RefinerLayer)) {
    const predict = (images: tf.Tensor4D): tf.Tensor4D => {
      const scores = tf.tidy(() => frozen.backbone.apply(images, { training: false }).scores);
      try {
        return refiner.refine({ scores, image: images }, { outputSize: [images.shape[1], images.shape[2]] });
      } finally {
        scores.dispose();
      }
    };
    return { refiner, predict };
  }
  const predict = (images: tf.Tensor4D): tf.Tensor4D => {
    const inputs = refinerInputs(frozen, refiner, entry, images);
    try {
      return tf.tidy(() => resizeBilinear(refiner.apply(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor4D, [images.shape[1], images.shape[2]]));
    } finally {
      tf.dispose(inputs);
    }
  };
  const extras: PanelExtras | undefined =
    refiner instanceof DiffusionHead
      ? async (image) => {
          const inputs = refinerInputs(frozen, refiner, entry, image);
          try {
            return await difnetTiles(refiner, { scores: inputs[0]!, features: inputs.slice(1) }, [image.shape[1], image.shape[2]]);
          } finally {
            tf.dispose(inputs);
          }
        }
      : undefined;
  return { refiner, predict, extras };
}

/**
 * Trains a frozen entry's refiner (nothing happens for a refiner without
 * trainable weights or that is not differentiable).
 * @returns the losses, or undefined when nothing was trained
 */
export async function trainFrozenRefiner(
  frozen: FrozenBackbone,
  built: FrozenRefiner,
  entry: ExperimentEntry,
  data: BenchData,
  experiment: Experiment,
  reporter: ProgressReporter,
  signal?: AbortSignal,
): Promise<TrainedEntry | undefined> {
  const refiner = built.refiner;
  if (!(refiner instanceof RefinerLayer)) return undefined;
  const steps = stepsPerEpoch(data, experiment);
  const epochs = experiment.train.refinerEpochs;
  const optimizer = experiment.train.optimizer === 'adam' ? tf.train.adam(experiment.train.learningRate) : tf.train.momentum(experiment.train.learningRate, 0.9);
  const losses: number[] = [];
  const started = performance.now();
  reporter.start(`train ${entry.label}`, steps * epochs);
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      for await (const batch of trainBatches(data, experiment, epoch)) {
        const inputs = refinerInputs(frozen, refiner, entry, batch.images);
        try {
          throwIfStopped(signal);
          if (!refiner.built) tf.dispose(refiner.apply(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor);
          const variables = refiner.trainableWeights.map((w) => w.read() as tf.Variable);
          if (variables.length === 0) return undefined;
          const loss = optimizer.minimize(
            () => segmentationCrossEntropy(refiner.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: true }) as tf.Tensor4D, batch.labels),
            true,
            variables,
          );
          losses.push((await loss!.data())[0]!);
          loss!.dispose();
          reporter.update(losses.length, `loss ${losses[losses.length - 1]!.toFixed(3)}`);
        } finally {
          tf.dispose([...inputs, batch.images, batch.labels]);
        }
      }
    }
  } finally {
    reporter.stop();
    optimizer.dispose();
  }
  return { losses, seconds: (performance.now() - started) / 1000 };
}

/**
 * Evaluates a frozen entry.
 * @param built - the refiner and its predictor
 * @param data - the dataset
 * @param experiment - evaluation settings
 * @param panels - shared panel images
 * @param reporter - progress
 * @param label - entry label
 * @param signal - stop request
 */
export function evaluateFrozen(built: FrozenRefiner, data: BenchData, experiment: Experiment, panels: PanelStore, reporter: ProgressReporter, label: string, signal?: AbortSignal): Promise<EntryEvaluation> {
  return evaluateEntry(built.predict, data, experiment, panels, reporter, label, signal, built.extras);
}
