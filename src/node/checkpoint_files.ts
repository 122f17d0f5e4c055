/**
 * Checkpoints and models in a directory of the local file system: the
 * {@link CheckpointStore} of `train({ checkpoint })` and a tfjs IO handler
 * (the pure-JS tfjs has no `file://` handler in Node).
 * @module
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { storeIO, type CheckpointStore, type StoreIO } from '../train/checkpoint.js';

/**
 * A {@link CheckpointStore} in `directory` (created on the first write; each
 * file is written to a temporary name and renamed, so it is never half there).
 *
 * ```ts illustrative
 * await train(model, { data, epochs: 4, checkpoint: { store: fileCheckpointStore('runs/difnet') } });
 * ```
 * @param directory - the checkpoint directory
 */
export function fileCheckpointStore(directory: string): CheckpointStore {
  return {
    location: directory,
    async read(name) {
      try {
        return new Uint8Array(await readFile(join(directory, name)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async write(name, data) {
      await mkdir(directory, { recursive: true });
      const path = join(directory, name);
      await writeFile(`${path}.tmp`, data);
      await rename(`${path}.tmp`, path);
    },
  };
}

/**
 * A tfjs IO handler reading and writing `model.json` + `weights.bin` in a
 * directory.
 *
 * ```ts illustrative
 * await model.save(fileSystemIO('runs/model'));
 * const again = await tf.loadLayersModel(fileSystemIO('runs/model'));
 * ```
 * @param directory - created on save if missing
 */
export function fileSystemIO(directory: string): StoreIO {
  return storeIO(fileCheckpointStore(directory));
}

/**
 * Loads the model of a checkpoint (or of any {@link fileSystemIO} save) with
 * its topology — no need to rebuild it first. segrefine's layers are
 * registered by importing `segrefine`.
 * @param directory - the checkpoint directory
 */
export async function loadCheckpointModel(directory: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileSystemIO(directory));
}
