/**
 * Checkpoints on the local file system: the model as tfjs's `model.json` +
 * `weights.bin` (loadable with `tf.loadLayersModel(fileSystemIO(dir))`), the
 * optimiser's slot variables in `optimizer.bin`, and a sidecar
 * `training.json` with the step/epoch counters — written last, so a directory
 * with a `training.json` always holds a complete checkpoint.
 * @module
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../core/errors.js';
import type { OptimizerState, ResolvedOptimizerArgs } from './optimizer.js';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';
const OPTIMIZER_FILE = 'optimizer.bin';
const SIDECAR_FILE = 'training.json';

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

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await writeFile(`${path}.tmp`, data);
  await rename(`${path}.tmp`, path);
}

function toBytes(data: tf.io.WeightData): Uint8Array {
  return new Uint8Array(tf.io.CompositeArrayBuffer.join(data));
}

async function readBytes(path: string): Promise<ArrayBuffer> {
  const buffer = await readFile(path);
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}

/** An IO handler that both saves and loads. */
export interface FileSystemIO extends tf.io.IOHandler {
  /** Writes `model.json` and `weights.bin`. */
  save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult>;
  /** Reads them back. */
  load(): Promise<tf.io.ModelArtifacts>;
}

/**
 * A tfjs IO handler reading and writing `model.json` + `weights.bin` in a
 * directory (the pure-JS tfjs has no `file://` handler in Node).
 *
 * ```ts illustrative
 * await model.save(fileSystemIO('runs/model'));
 * const again = await tf.loadLayersModel(fileSystemIO('runs/model'));
 * ```
 * @param directory - created on save if missing
 */
export function fileSystemIO(directory: string): FileSystemIO {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await mkdir(directory, { recursive: true });
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
      await writeAtomic(join(directory, WEIGHTS_FILE), weightData);
      await writeAtomic(join(directory, MODEL_FILE), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const modelPath = join(directory, MODEL_FILE);
      if (!existsSync(modelPath)) throw new DataError('directory', `must contain ${MODEL_FILE}`, directory);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(await readFile(modelPath, 'utf8')) as tf.io.ModelJSON;
      } catch (error) {
        throw new DataError(modelPath, `must be valid JSON (${(error as Error).message})`, modelPath);
      }
      const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
      const buffers = await Promise.all(json.weightsManifest.flatMap((group) => group.paths).map((p) => readBytes(join(directory, p))));
      return { ...tf.io.getModelArtifactsForJSONSync(json, weightSpecs, tf.io.concatenateArrayBuffers(buffers)) };
    },
  };
}

/**
 * Writes a checkpoint: model, optimiser state and counters.
 * @param directory - created if missing; an older checkpoint there is replaced
 * @param model - the model being trained
 * @param optimizerState - from `SegmentationOptimizer.getState()` (not disposed here)
 * @param state - counters and optimiser args
 */
export async function saveCheckpoint(directory: string, model: tf.LayersModel, optimizerState: OptimizerState, state: TrainingState): Promise<void> {
  await model.save(fileSystemIO(directory));
  const encoded = await tf.io.encodeWeights(optimizerState.weights);
  await writeAtomic(join(directory, OPTIMIZER_FILE), toBytes(encoded.data));
  const sidecar: Sidecar = { format: 'segrefine-checkpoint', version: 1, ...state, optimizerWeights: encoded.specs, date: new Date().toISOString() };
  await writeAtomic(join(directory, SIDECAR_FILE), `${JSON.stringify(sidecar, null, 2)}\n`);
}

/** Whether `directory` holds a complete checkpoint. */
export function hasCheckpoint(directory: string): boolean {
  return existsSync(join(directory, SIDECAR_FILE));
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

/**
 * Reads a checkpoint written by {@link saveCheckpoint}.
 * @param directory - the checkpoint directory
 */
export async function readCheckpoint(directory: string): Promise<LoadedCheckpoint> {
  if (!hasCheckpoint(directory)) throw new DataError('checkpoint.directory', `must contain a complete checkpoint (${SIDECAR_FILE})`, directory);
  const sidecarFile = join(directory, SIDECAR_FILE);
  let sidecar: Sidecar;
  try {
    sidecar = JSON.parse(await readFile(sidecarFile, 'utf8')) as Sidecar;
  } catch (error) {
    throw new DataError(sidecarFile, 'must be valid JSON', (error as Error).message);
  }
  if (sidecar === null || typeof sidecar !== 'object' || sidecar.format !== 'segrefine-checkpoint' || sidecar.version !== 1) {
    throw new DataError(sidecarFile, 'must be a segrefine checkpoint (version 1)', { format: sidecar?.format, version: sidecar?.version });
  }
  for (const counter of ['step', 'epoch', 'stepInEpoch'] as const) {
    const value = sidecar[counter];
    if (!Number.isSafeInteger(value) || value < 0) throw new DataError(`${sidecarFile} ${counter}`, 'must be an integer >= 0', value);
  }
  if (sidecar.stepInEpoch > sidecar.step) throw new DataError(`${sidecarFile} stepInEpoch`, `must be <= step (${sidecar.step})`, sidecar.stepInEpoch);
  if (!Array.isArray(sidecar.optimizerWeights)) throw new DataError(`${sidecarFile} optimizerWeights`, 'must be a list of weight specs', sidecar.optimizerWeights);
  const artifacts = await fileSystemIO(directory).load();
  const weights = tf.io.decodeWeights(artifacts.weightData ?? new ArrayBuffer(0), artifacts.weightSpecs ?? []);
  let optimizerMap: tf.NamedTensorMap;
  try {
    const bytes = await readBytes(join(directory, OPTIMIZER_FILE));
    // tidy: weights decoded before a truncated one fails are released with it.
    optimizerMap = tf.tidy(() => tf.io.decodeWeights(bytes, sidecar.optimizerWeights));
  } catch (error) {
    // A truncated optimizer file: release the model weights already decoded.
    tf.dispose(Object.values(weights));
    throw error instanceof DataError ? error : new DataError(join(directory, OPTIMIZER_FILE), 'must hold the optimizer weights training.json lists', (error as Error).message);
  }
  const optimizerWeights = sidecar.optimizerWeights.map((spec) => ({ name: spec.name, tensor: optimizerMap[spec.name]! }));
  const { step, epoch, stepInEpoch, optimizer } = sidecar;
  return { state: { step, epoch, stepInEpoch, optimizer }, weights, optimizerState: { weights: optimizerWeights } };
}

/**
 * Loads the model of a checkpoint (or of any `fileSystemIO` save) with its
 * topology — no need to rebuild it first. Custom layers must be registered,
 * which importing segrefine does for its own.
 * @param directory - the checkpoint directory
 */
export async function loadCheckpointModel(directory: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileSystemIO(directory));
}
