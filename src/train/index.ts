/**
 * Training: cross-entropy with an ignore label, SGD/Adam with the poly
 * policy, the `train()` loop, and checkpoints.
 * @module
 */
export { segmentationCrossEntropy, checkLossInputs, checkLabelValues, type CrossEntropyOptions } from './loss.js';
export {
  SegmentationOptimizer,
  optimizerSchema,
  parseOptimizerArgs,
  learningRateAt,
  type OptimizerArgs,
  type ResolvedOptimizerArgs,
  type OptimizerState,
  type NamedWeight,
} from './optimizer.js';
export {
  fileSystemIO,
  type FileSystemIO,
  saveCheckpoint,
  readCheckpoint,
  hasCheckpoint,
  loadCheckpointModel,
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
