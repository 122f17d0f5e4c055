/**
 * Where a weights *path* (a string in a backbone config, e.g. `weights:
 * 'resnet18.safetensors'`) is read. The portable core cannot read files:
 * `segrefine/node` installs a `readFileSync`-based reader when imported; in a
 * browser, pass the file's bytes instead of a path.
 * @module
 */
import { ConfigError } from './errors.js';

/** Reads a whole file synchronously (backbones are built synchronously). */
export type WeightsFileReader = (path: string) => Uint8Array;

let reader: WeightsFileReader | undefined;

/**
 * Installs (or, with undefined, removes) the reader of weights paths.
 * `segrefine/node` installs one on import.
 * @internal
 */
export function setWeightsFileReader(next: WeightsFileReader | undefined): void {
  reader = next;
}

/**
 * The bytes of a weights source: bytes are returned as they are, a path is
 * read by the installed reader.
 * @param source - a path, or the file's bytes
 * @param argument - how to name the source in errors
 * @internal
 */
export function weightsBytes(source: string | Uint8Array | ArrayBuffer, argument: string): Uint8Array {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof source !== 'string') throw new ConfigError(argument, 'must be a path (string), a Uint8Array or an ArrayBuffer', source);
  if (reader === undefined) {
    throw new ConfigError(argument, "is a path, but no file reader is installed: import 'segrefine/node' (Node) or pass the file's bytes (Uint8Array or ArrayBuffer)", source);
  }
  return reader(source);
}
