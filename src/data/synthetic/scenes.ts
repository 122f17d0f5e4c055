/**
 * The built-in dataset: seeded synthetic scenes where refinement matters.
 *
 * Each scene is a textured background with 2–5 textured objects whose class
 * is told by their shape family (ring, fork, blob, window, star, crescent,
 * ladder: thin parts and holes), not by their colour (colours are drawn from
 * one shared distribution, with only a weak class preference). Objects
 * occlude each other, a thin background-class occluder sometimes crosses the
 * scene, and a void (255) band runs along every label boundary, as in VOC.
 * Sample `i` of a split is a pure function of `(seed, split, i)`.
 * @module
 */
import { compileArgs, parseArgs } from '../../core/config.js';
import { ArgsObject, Type, type Static } from '../../core/schemas.js';
import { ConfigError } from '../../core/errors.js';
import { iterateBatches } from '../batches.js';
import { SeededRandom, hashSeed } from '../random.js';
import type { Batch, BatchOptions, Sample, SegmentationDataset } from '../types.js';
import { renderScene, type SceneConfig } from './render.js';
import { SHAPE_FAMILIES } from './shapes.js';

/** Class names of the synthetic scenes (index = label): background, then one per shape family. */
export const SYNTHETIC_CLASS_NAMES: readonly string[] = Object.freeze(['background', ...SHAPE_FAMILIES.map((f) => f.name)]);

/** Schema of {@link SyntheticDatasetArgs}: the arguments, their rules and defaults, declared once. */
const syntheticDatasetArgs = ArgsObject({
  /**
   * Seed of the whole dataset; the same seed gives identical bytes.
   */
  seed: Type.Optional(Type.Integer({ default: 0 })),
  /**
   * Image `[height, width]` (each 16..4096).
   */
  size: Type.Optional(Type.Tuple([Type.Integer({ minimum: 16, maximum: 4096 }), Type.Integer({ minimum: 16, maximum: 4096 })], { default: [128, 128] })),
  /**
   * Number of training scenes.
   */
  numTrain: Type.Optional(Type.Integer({ minimum: 0, default: 256 })),
  /**
   * Number of validation scenes.
   */
  numVal: Type.Optional(Type.Integer({ minimum: 0, default: 64 })),
  /**
   * Classes including background (2..8); class k ≥ 1 is the k-th name of {@link SYNTHETIC_CLASS_NAMES}.
   */
  numClasses: Type.Optional(Type.Integer({ minimum: 2, maximum: SHAPE_FAMILIES.length + 1, default: 6 })),
  /**
   * Objects per scene, inclusive `[min, max]` (1..16).
   */
  objectsPerScene: Type.Optional(Type.Tuple([Type.Integer({ minimum: 1, maximum: 16 }), Type.Integer({ minimum: 1, maximum: 16 })], { default: [2, 5] })),
  /**
   * Half-width in pixels of the void band along label boundaries (0 = no void);
   * a pixel is void when its `(2r+1)²` window holds two labels, so the band is `2r` wide.
   */
  voidRadius: Type.Optional(Type.Integer({ minimum: 0, maximum: 16, default: 1 })),
  /**
   * Standard deviation of the zero-mean (triangular) pixel noise, in 0..255 units.
   */
  noise: Type.Optional(Type.Number({ minimum: 0, maximum: 128, default: 6 })),
  /**
   * Probability that an object's colour is drawn near its class hue instead
   * of uniformly (0 = colour carries no class information).
   */
  colourBias: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.3 })),
  /**
   * Probability that a thin background-class bar occludes the scene.
   */
  occluderProbability: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.35 })),
  /**
   * Scale of the background's (and occluders') colour saturation: 1 draws
   * them from the objects' colour distribution, lower values mute them
   * towards grey, so that colour also tells objects from background.
   */
  backgroundSaturation: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 1 })),
});

/**
 * Arguments of {@link SyntheticScenes} / {@link createSyntheticDataset}.
 * @interface
 */
export type SyntheticDatasetArgs = Static<typeof syntheticDatasetArgs>;

const syntheticSchema = compileArgs('SyntheticDatasetArgs', syntheticDatasetArgs);

const SPLITS = Object.freeze(['train', 'val']);
const ID_PATTERN = /^(train|val)_(\d+)$/;

/**
 * The synthetic scenes dataset (`name: 'synthetic'`, splits `train`/`val`).
 *
 * ```ts illustrative
 * const data = createSyntheticDataset({ seed: 1, numTrain: 64, numVal: 16 });
 * const sample = data.sample('train', 0); // { id, image, label, height, width }
 * for await (const { images, labels } of data.batches('train', { batchSize: 8, shuffle: true, seed: epoch })) {
 *   // … train …
 *   tf.dispose([images, labels]);
 * }
 * ```
 */
export class SyntheticScenes implements SegmentationDataset {
  /** Dataset name for reports. */
  readonly name = 'synthetic';
  /** `['train', 'val']`. */
  readonly splits: readonly string[] = SPLITS;
  /** Class names, index = label. */
  readonly classNames: readonly string[];
  /** Number of classes including background. */
  readonly numClasses: number;
  /** Image height. */
  readonly height: number;
  /** Image width. */
  readonly width: number;
  /** The validated arguments with defaults filled in. */
  readonly args: Readonly<Required<SyntheticDatasetArgs>>;
  private readonly config: SceneConfig;

  /** @param args - see {@link SyntheticDatasetArgs} */
  constructor(args: SyntheticDatasetArgs = {}) {
    const parsed = parseArgs(syntheticSchema, args) as Required<SyntheticDatasetArgs>;
    if (parsed.objectsPerScene[0] > parsed.objectsPerScene[1]) {
      throw new ConfigError('SyntheticDatasetArgs/objectsPerScene', 'must be [min, max] with min <= max', parsed.objectsPerScene);
    }
    this.args = Object.freeze(parsed);
    [this.height, this.width] = parsed.size;
    this.numClasses = parsed.numClasses;
    this.classNames = Object.freeze(SYNTHETIC_CLASS_NAMES.slice(0, parsed.numClasses));
    this.config = {
      height: this.height,
      width: this.width,
      numClasses: parsed.numClasses,
      objectsPerScene: parsed.objectsPerScene,
      voidRadius: parsed.voidRadius,
      noise: parsed.noise,
      colourBias: parsed.colourBias,
      occluderProbability: parsed.occluderProbability,
      backgroundSaturation: parsed.backgroundSaturation,
    };
  }

  /**
   * Number of scenes in a split.
   * @param split - `train` or `val`
   */
  count(split: string): number {
    checkSplit(split);
    return split === 'train' ? this.args.numTrain : this.args.numVal;
  }

  /**
   * The ids of a split: `train_000000`, `train_000001`, …
   * @param split - `train` or `val`
   */
  ids(split: string): readonly string[] {
    return Array.from({ length: this.count(split) }, (_, i) => `${split}_${String(i).padStart(6, '0')}`);
  }

  /**
   * Generates scene `index` of a split (deterministic, a few ms at 128×128).
   * @param split - `train` or `val`
   * @param index - 0 ≤ index < {@link SyntheticScenes.count}
   */
  sample(split: string, index: number): Sample {
    const count = this.count(split);
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new ConfigError('index', `must be an integer in [0, ${count}) for split "${split}"`, index);
    }
    const rng = new SeededRandom(hashSeed(this.args.seed, 'synthetic', split, index));
    const { image, label } = renderScene(rng, this.config);
    return { id: `${split}_${String(index).padStart(6, '0')}`, image, label, height: this.height, width: this.width };
  }

  /**
   * Loads a sample by id (`train_000012`); same result as {@link SyntheticScenes.sample}.
   * @param id - a sample id
   */
  load(id: string): Promise<Sample> {
    const match = ID_PATTERN.exec(id);
    if (match === null) return Promise.reject(new ConfigError('id', 'must look like train_000012 or val_000003', id));
    try {
      return Promise.resolve(this.sample(match[1] as string, Number(match[2])));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Batches of a split as tensors (the caller disposes `images` and `labels`).
   * @param split - `train` or `val`
   * @param options - see {@link BatchOptions}
   */
  batches(split: string, options: BatchOptions): AsyncGenerator<Batch, void, undefined> {
    checkSplit(split);
    return iterateBatches(this, split, options);
  }
}

function checkSplit(split: string): void {
  if (!SPLITS.includes(split)) throw new ConfigError('split', 'must be one of "train", "val"', split);
}

/**
 * Creates the built-in synthetic dataset.
 * @param args - see {@link SyntheticDatasetArgs}
 */
export function createSyntheticDataset(args: SyntheticDatasetArgs = {}): SyntheticScenes {
  return new SyntheticScenes(args);
}
