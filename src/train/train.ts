/**
 * The training loop: batches from any (async) iterator, pixel-wise
 * cross-entropy plus optional auxiliary losses, SGD/Adam with the poly
 * policy, callbacks, and checkpoint save/resume. The loop itself draws no
 * random numbers: a seeded model on deterministic data trains identically
 * every run, and a resumed run continues exactly where it stopped.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs } from '../core/config.js';
import { ArgsObject, Nullable, Type, type Static } from '../core/schemas.js';
import { ConfigError, DataError, ShapeError } from '../core/errors.js';
import { installKernelFixes } from '../core/kernels/index.js';
import { assertUnitImage, RefinerLayer } from '../core/refiner.js';
import { checkStore, hasCheckpoint, readCheckpoint, saveCheckpoint, type CheckpointStore, type TrainingState } from './checkpoint.js';
import { checkLabelValues, segmentationCrossEntropy, type CrossEntropyOptions } from './loss.js';
import { learningRateAt, SegmentationOptimizer, type OptimizerArgs, type ResolvedOptimizerArgs } from './optimizer.js';
import type { AuxiliaryLoss, BatchSource, EpochLog, SegmentationBatch, StepLog, TrainCallbacks, TrainResult } from './types.js';

/** Schema of the plain-data part of {@link CheckpointOptions} (the store is checked by shape). */
const checkpointSettings = ArgsObject({
  /** Also checkpoint every N steps (0: only at the end of each epoch and of training). */
  everySteps: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  /** Resume from the checkpoint in `store` when there is one. */
  resume: Type.Optional(Type.Boolean({ default: true })),
});

/** Checkpointing of {@link train}: where, how often, and whether to resume. */
export interface CheckpointOptions extends Static<typeof checkpointSettings> {
  /**
   * Where the checkpoint goes (one checkpoint, overwritten each time):
   * `memoryCheckpointStore()`, or `fileCheckpointStore(directory)` from
   * `segrefine/node`.
   */
  store: CheckpointStore;
}

/** Schema of the plain-data part of {@link TrainOptions}. */
const trainSettings = ArgsObject({
  /** Passes over the data. */
  epochs: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  /** Batches per epoch; null: until the iterator ends. */
  stepsPerEpoch: Type.Optional(Nullable(Type.Integer({ minimum: 1 }), { default: null })),
  /**
   * Stop after this many steps in all; also the length of the poly schedule.
   * Null: epochs × stepsPerEpoch when both are known.
   */
  totalSteps: Type.Optional(Nullable(Type.Integer({ minimum: 1 }), { default: null })),
  /** Which model output the cross-entropy applies to. */
  outputIndex: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  /** Check every batch's labels are in [0, K) or the ignore label (one small read-back per step). */
  checkLabels: Type.Optional(Type.Boolean({ default: true })),
});

/** Options of {@link train}. */
export interface TrainOptions extends Static<typeof trainSettings> {
  /** Batches `{ images [B,H,W,3] in [0,1], labels [B,H,W] int32 }`; a function gets a fresh iterable per epoch. The loop disposes every batch it takes. */
  data: BatchSource;
  /** Optimiser and learning-rate policy. @defaultValue SGD, momentum 0.9, lr 0.01, poly 0.9 */
  optimizer?: OptimizerArgs;
  /** Cross-entropy options (ignore label, class weights). */
  loss?: CrossEntropyOptions;
  /** Extra loss terms added to the cross-entropy. (A refiner's own loss, e.g. the segmentation-aware embedding loss, is added without asking: see `RefinerLayer.auxiliaryLoss`.) */
  auxiliaryLosses?: AuxiliaryLoss[];
  /** Progress and evaluation hooks. */
  callbacks?: TrainCallbacks;
  /** Checkpointing; null for none. @defaultValue null */
  checkpoint?: CheckpointOptions | null;
}

/** The plain-data part of {@link TrainOptions}, validated by schema. */
type TrainSettings = Required<Static<typeof trainSettings>>;

const trainSettingsSchema = compileArgs('TrainOptions', trainSettings);

/** The plain-data part of {@link CheckpointOptions}. */
type CheckpointSettings = Static<typeof checkpointSettings>;

const checkpointSchema = compileArgs('CheckpointOptions', checkpointSettings);

function parseCheckpointOptions(options: CheckpointOptions): Required<CheckpointOptions> {
  if (options === null || typeof options !== 'object') throw new ConfigError('checkpoint', 'must be an object { store, everySteps?, resume? } or null', options);
  const { store, ...settings } = options;
  if ('directory' in settings) {
    throw new ConfigError('checkpoint.directory', "is not an option: pass store: fileCheckpointStore(directory) from 'segrefine/node'", (settings as { directory: unknown }).directory);
  }
  checkStore(store, 'checkpoint.store');
  return { store, ...(parseArgs(checkpointSchema, settings) as Required<CheckpointSettings>) };
}

function iterableFor(data: BatchSource, epoch: number): AsyncIterable<SegmentationBatch> | Iterable<SegmentationBatch> {
  const source = typeof data === 'function' ? data(epoch) : data;
  if (source === null || typeof source !== 'object' || (!(Symbol.asyncIterator in source) && !(Symbol.iterator in source))) {
    throw new ConfigError('data', 'must be an (async) iterable of batches, or a function (epoch) => iterable', source);
  }
  return source;
}

/** Disposes everything a batch holds (tolerates a malformed batch). */
function disposeBatch(batch: SegmentationBatch | undefined): void {
  tf.dispose([batch?.images, batch?.labels, ...(Array.isArray(batch?.extraInputs) ? batch.extraInputs : [])]);
}

/** The model's refiner layers (their own auxiliary losses join the cross-entropy). */
function refinerLayersOf(model: tf.LayersModel): RefinerLayer[] {
  return model.layers.filter((layer): layer is RefinerLayer => layer instanceof RefinerLayer);
}

function checkBatch(batch: SegmentationBatch, step: number): void {
  const where = `batch ${step}`;
  if (batch === null || typeof batch !== 'object') throw new DataError(where, 'must be { images, labels }', batch);
  const { images, labels } = batch;
  if (!(images instanceof tf.Tensor) || images.rank !== 4 || images.shape[3] !== 3) throw new ShapeError(`${where}.images`, 'must be a tensor [B, H, W, 3]', images);
  if (!(labels instanceof tf.Tensor) || labels.rank !== 3) throw new ShapeError(`${where}.labels`, 'must be a tensor [B, H, W]', labels);
  if (labels.dtype !== 'int32') throw new DataError(`${where}.labels`, 'must have dtype int32', labels.dtype);
  if (labels.shape.some((d, i) => d !== images.shape[i])) {
    throw new ShapeError(`${where}.labels`, `must match the images' [B, H, W] = [${images.shape.slice(0, 3).join(', ')}]`, labels);
  }
  const extra = batch.extraInputs;
  if (extra !== undefined && (!Array.isArray(extra) || !extra.every((t) => t instanceof tf.Tensor && t.shape[0] === images.shape[0]))) {
    throw new ShapeError(`${where}.extraInputs`, `must be a list of tensors with the images' batch size ${images.shape[0]}`, extra);
  }
  if (images.size === 0) throw new ShapeError(`${where}.images`, 'must not have a zero-size dimension', images);
  // One read per batch (float32, finite, in [0, 1]): a 0–255 batch would train on the wrong convention.
  assertUnitImage(images, `${where}.images`);
}

/**
 * Trains `model` (image → logits, any resolution) in place.
 *
 * ```ts illustrative
 * const model = createDifNet({ depth: 18, classes: 21 });
 * const result = await train(model, {
 *   data: (epoch) => myBatches(epoch),
 *   epochs: 10, stepsPerEpoch: 100,
 *   optimizer: { type: 'sgd', learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4 },
 *   checkpoint: { store: fileCheckpointStore('runs/difnet') }, // from 'segrefine/node'
 *   callbacks: { onStep: (log) => console.log(log.step, log.loss) },
 * });
 * ```
 * @param model - a `tf.LayersModel` taking `[B, H, W, 3]` images
 * @param options - see {@link TrainOptions}
 */
export async function train(model: tf.LayersModel, options: TrainOptions): Promise<TrainResult> {
  installKernelFixes(); // the dilated-conv and wasm gradients training needs
  if (!(model instanceof tf.LayersModel)) throw new ConfigError('model', 'must be a tf.LayersModel', model);
  const { data, optimizer: optimizerArgs, loss: lossOptions = {}, auxiliaryLosses = [], callbacks = {}, checkpoint: checkpointArgs, ...plain } = options;
  const settings = parseArgs(trainSettingsSchema, plain) as TrainSettings; // every field has a default
  const checkpoint = checkpointArgs === null || checkpointArgs === undefined ? undefined : parseCheckpointOptions(checkpointArgs);
  if (settings.outputIndex >= model.outputs.length) throw new ConfigError('TrainOptions/outputIndex', `must be < ${model.outputs.length} (the model's outputs)`, settings.outputIndex);
  const classes = model.outputs[settings.outputIndex]!.shape[3];
  if (typeof classes !== 'number') throw new ShapeError('model output', 'must be logits [B, h, w, K] with a known K', model.outputs[settings.outputIndex]!.shape);

  const optimizer = new SegmentationOptimizer(optimizerArgs);
  try {
    return await runTraining(model, optimizer, { data, lossOptions, auxiliaryLosses, callbacks, checkpoint, settings, classes });
  } finally {
    optimizer.dispose();
  }
}

/** Everything {@link runTraining} needs, validated. */
interface TrainingRun {
  data: BatchSource;
  lossOptions: CrossEntropyOptions;
  auxiliaryLosses: AuxiliaryLoss[];
  callbacks: TrainCallbacks;
  checkpoint: Required<CheckpointOptions> | undefined;
  settings: TrainSettings;
  classes: number;
}

/** Whether two optimiser configurations keep the same slot variables. */
function sameSlots(a: ResolvedOptimizerArgs, b: ResolvedOptimizerArgs): boolean {
  return a.type === b.type && (a.type === 'adam' || (a.momentum > 0) === (b.momentum > 0));
}

/** Loads a checkpoint into the model and optimiser; returns its counters. */
async function resumeFrom(store: CheckpointStore, model: tf.LayersModel, optimizer: SegmentationOptimizer): Promise<TrainingState> {
  const loaded = await readCheckpoint(store);
  try {
    if (!sameSlots(loaded.state.optimizer, optimizer.args)) {
      const saved = loaded.state.optimizer;
      throw new ConfigError('optimizer', `must match the checkpoint's ('${saved.type}'${saved.type === 'sgd' ? `, momentum ${saved.momentum}` : ''}) to resume`, { type: optimizer.args.type, momentum: optimizer.args.momentum });
    }
    try {
      model.loadWeights(loaded.weights, true);
    } catch (error) {
      throw new ConfigError('checkpoint.store', `must hold the weights of this model to resume (${(error as Error).message})`, store.location);
    }
    await optimizer.setState(loaded.optimizerState);
  } finally {
    tf.dispose(Object.values(loaded.weights));
    tf.dispose(loaded.optimizerState.weights.map((w) => w.tensor));
  }
  return { ...loaded.state, optimizer: optimizer.args };
}

/** The loop itself (the optimiser is disposed by the caller). */
async function runTraining(model: tf.LayersModel, optimizer: SegmentationOptimizer, run: TrainingRun): Promise<TrainResult> {
  const { data, lossOptions, auxiliaryLosses, callbacks, checkpoint, settings, classes } = run;
  const totalSteps = settings.totalSteps ?? (settings.stepsPerEpoch !== null ? settings.epochs * settings.stepsPerEpoch : null);
  learningRateAt(optimizer.args, 0, totalSteps); // fail now, not at step 1, if poly lacks a length
  const weights = model.trainableWeights;
  let state: TrainingState = { step: 0, epoch: 0, stepInEpoch: 0, optimizer: optimizer.args };
  let resumedFrom: number | null = null;
  if (checkpoint !== undefined && checkpoint.resume && (await hasCheckpoint(checkpoint.store))) {
    state = await resumeFrom(checkpoint.store, model, optimizer);
    resumedFrom = state.step;
    if (totalSteps !== null && state.step > totalSteps) {
      throw new DataError(`${checkpoint.store.location} step`, `must be <= the ${totalSteps} steps of this training to resume`, state.step);
    }
  }

  const save = async (): Promise<void> => {
    if (checkpoint === undefined) return;
    const optimizerState = await optimizer.getState();
    try {
      await saveCheckpoint(checkpoint.store, model, optimizerState, state);
    } finally {
      tf.dispose(optimizerState.weights.map((w) => w.tensor));
    }
  };

  const refiners = refinerLayersOf(model);
  const lossNames = ['crossEntropy', ...auxiliaryLosses.map((_, i) => `auxiliary${i}`), ...refiners.map((r) => `${r.name}.auxiliary`)];
  const runStep = async (batch: SegmentationBatch, epoch: number): Promise<StepLog> => {
    try {
      checkBatch(batch, state.step + 1);
      if (settings.checkLabels) checkLabelValues(batch.labels, classes, lossOptions.ignoreLabel ?? 255);
      const learningRate = learningRateAt(optimizer.args, state.step, totalSteps);
      optimizer.setLearningRate(learningRate);
      const started = performance.now();
      // The loop checks each batch's labels itself (or was told not to): the loss need not again.
      const parts = trainStep(model, weights, optimizer, batch, { lossOptions: { ...lossOptions, checkLabels: false }, auxiliaryLosses, refiners, outputIndex: settings.outputIndex, step: state.step });
      const values = Array.from(await parts.data());
      parts.dispose();
      const loss = values.reduce((a, b) => a + b, 0);
      if (!Number.isFinite(loss)) throw new DataError('loss', `must stay finite (training diverged at step ${state.step + 1}; lower the learning rate)`, loss);
      state = { ...state, step: state.step + 1, stepInEpoch: state.stepInEpoch + 1 };
      return {
        step: state.step,
        epoch,
        loss,
        losses: Object.fromEntries(lossNames.map((n, i) => [n, values[i]!])),
        learningRate,
        batchSize: batch.images.shape[0],
        seconds: (performance.now() - started) / 1000,
      };
    } finally {
      disposeBatch(batch);
    }
  };

  const history: StepLog[] = [];
  const epochLogs: EpochLog[] = [];
  const done = (): boolean => totalSteps !== null && state.step >= totalSteps;

  while (state.epoch < settings.epochs && !done()) {
    const epoch = state.epoch;
    const epochLosses: number[] = [];
    let taken = 0;
    let exhausted = true;
    // A checkpoint taken on an epoch's last step, before the epoch ended, resumes straight into the epoch end.
    const alreadyFull = settings.stepsPerEpoch !== null && state.stepInEpoch >= settings.stepsPerEpoch;
    for await (const batch of alreadyFull ? [] : iterableFor(data, epoch)) {
      taken += 1;
      // Resume: the batches of this epoch already trained on are skipped.
      if (taken <= state.stepInEpoch) {
        disposeBatch(batch);
        continue;
      }
      const log = await runStep(batch, epoch);
      history.push(log);
      epochLosses.push(log.loss);
      await callbacks.onStep?.(log);
      if (checkpoint !== undefined && checkpoint.everySteps > 0 && state.step % checkpoint.everySteps === 0) await save();
      if (done() || (settings.stepsPerEpoch !== null && state.stepInEpoch >= settings.stepsPerEpoch)) {
        exhausted = false;
        break;
      }
    }
    if (taken === 0 && !alreadyFull) {
      throw new DataError('data', 'must yield batches in every epoch (pass a function (epoch) => iterable to iterate several epochs); none in epoch', epoch);
    }
    const epochComplete = exhausted || (settings.stepsPerEpoch !== null && state.stepInEpoch >= settings.stepsPerEpoch);
    if (!epochComplete) break; // totalSteps reached mid-epoch
    state = { ...state, epoch: epoch + 1, stepInEpoch: 0 };
    const metrics = (await callbacks.evaluate?.(model, epoch)) ?? {};
    const epochLog: EpochLog = { epoch, steps: epochLosses.length, meanLoss: epochLosses.reduce((a, b) => a + b, 0) / Math.max(1, epochLosses.length), metrics };
    epochLogs.push(epochLog);
    await save();
    await callbacks.onEpochEnd?.(epochLog);
  }
  if (done() && state.stepInEpoch > 0) await save();
  return { steps: state.step, epochsCompleted: state.epoch, history, epochs: epochLogs, resumedFrom };
}

/** Options of {@link trainOnBatch}. */
export interface TrainOnBatchOptions {
  /** Cross-entropy options (ignore label, class weights). */
  loss?: CrossEntropyOptions;
  /** Extra loss terms. */
  auxiliaryLosses?: AuxiliaryLoss[];
  /**
   * Which model output the cross-entropy applies to.
   * @defaultValue 0
   */
  outputIndex?: number;
  /** Learning rate of this update (default: the optimiser's current one). */
  learningRate?: number;
}

/**
 * One optimisation step on one batch, outside the loop (benchmarks, custom
 * loops). Unlike {@link train} it does not dispose the batch.
 * @param model - image → logits
 * @param batch - images and int32 labels
 * @param optimizer - a {@link SegmentationOptimizer} (kept across calls: it holds the momentum)
 * @param options - loss options, auxiliary losses, learning rate
 * @returns the total loss before the update
 */
export async function trainOnBatch(model: tf.LayersModel, batch: SegmentationBatch, optimizer: SegmentationOptimizer, options: TrainOnBatchOptions = {}): Promise<number> {
  installKernelFixes();
  checkBatch(batch, 1);
  if (options.learningRate !== undefined) optimizer.setLearningRate(options.learningRate);
  const parts = trainStep(model, model.trainableWeights, optimizer, batch, {
    lossOptions: options.loss ?? {},
    auxiliaryLosses: options.auxiliaryLosses ?? [],
    refiners: refinerLayersOf(model),
    outputIndex: options.outputIndex ?? 0,
    step: 0,
  });
  const values = await parts.data();
  parts.dispose();
  return Array.from(values).reduce((a, b) => a + b, 0);
}

/** Internal options of {@link trainStep}. */
interface StepOptions {
  lossOptions: CrossEntropyOptions;
  auxiliaryLosses: AuxiliaryLoss[];
  /** The model's refiner layers, whose own losses join the cross-entropy. */
  refiners: RefinerLayer[];
  outputIndex: number;
  step: number;
}

/**
 * One optimisation step; returns the loss terms `[crossEntropy, ...auxiliary]`
 * as one tensor (the caller reads and disposes it).
 */
function trainStep(model: tf.LayersModel, weights: tf.LayerVariable[], optimizer: SegmentationOptimizer, batch: SegmentationBatch, o: StepOptions): tf.Tensor1D {
  try {
    return tf.tidy(() => {
      let parts: tf.Tensor1D | undefined;
      const variables = weights.map((w) => w.read() as tf.Variable);
      const input = batch.extraInputs === undefined ? batch.images : [batch.images, ...batch.extraInputs];
      const { grads } = tf.variableGrads(() => {
        const out = model.apply(input, { training: true }) as tf.Tensor | tf.Tensor[];
        const outputs = (Array.isArray(out) ? out : [out]) as tf.Tensor4D[];
        const main = segmentationCrossEntropy(outputs[o.outputIndex]!, batch.labels, o.lossOptions);
        const terms = [main, ...o.auxiliaryLosses.map((fn, i) => {
          const term = fn({ outputs, labels: batch.labels, images: batch.images, step: o.step });
          if (!(term instanceof tf.Tensor) || term.rank !== 0) throw new ShapeError(`auxiliaryLosses[${i}]`, 'must return a scalar tensor', term);
          return term;
        }), ...o.refiners.map((refiner) => refiner.auxiliaryLoss(batch.labels) ?? tf.scalar(0))];
        parts = tf.keep(tf.stack(terms) as tf.Tensor1D);
        return tf.addN(terms) as tf.Scalar;
      }, variables);
      optimizer.applyGradients(weights, grads);
      return parts!;
    });
  } finally {
    o.refiners.forEach((r) => r.releaseTrainingState());
  }
}
