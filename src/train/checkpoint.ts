/**
 * Checkpoints in any {@link CheckpointStore}: the model as tfjs's
 * `model.json` + `weights.bin`, the optimiser's slot variables in
 * `optimizer.bin`, and a sidecar `training.json` with the step/epoch counters
 * — written last, so a store with a `training.json` always holds a complete
 * checkpoint. The store decides where the bytes go: memory here
 * ({@link memoryCheckpointStore}), a directory with `segrefine/node`'s
 * `fileCheckpointStore`, or anything a page can persist to.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../core/errors.js';
import type { OptimizerState, ResolvedOptimizerArgs } from './optimizer.js';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';
const OPTIMIZER_FILE = 'optimizer.bin';
const SIDECAR_FILE = 'training.json';

/**
 * Named byte files of one checkpoint. `write` must replace a file whole (a
 * reader never sees half of it); files are written in dependency order, the
 * sidecar last.
 */
export interface CheckpointStore {
  /** Where the files live, for error messages (a directory, a key prefix…). */
  readonly location: string;
  /** The file's bytes, or undefined when there is no such file. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Writes (replaces) a file. */
  write(name: string, data: Uint8Array): Promise<void>;
}

/**
 * A {@link CheckpointStore} in memory (tests, a page that keeps the
 * checkpoint for its session).
 * @param location - a name for messages
 */
export function memoryCheckpointStore(location = 'memory'): CheckpointStore {
  const files = new Map<string, Uint8Array>();
  return {
    location,
    read: async (name) => files.get(name)?.slice(),
    write: async (name, data) => void files.set(name, data.slice()),
  };
}

/** Checks `store` is a {@link CheckpointStore}. @internal */
export function checkStore(store: unknown, argument: string): asserts store is CheckpointStore {
  const s = store as Partial<CheckpointStore> | null;
  if (s === null || typeof s !== 'object' || typeof s.read !== 'function' || typeof s.write !== 'function' || typeof s.location !== 'string') {
    throw new ConfigError(argument, "must be a CheckpointStore { location, read, write } (memoryCheckpointStore(), or fileCheckpointStore(directory) from 'segrefine/node')", store);
  }
}

/** The counters and settings saved beside the weights. */
export interface TrainingState {
  /** Optimisation steps completed. */
  step: number;
  /** Epoch in progress (0-based); equals the epochs completed when `stepInEpoch` is 0. */
  epoch: number;
  /** Steps completed within `epoch` (batches to skip on resume). */
  stepInEpoch: number;
  /** The optimiser's parsed arguments. */
  optimizer: ResolvedOptimizerArgs;
}

/** Contents of `training.json`. */
interface Sidecar extends TrainingState {
  format: 'segrefine-checkpoint';
  version: 1;
  optimizerWeights: tf.io.WeightsManifestEntry[];
  date: string;
}

function toBytes(data: tf.io.WeightData): Uint8Array {
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

async function readText(store: CheckpointStore, name: string): Promise<string | undefined> {
  const bytes = await store.read(name);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}

/** An IO handler that both saves and loads. */
export interface StoreIO extends tf.io.IOHandler {
  /** Writes `model.json` and `weights.bin`. */
  save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult>;
  /** Reads them back. */
  load(): Promise<tf.io.ModelArtifacts>;
}

/**
 * A tfjs IO handler reading and writing `model.json` + `weights.bin` in a
 * {@link CheckpointStore}.
 *
 * ```ts illustrative
 * const store = memoryCheckpointStore();
 * await model.save(storeIO(store));
 * const again = await tf.loadLayersModel(storeIO(store));
 * ```
 * @param store - where the two files go
 */
export function storeIO(store: CheckpointStore): StoreIO {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weightData = artifacts.weightData === undefined ? new Uint8Array(0) : toBytes(artifacts.weightData);
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        trainingConfig: artifacts.trainingConfig,
        userDefinedMetadata: artifacts.userDefinedMetadata,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      await store.write(WEIGHTS_FILE, weightData);
      await store.write(MODEL_FILE, new TextEncoder().encode(JSON.stringify(json)));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const text = await readText(store, MODEL_FILE);
      if (text === undefined) throw new DataError('location', `must contain ${MODEL_FILE}`, store.location);
      const where = `${store.location}/${MODEL_FILE}`;
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(text) as tf.io.ModelJSON;
      } catch (error) {
        throw new DataError(where, `must be valid JSON (${(error as Error).message})`, where);
      }
      if (json === null || typeof json !== 'object' || !Array.isArray(json.weightsManifest)) throw new DataError(where, 'must hold a tfjs model (modelTopology and weightsManifest)', where);
      const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
      const buffers = await Promise.all(
        json.weightsManifest.flatMap((group) => group.paths).map(async (path) => {
          const bytes = await store.read(path);
          if (bytes === undefined) throw new DataError(where, `lists ${path}, which must exist`, path);
          return toArrayBuffer(bytes);
        }),
      );
      const weightData = tf.io.concatenateArrayBuffers(buffers);
      const needed = weightSpecs.reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1) * (spec.dtype === 'float32' || spec.dtype === 'int32' ? 4 : 1), 0);
      if (weightSpecs.every((spec) => spec.quantization === undefined) && weightData.byteLength < needed) {
        throw new DataError(`${store.location}/${WEIGHTS_FILE}`, `must hold the ${needed} bytes ${MODEL_FILE} lists (truncated?)`, weightData.byteLength);
      }
      return { ...tf.io.getModelArtifactsForJSONSync(json, weightSpecs, weightData) };
    },
  };
}

/**
 * Writes a checkpoint: model, optimiser state and counters.
 * @param store - where; an older checkpoint there is replaced
 * @param model - the model being trained
 * @param optimizerState - from `SegmentationOptimizer.getState()` (not disposed here)
 * @param state - counters and optimiser args
 */
export async function saveCheckpoint(store: CheckpointStore, model: tf.LayersModel, optimizerState: OptimizerState, state: TrainingState): Promise<void> {
  await model.save(storeIO(store));
  const encoded = await tf.io.encodeWeights(optimizerState.weights);
  await store.write(OPTIMIZER_FILE, toBytes(encoded.data));
  const sidecar: Sidecar = { format: 'segrefine-checkpoint', version: 1, ...state, optimizerWeights: encoded.specs, date: new Date().toISOString() };
  await store.write(SIDECAR_FILE, new TextEncoder().encode(`${JSON.stringify(sidecar, null, 2)}\n`));
}

/** Whether `store` holds a complete checkpoint. */
export async function hasCheckpoint(store: CheckpointStore): Promise<boolean> {
  return (await store.read(SIDECAR_FILE)) !== undefined;
}

/** A checkpoint read back by {@link readCheckpoint}; dispose `weights` and `optimizerState.weights`. */
export interface LoadedCheckpoint {
  /** Counters and optimiser args. */
  state: TrainingState;
  /** Model weights by their saved names. */
  weights: tf.NamedTensorMap;
  /** Optimiser slot variables, in tfjs's order. */
  optimizerState: OptimizerState;
}

function parseSidecar(text: string, where: string): Sidecar {
  let sidecar: Sidecar;
  try {
    sidecar = JSON.parse(text) as Sidecar;
  } catch (error) {
    throw new DataError(where, 'must be valid JSON', (error as Error).message);
  }
  if (sidecar === null || typeof sidecar !== 'object' || sidecar.format !== 'segrefine-checkpoint' || sidecar.version !== 1) {
    throw new DataError(where, 'must be a segrefine checkpoint (version 1)', { format: sidecar?.format, version: sidecar?.version });
  }
  for (const counter of ['step', 'epoch', 'stepInEpoch'] as const) {
    const value = sidecar[counter];
    if (!Number.isSafeInteger(value) || value < 0) throw new DataError(`${where} ${counter}`, 'must be an integer >= 0', value);
  }
  if (sidecar.stepInEpoch > sidecar.step) throw new DataError(`${where} stepInEpoch`, `must be <= step (${sidecar.step})`, sidecar.stepInEpoch);
  if (!Array.isArray(sidecar.optimizerWeights)) throw new DataError(`${where} optimizerWeights`, 'must be a list of weight specs', sidecar.optimizerWeights);
  return sidecar;
}

/**
 * Reads a checkpoint written by {@link saveCheckpoint}.
 * @param store - where it was written
 */
export async function readCheckpoint(store: CheckpointStore): Promise<LoadedCheckpoint> {
  const text = await readText(store, SIDECAR_FILE);
  if (text === undefined) throw new DataError('checkpoint.store', `must contain a complete checkpoint (${SIDECAR_FILE})`, store.location);
  const sidecar = parseSidecar(text, `${store.location}/${SIDECAR_FILE}`);
  const artifacts = await storeIO(store).load();
  const optimizerBytes = await store.read(OPTIMIZER_FILE);
  const weights = tf.tidy(() => tf.io.decodeWeights(artifacts.weightData ?? new ArrayBuffer(0), artifacts.weightSpecs ?? []));
  let optimizerMap: tf.NamedTensorMap;
  try {
    if (optimizerBytes === undefined) throw new Error('missing');
    // tidy: weights decoded before a truncated one fails are released with it.
    optimizerMap = tf.tidy(() => tf.io.decodeWeights(toArrayBuffer(optimizerBytes), sidecar.optimizerWeights));
  } catch (error) {
    // A truncated optimizer file: release the model weights already decoded.
    tf.dispose(Object.values(weights));
    throw new DataError(`${store.location}/${OPTIMIZER_FILE}`, `must hold the optimizer weights ${SIDECAR_FILE} lists`, (error as Error).message);
  }
  const optimizerWeights = sidecar.optimizerWeights.map((spec) => ({ name: spec.name, tensor: optimizerMap[spec.name]! }));
  const { step, epoch, stepInEpoch, optimizer } = sidecar;
  return { state: { step, epoch, stepInEpoch, optimizer }, weights, optimizerState: { weights: optimizerWeights } };
}
