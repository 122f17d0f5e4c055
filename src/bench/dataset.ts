/**
 * Opens the dataset an experiment names, with the batch options the bench uses.
 * @module
 */
import type { BatchOptions, SegmentationDataset } from '../data/types.js';
import { createSyntheticDataset } from '../data/synthetic/scenes.js';
import { VocDataset } from '../node/voc/dataset.js';
import type { DatasetConfig, Experiment } from './experiment.js';
import type { ProgressReporter } from './progress.js';

/** A dataset with the bench's split names and batch size. */
export interface BenchData {
  /** The dataset. */
  dataset: SegmentationDataset;
  /** Training split name. */
  trainSplit: string;
  /** Validation split name. */
  valSplit: string;
  /** Batch size `[height, width]` (crop/pad), or null for the samples' own size. */
  size: [number, number] | null;
  /** Description for the report. */
  kind: string;
}

/**
 * Opens the synthetic scenes or a VOC-layout folder.
 * @param config - the experiment's dataset section
 * @param seed - the experiment seed (synthetic scenes are generated from it)
 * @param reporter - where skipped files are logged
 */
export async function openDataset(config: DatasetConfig, seed: number, reporter: ProgressReporter): Promise<BenchData> {
  if (config.type === 'synthetic') {
    const dataset = createSyntheticDataset({ seed, size: config.size, numTrain: config.train, numVal: config.val, numClasses: config.classes, objectsPerScene: config.objects, colourBias: config.colourBias, backgroundSaturation: config.backgroundSaturation, voidRadius: config.voidRadius, occluderProbability: config.occluderProbability });
    return { dataset, trainSplit: 'train', valSplit: 'val', size: null, kind: 'synthetic scenes' };
  }
  const dataset = await VocDataset.open(config.root, {
    onError: config.onError,
    labelDir: config.labelDir,
    onSkip: (skipped) => reporter.log(`skipped ${skipped.id}: ${skipped.error.message}`),
  });
  return { dataset, trainSplit: config.trainSplit ?? 'train', valSplit: config.valSplit ?? 'val', size: config.size ?? null, kind: `VOC folder ${config.root}` };
}

/**
 * Training batches for one epoch: shuffled with `seed + epoch`, augmented if asked.
 * @param data - the opened dataset
 * @param experiment - batch size, augmentation, seed
 * @param epoch - epoch index
 */
export function trainBatches(data: BenchData, experiment: Experiment, epoch: number): ReturnType<SegmentationDataset['batches']> {
  const options: BatchOptions = { batchSize: experiment.train.batchSize, shuffle: true, seed: experiment.seed + epoch, dropRemainder: true };
  if (experiment.train.augment) options.augment = {};
  if (data.size !== null) options.size = data.size;
  return data.dataset.batches(data.trainSplit, options);
}

/**
 * Validation batches in order (padded to the batch size for VOC folders).
 * @param data - the opened dataset
 * @param experiment - batch size and the evaluation limit
 */
export function valBatches(data: BenchData, experiment: Experiment): ReturnType<SegmentationDataset['batches']> {
  const options: BatchOptions = { batchSize: experiment.train.batchSize };
  if (data.size !== null) options.size = data.size;
  if (experiment.eval.limit !== null) options.limit = experiment.eval.limit;
  return data.dataset.batches(data.valSplit, options);
}

/** Number of training batches per epoch (the last partial batch is dropped). */
export function stepsPerEpoch(data: BenchData, experiment: Experiment): number {
  return Math.max(1, Math.floor(data.dataset.ids(data.trainSplit).length / experiment.train.batchSize));
}

/** Number of validation images evaluated. */
export function valCount(data: BenchData, experiment: Experiment): number {
  const all = data.dataset.ids(data.valSplit).length;
  return experiment.eval.limit === null ? all : Math.min(all, experiment.eval.limit);
}
