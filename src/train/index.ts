/**
 * Training: cross-entropy with an ignore label, SGD/Adam with the poly
 * policy, the `train()` loop, and checkpoints.
 * @module
 */
export { segmentationCrossEntropy, type CrossEntropyOptions } from './loss.js';
export {
  SegmentationOptimizer,
  learningRateAt,
  type OptimizerArgs,
  type ResolvedOptimizerArgs,
  type OptimizerState,
  type NamedWeight,
} from './optimizer.js';
export {
  memoryCheckpointStore,
  storeIO,
  saveCheckpoint,
  readCheckpoint,
  hasCheckpoint,
  type CheckpointStore,
  type StoreIO,
  type TrainingState,
  type LoadedCheckpoint,
} from './checkpoint.js';
export { train, trainOnBatch, type TrainOptions, type TrainOnBatchOptions, type CheckpointOptions } from './train.js';
export type {
  SegmentationBatch,
  BatchIterable,
  BatchSource,
  AuxiliaryLoss,
  AuxiliaryLossContext,
  StepLog,
  EpochLog,
  TrainCallbacks,
  TrainResult,
} from './types.js';
