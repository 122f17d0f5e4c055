/**
 * Data, callback and result types of the training loop.
 * @module
 */
import type * as tf from '@tensorflow/tfjs';

/** One training batch. */
export interface SegmentationBatch {
  /** Images `[B, H, W, 3]`, RGB in [0, 1]. */
  images: tf.Tensor4D;
  /** Labels `[B, H, W]` int32; 255 = void (ignored). */
  labels: tf.Tensor3D;
  /**
   * Further inputs of a model that takes more than the image, passed after
   * it in the model's input order (e.g. prior scores to refine). The loop
   * disposes them with the batch.
   */
  extraInputs?: tf.Tensor[];
}

/** Batches for one epoch: a (sync or async) iterable. */
export type BatchIterable = AsyncIterable<SegmentationBatch> | Iterable<SegmentationBatch>;

/**
 * Where batches come from: one iterable (one pass, or until `stepsPerEpoch`),
 * or a function returning a fresh iterable for each epoch (needed for several
 * epochs, and for exact resume: it must give the same batches for the same epoch).
 */
export type BatchSource = BatchIterable | ((epoch: number) => BatchIterable);

/** What an auxiliary loss receives (inside the gradient tape). */
export interface AuxiliaryLossContext {
  /** Every model output, as returned in training mode. */
  outputs: tf.Tensor4D[];
  /** The batch's labels `[B, H, W]`. */
  labels: tf.Tensor3D;
  /** The batch's images `[B, H, W, 3]`. */
  images: tf.Tensor4D;
  /** Steps completed before this one. */
  step: number;
}

/**
 * An extra loss term, added to the cross-entropy: returns a scalar built from
 * the model outputs (e.g. an embedding loss on a feature output).
 */
export type AuxiliaryLoss = (context: AuxiliaryLossContext) => tf.Scalar;

/** One step's log. */
export interface StepLog {
  /** Steps completed, counting this one (1-based). */
  step: number;
  /** Epoch (0-based). */
  epoch: number;
  /** Total loss of the step (cross-entropy + auxiliary terms), before the update. */
  loss: number;
  /** Each term: `crossEntropy`, `auxiliary0`, … */
  losses: Record<string, number>;
  /** Learning rate used for the update. */
  learningRate: number;
  /** Images in the batch. */
  batchSize: number;
  /** Wall time of the step (forward, backward, update). */
  seconds: number;
}

/** One epoch's log. */
export interface EpochLog {
  /** Epoch (0-based). */
  epoch: number;
  /** Steps run in this epoch (by this call, after a resume). */
  steps: number;
  /** Mean step loss over those steps. */
  meanLoss: number;
  /** What `callbacks.evaluate` returned (empty without it). */
  metrics: Record<string, number>;
}

/** Hooks called by the training loop (each may be async). */
export interface TrainCallbacks {
  /** After every step. */
  onStep?: (log: StepLog) => void | Promise<void>;
  /** At the end of each epoch, before the checkpoint; its metrics go into the epoch log. */
  evaluate?: (model: tf.LayersModel, epoch: number) => Record<string, number> | Promise<Record<string, number>>;
  /** After each epoch (and its checkpoint). */
  onEpochEnd?: (log: EpochLog) => void | Promise<void>;
}

/** What `train()` returns. */
export interface TrainResult {
  /** Steps completed in all (including those before a resume). */
  steps: number;
  /** Epochs completed in all. */
  epochsCompleted: number;
  /** Logs of the steps run by this call. */
  history: StepLog[];
  /** Logs of the epochs completed by this call. */
  epochs: EpochLog[];
  /** Step the run resumed from, or null for a fresh start. */
  resumedFrom: number | null;
}
