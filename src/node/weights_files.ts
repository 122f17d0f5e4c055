/**
 * Installs the reader that lets backbone configs name weights files by path
 * (`{ type: 'resnet', weights: 'resnet18.safetensors' }`); importing
 * `segrefine/node` runs this.
 * @module
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../core/errors.js';
import { parseSafetensors, type SafetensorsFile } from '../core/safetensors.js';
import { setWeightsFileReader } from '../core/weights_reader.js';

/**
 * Reads a file for a weights argument; an unreadable file is a {@link DataError}.
 * @param path - relative to the working directory, or absolute
 */
function readWeightsFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new DataError('weights', `must name a readable file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, path);
  }
}

setWeightsFileReader(readWeightsFile);

/**
 * Reads and parses a `.safetensors` file (see `parseSafetensors`).
 *
 * ```ts illustrative
 * const { tensors } = readSafetensors('resnet18.safetensors');
 * console.log([...tensors.keys()].slice(0, 3)); // ['bn1.bias', 'bn1.running_mean', …]
 * ```
 * @param path - relative to the working directory, or absolute
 */
export function readSafetensors(path: string): SafetensorsFile {
  return parseSafetensors(readWeightsFile(path), path);
}
