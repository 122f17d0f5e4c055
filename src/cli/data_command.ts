/**
 * `segrefine data export <dir>`: writes the built-in synthetic scenes in VOC layout.
 * @module
 */
import { createSyntheticDataset } from '../data/synthetic/scenes.js';
import { exportVoc } from '../node/voc/export.js';
import { ConfigError } from '../core/errors.js';

/** Options of `segrefine data export`. */
export interface DataExportOptions {
  /** Generator seed. */
  seed: string;
  /** `HxW`, e.g. `128x128`. */
  size: string;
  /** Training scenes. */
  train: string;
  /** Validation scenes. */
  val: string;
  /** Number of classes. */
  classes: string;
  /** `png` (lossless, default) or `jpeg` (as VOC ships). */
  format: string;
}

function integer(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ConfigError(`--${name}`, 'must be an integer', value);
  return n;
}

/**
 * Exports the synthetic scenes to `dir` and prints what was written.
 * @param dir - target folder
 * @param options - generator settings
 */
export async function dataExportCommand(dir: string, options: DataExportOptions): Promise<void> {
  const match = /^(\d+)x(\d+)$/.exec(options.size);
  if (match === null) throw new ConfigError('--size', 'must be HEIGHTxWIDTH, e.g. 128x128', options.size);
  if (options.format !== 'png' && options.format !== 'jpeg') throw new ConfigError('--format', 'must be png or jpeg', options.format);
  const dataset = createSyntheticDataset({
    seed: integer(options.seed, 'seed'),
    size: [Number(match[1]), Number(match[2])],
    numTrain: integer(options.train, 'train'),
    numVal: integer(options.val, 'val'),
    numClasses: integer(options.classes, 'classes'),
  });
  const result = await exportVoc(dataset, dir, { imageFormat: options.format });
  console.log(JSON.stringify(result, null, 2));
}
