/**
 * A Pascal VOC–layout folder as a {@link SegmentationDataset}:
 *
 * ```text
 * <dir>/JPEGImages/<id>.jpg            (or .jpeg / .png)
 * <dir>/SegmentationClass/<id>.png     (palette or grey PNG, 255 = void)
 * <dir>/ImageSets/Segmentation/<split>.txt   (one id per line)
 * <dir>/segrefine.json                 (optional: { "classNames": [...] })
 * ```
 *
 * The real VOC 2012 folder and the SBD-augmented set (`labelDir:
 * 'SegmentationClassAug'`, split `train_aug`) load as they are. Files are
 * read per sample, when a batch needs them; nothing else is kept in memory.
 * @module
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { ConfigError, DataError } from '../../core/errors.js';
import { iterateBatches } from '../../data/batches.js';
import { VOC_CLASS_NAMES } from '../../data/palette.js';
import type { Batch, BatchOptions, Sample, SegmentationDataset } from '../../data/types.js';
import { decodeImage, decodeLabel } from './decode.js';

/** A sample left out of a batch because one of its files was bad (`onError: 'skip'`). */
export interface SkippedSample {
  /** The sample id. */
  id: string;
  /** The file at fault (the error's `argument`). */
  file: string;
  /** The error, naming the file, the rule and the cause. */
  error: DataError;
}

/** Options of {@link VocDataset.open}. */
export interface VocDatasetOptions {
  /**
   * What a bad file does during {@link VocDataset.batches}: `'stop'` throws
   * its {@link DataError}; `'skip'` leaves the sample out, records it in
   * {@link VocDataset.skipped} and reports it to `onSkip` (or, without
   * `onSkip`, as a console warning), so nothing is skipped silently.
   * {@link VocDataset.load} always throws.
   * @defaultValue 'stop'
   */
  onError?: 'skip' | 'stop';
  /**
   * Called for each skipped sample when `onError` is `'skip'`.
   * @defaultValue undefined
   */
  onSkip?: (skipped: SkippedSample) => void;
  /**
   * Class names (index = label). Default: `classNames` of `segrefine.json`
   * if the folder has one, else the 21 VOC classes.
   * @defaultValue undefined
   */
  classNames?: readonly string[];
  /**
   * Folder of the label PNGs (`SegmentationClassAug` for SBD-augmented VOC).
   * @defaultValue 'SegmentationClass'
   */
  labelDir?: string;
  /**
   * Folder of the images.
   * @defaultValue 'JPEGImages'
   */
  imageDir?: string;
}

/** Image extensions tried for an id, in order of preference. */
const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function requireDirectory(path: string): Promise<void> {
  if (!(await isDirectory(path))) throw new DataError(path, 'must be a folder (VOC layout)', path);
}

async function readMetadataClassNames(dir: string): Promise<readonly string[] | undefined> {
  const file = join(dir, 'segrefine.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DataError(file, 'must be valid JSON', error instanceof Error ? error.message : String(error));
  }
  const names = (parsed as { classNames?: unknown } | null)?.classNames;
  if (names === undefined) return undefined;
  if (!Array.isArray(names) || names.length < 2 || names.length > 255 || !names.every((n) => typeof n === 'string')) {
    throw new DataError(`${file}/classNames`, 'must be a list of 2..255 strings', names);
  }
  return names as string[];
}

/**
 * A VOC-layout folder. Open with `await VocDataset.open(dir, options)`.
 *
 * ```ts illustrative
 * const voc = await VocDataset.open('data/VOC2012', { onError: 'skip', onSkip: (s) => log(s.error.message) });
 * for await (const { images, labels } of voc.batches('train', { batchSize: 8, size: [321, 321], augment: {}, shuffle: true })) {
 *   // … train …
 *   tf.dispose([images, labels]);
 * }
 * ```
 */
export class VocDataset implements SegmentationDataset {
  /** The folder's name. */
  readonly name: string;
  /** The folder. */
  readonly dir: string;
  /** Class names, index = label. */
  readonly classNames: readonly string[];
  /** Number of classes. */
  readonly numClasses: number;
  /** Split names: the `.txt` files of `ImageSets/Segmentation`. */
  readonly splits: readonly string[];
  private readonly splitIds: ReadonlyMap<string, readonly string[]>;
  private readonly imageFiles: ReadonlyMap<string, string>;
  private readonly labelDir: string;
  private readonly imageDir: string;
  private readonly options: VocDatasetOptions;
  private readonly skippedSamples: SkippedSample[] = [];

  private constructor(
    dir: string,
    classNames: readonly string[],
    splitIds: Map<string, readonly string[]>,
    imageFiles: Map<string, string>,
    options: VocDatasetOptions,
  ) {
    this.dir = dir;
    this.name = basename(dir);
    this.classNames = Object.freeze([...classNames]);
    this.numClasses = classNames.length;
    this.splitIds = splitIds;
    this.splits = Object.freeze([...splitIds.keys()]);
    this.imageFiles = imageFiles;
    this.options = options;
    this.labelDir = join(dir, options.labelDir ?? 'SegmentationClass');
    this.imageDir = join(dir, options.imageDir ?? 'JPEGImages');
  }

  /**
   * Opens a folder: checks the layout, reads the split lists and the list of
   * image file names (no image data). Throws {@link DataError} naming a
   * missing folder or a bad `segrefine.json`.
   * @param dir - the dataset folder
   * @param options - see {@link VocDatasetOptions}
   */
  static async open(dir: string, options: VocDatasetOptions = {}): Promise<VocDataset> {
    if (options.onError !== undefined && options.onError !== 'skip' && options.onError !== 'stop') {
      throw new ConfigError('VocDatasetOptions/onError', 'must be one of "skip", "stop"', options.onError);
    }
    if (options.classNames !== undefined && (options.classNames.length < 2 || options.classNames.length > 255)) {
      throw new ConfigError('VocDatasetOptions/classNames', 'must list 2..255 names', options.classNames);
    }
    await requireDirectory(dir);
    const imageDir = join(dir, options.imageDir ?? 'JPEGImages');
    const setsDir = join(dir, 'ImageSets', 'Segmentation');
    await requireDirectory(imageDir);
    await requireDirectory(join(dir, options.labelDir ?? 'SegmentationClass'));
    await requireDirectory(setsDir);

    const splitIds = new Map<string, readonly string[]>();
    for (const file of (await readdir(setsDir)).filter((f) => f.endsWith('.txt')).sort()) {
      const text = await readFile(join(setsDir, file), 'utf8');
      const ids = text
        .split(/\r?\n/)
        .map((line) => line.trim().split(/\s+/)[0] ?? '')
        .filter((id) => id.length > 0);
      splitIds.set(file.slice(0, -4), Object.freeze(ids));
    }
    if (splitIds.size === 0) throw new DataError(setsDir, 'must hold at least one split list (<split>.txt)', []);

    const imageFiles = new Map<string, string>();
    for (const file of (await readdir(imageDir)).sort()) {
      const extension = extname(file).toLowerCase();
      const rank = IMAGE_EXTENSIONS.indexOf(extension as (typeof IMAGE_EXTENSIONS)[number]);
      if (rank < 0) continue;
      const id = file.slice(0, -extension.length);
      const existing = imageFiles.get(id);
      if (existing === undefined || IMAGE_EXTENSIONS.indexOf(extname(existing).toLowerCase() as (typeof IMAGE_EXTENSIONS)[number]) > rank) {
        imageFiles.set(id, file);
      }
    }
    const classNames = options.classNames ?? (await readMetadataClassNames(dir)) ?? VOC_CLASS_NAMES;
    return new VocDataset(dir, classNames, splitIds, imageFiles, options);
  }

  /**
   * The ids listed in `ImageSets/Segmentation/<split>.txt`.
   * @param split - one of {@link VocDataset.splits}
   */
  ids(split: string): readonly string[] {
    const ids = this.splitIds.get(split);
    if (ids === undefined) throw new ConfigError('split', `must be one of ${this.splits.map((s) => JSON.stringify(s)).join(', ')}`, split);
    return ids;
  }

  /**
   * Where the image of `id` is (`.jpg`, `.jpeg` or `.png`, in that order of preference).
   * @param id - sample id
   */
  imagePath(id: string): string {
    return join(this.imageDir, this.imageFiles.get(id) ?? `${id}.jpg`);
  }

  /**
   * Where the label of `id` is.
   * @param id - sample id
   */
  labelPath(id: string): string {
    return join(this.labelDir, `${id}.png`);
  }

  /**
   * Reads and decodes one sample. Throws {@link DataError} naming the file if
   * it is missing or corrupt, if a label is out of range, or if image and
   * label sizes differ.
   * @param id - sample id
   */
  async load(id: string): Promise<Sample> {
    // An id names files inside the dataset folder: never a path out of it.
    if (typeof id !== 'string' || id.length === 0 || /[\\/]/.test(id) || id === '.' || id === '..') {
      throw new DataError('id', 'must be a file name inside the dataset folder (no "/", "\\", "." or "..")', id);
    }
    const labelFile = this.labelPath(id);
    // Decode both in parallel, but report the image's error first whichever
    // fails first, so the same broken sample always gives the same message.
    const [imageResult, labelResult] = await Promise.allSettled([
      decodeImage(this.imagePath(id)),
      decodeLabel(labelFile, this.numClasses),
    ]);
    if (imageResult.status === 'rejected') throw imageResult.reason;
    if (labelResult.status === 'rejected') throw labelResult.reason;
    const image = imageResult.value;
    const label = labelResult.value;
    if (image.height !== label.height || image.width !== label.width) {
      throw new DataError(labelFile, `must have its image's size ${image.height}×${image.width}`, `${label.height}×${label.width}`);
    }
    return { id, image: image.data, label: label.data, height: image.height, width: image.width };
  }

  /** Samples skipped so far (with `onError: 'skip'`), in the order they were met. */
  get skipped(): readonly SkippedSample[] {
    return this.skippedSamples;
  }

  /**
   * Batches of a split, reading files as each batch is needed (one batch
   * ahead). Bad files follow {@link VocDatasetOptions.onError}.
   * @param split - one of {@link VocDataset.splits}
   * @param options - see {@link BatchOptions}; samples of different sizes need `size`
   */
  batches(split: string, options: BatchOptions): AsyncGenerator<Batch, void, undefined> {
    this.ids(split); // unknown split: fail now, not at the first next()
    return iterateBatches(this, split, options, (error, id) => this.handleLoadError(error, id));
  }

  private handleLoadError(error: unknown, id: string): boolean {
    if (this.options.onError !== 'skip' || !(error instanceof DataError)) throw error;
    const skipped: SkippedSample = { id, file: error.argument, error };
    this.skippedSamples.push(skipped);
    if (this.options.onSkip !== undefined) this.options.onSkip(skipped);
    else console.warn(`segrefine: skipped sample "${id}": ${error.message}`);
    return true;
  }
}
