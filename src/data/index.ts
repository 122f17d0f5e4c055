/**
 * Datasets: the built-in synthetic scenes, the VOC-layout folder loader and
 * exporter, DeepLab-style augmentation, and the shared batch iterator.
 * @module
 */
export type { Sample, AugmentOptions, BatchOptions, Batch, ImageRegion, SegmentationDataset } from './types.js';
export { IGNORE_LABEL, VOC_CLASS_NAMES, VOC_PALETTE, IMAGENET_MEAN_RGB, vocPalette } from './palette.js';
export { SeededRandom } from './random.js';
export { drawAugmentPlan, applyAugmentPlan, planRegion, IDENTITY_PLAN, type AugmentPlan } from './augment.js';
export { iterateBatches, parseBatchOptions, type SampleSource, type LoadErrorHandler } from './batches.js';
export { SyntheticScenes, createSyntheticDataset, SYNTHETIC_CLASS_NAMES, type SyntheticDatasetArgs } from './synthetic/scenes.js';
export { coarseScores, type CoarseScoreOptions } from './coarse_scores.js';
