/**
 * Experiment files for `segrefine bench`: schema-validated JSON naming the
 * dataset, the backbone, the entries (refiners, necks, whole models), the
 * training budget, the seed and the output folder.
 * @module
 */
import { readFileSync } from 'node:fs';
import { compileArgs, parseArgs } from '../core/config.js';
import { Type } from '../core/schemas.js';
import { ConfigError } from '../core/errors.js';
import type { TypedConfig } from '../core/registry.js';

/** Where the images come from. */
export type DatasetConfig =
  | {
      /** The built-in synthetic scenes. */
      type: 'synthetic';
      /** Scene size `[height, width]`. */
      size?: [number, number];
      /** Training images. */
      train?: number;
      /** Validation images. */
      val?: number;
      /** Number of classes (background included). */
      classes?: number;
      /** Objects per scene `[min, max]`. */
      objects?: [number, number];
      /** Probability that an object's colour is near its class hue (0: colour carries no class information). */
      colourBias?: number;
      /** Scale of the background's colour saturation (1: as vivid as objects; 0: grey, so colour tells objects from background). */
      backgroundSaturation?: number;
      /** Half-width of the void (255) band along label boundaries (0: none). */
      voidRadius?: number;
      /** Probability of a thin background-class occluder across a scene. */
      occluderProbability?: number;
    }
  | {
      /** A VOC-layout folder (Pascal VOC 2012, SBD-augmented, or `segrefine data export`). */
      type: 'voc';
      /** The folder with `JPEGImages/`, `SegmentationClass/`, `ImageSets/Segmentation/`. */
      root: string;
      /** Training split name. */
      trainSplit?: string;
      /** Validation split name. */
      valSplit?: string;
      /** Crop/pad size `[height, width]` of training batches and padded evaluation. */
      size?: [number, number];
      /** Skip bad files (reported) or stop at the first. */
      onError?: 'skip' | 'stop';
      /** Folder of the label PNGs (`SegmentationClassAug` for SBD). */
      labelDir?: string;
    };

/**
 * How an entry is trained and evaluated: the whole model together
 * (`end-to-end`), a refiner on a trained, frozen backbone (`refine-frozen`),
 * or a refiner on coarse scores made from the ground truth (`refine-coarse`).
 */
export type Protocol = 'end-to-end' | 'refine-frozen' | 'refine-coarse';

/** The protocols `includeAllRefiners` can add entries for. */
export type RefinerProtocol = 'refine-frozen' | 'refine-coarse';

/** How the `refine-coarse` protocol degrades the ground truth into scores. */
export interface CoarseConfig {
  /** Cell size of the class fractions, in pixels (the scores' stride). */
  stride: number;
  /** Standard deviation of the seeded Gaussian noise added to the fractions. */
  noise: number;
  /** Logits are (fractions + noise) / temperature. */
  temperature: number;
}

/** One row of the comparison. */
export interface ExperimentEntry {
  /** Label in tables and charts (unique). */
  label: string;
  /** Overrides the experiment's protocol for this entry. */
  protocol?: Protocol;
  /** Refiner config `{ type, ...args }`; default `{ type: 'none' }`. */
  refiner?: TypedConfig;
  /** Neck config, e.g. `{ type: 'sdn' }` (end-to-end only). */
  neck?: TypedConfig;
  /** Backbone config overriding the experiment's (end-to-end only). */
  backbone?: TypedConfig;
  /** A whole model instead of backbone + refiner: `{ type: 'difnet', depth, ... }` (end-to-end only). */
  model?: TypedConfig;
  /** Pyramid levels fed to the refiner (default: the first N). */
  featureLevels?: number[];
  /** Put the image in front of the pyramid before picking levels (DifNet's first walk sees the image). In `refine-coarse` the pyramid is only the image, so this defaults to true there. */
  imageAsFeature?: boolean;
  /**
   * This entry's training budget and optimiser, over the experiment's `train`
   * (e.g. `{ "refinerEpochs": 3, "learningRate": 0.001 }`): refiners differ in
   * how many steps and how large a learning rate they need, and one shared
   * budget would leave some undertrained or unstable.
   */
  train?: Partial<TrainingConfig>;
}

/** Training budget and optimiser. */
export interface TrainingConfig {
  /** Epochs of end-to-end training (and of the frozen protocol's backbone). */
  epochs: number;
  /** Epochs of refiner training on frozen scores. */
  refinerEpochs: number;
  /** Images per batch. */
  batchSize: number;
  /** `adam` or `sgd` (momentum 0.9, poly policy). */
  optimizer: 'adam' | 'sgd';
  /** Base learning rate. */
  learningRate: number;
  /** L2 weight decay. */
  weightDecay: number;
  /** DeepLab augmentation (random scale, flip, crop) on training batches. */
  augment: boolean;
}

/** Evaluation settings. */
export interface EvaluationConfig {
  /** Trimap half-widths in pixels. */
  trimapRadii: number[];
  /** Boundary F-score tolerance in pixels. */
  boundaryTolerance: number;
  /** Validation images drawn as qualitative panels. */
  panels: number;
  /** Validation images used (null: all). */
  limit: number | null;
}

/** A validated experiment, every default filled in. */
export interface Experiment {
  /** Run name: results go to `<outputDir>/<name>/`. */
  name: string;
  /** Seed of data order, augmentation and weight initialisation. */
  seed: number;
  /** The data. */
  dataset: DatasetConfig;
  /** Default backbone of every entry. */
  backbone: TypedConfig;
  /** Default protocol of the entries. */
  protocol: Protocol;
  /** The coarse scores of the `refine-coarse` protocol. */
  coarse: CoarseConfig;
  /** The rows of the comparison. */
  entries: ExperimentEntry[];
  /**
   * Add an entry (default args) for every registered refiner that no entry
   * of that protocol names: `true` means `['refine-frozen']`.
   */
  includeAllRefiners: boolean | RefinerProtocol[];
  /** Training budget. */
  train: TrainingConfig;
  /** Evaluation settings. */
  eval: EvaluationConfig;
  /** Folder of run folders. */
  outputDir: string;
}

const PROTOCOLS = ['end-to-end', 'refine-frozen', 'refine-coarse'];
// The budget's fields, declared once for the experiment's `train` (with defaults) and an entry's (without).
const trainingFields = {
  epochs: { type: 'integer', minimum: 1, default: 4 },
  refinerEpochs: { type: 'integer', minimum: 1, default: 2 },
  batchSize: { type: 'integer', minimum: 1, default: 8 },
  optimizer: { type: 'string', enum: ['adam', 'sgd'], default: 'adam' },
  learningRate: { type: 'number', exclusiveMinimum: 0, default: 0.003 },
  weightDecay: { type: 'number', minimum: 0, default: 0 },
  augment: { type: 'boolean', default: false },
} as const;
const withoutDefaults = Object.fromEntries(Object.entries(trainingFields).map(([key, { default: _default, ...rule }]) => [key, rule]));
const typedConfig = { type: 'object', properties: { type: { type: 'string', minLength: 1 } }, required: ['type'], additionalProperties: true } as const;
const size = { type: 'array', items: { type: 'integer', minimum: 8 }, minItems: 2, maxItems: 2 } as const;

// The file format stays a plain JSON schema (a discriminated `oneOf` and
// nested defaults); Type.Unsafe states the type Ajv's defaults complete it to.
const experimentSchema = compileArgs('Experiment', Type.Unsafe<Experiment>({
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$', default: 'default' },
    seed: { type: 'integer', default: 1 },
    dataset: {
      type: 'object',
      discriminator: { propertyName: 'type' },
      properties: { type: { type: 'string', enum: ['synthetic', 'voc'] } },
      required: ['type'],
      oneOf: [
        {
          properties: {
            type: { const: 'synthetic' },
            size: { ...size, default: [96, 96] },
            train: { type: 'integer', minimum: 1, default: 192 },
            val: { type: 'integer', minimum: 1, default: 32 },
            classes: { type: 'integer', minimum: 2, default: 6 },
            objects: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 16 }, minItems: 2, maxItems: 2 },
            colourBias: { type: 'number', minimum: 0, maximum: 1 },
            backgroundSaturation: { type: 'number', minimum: 0, maximum: 1 },
            voidRadius: { type: 'integer', minimum: 0, maximum: 16 },
            occluderProbability: { type: 'number', minimum: 0, maximum: 1 },
          },
          required: ['type'],
          additionalProperties: false,
        },
        {
          properties: {
            type: { const: 'voc' },
            root: { type: 'string', minLength: 1 },
            trainSplit: { type: 'string', default: 'train' },
            valSplit: { type: 'string', default: 'val' },
            size: { ...size, default: [321, 321] },
            onError: { type: 'string', enum: ['skip', 'stop'], default: 'stop' },
            labelDir: { type: 'string', default: 'SegmentationClass' },
          },
          required: ['type', 'root'],
          additionalProperties: false,
        },
      ],
      default: { type: 'synthetic' },
    },
    backbone: { ...typedConfig, default: { type: 'fcn' } },
    protocol: { type: 'string', enum: PROTOCOLS, default: 'refine-frozen' },
    coarse: {
      type: 'object',
      properties: {
        stride: { type: 'integer', minimum: 1, maximum: 64, default: 8 },
        noise: { type: 'number', minimum: 0, default: 0.6 },
        temperature: { type: 'number', exclusiveMinimum: 0, default: 0.25 },
      },
      required: [],
      additionalProperties: false,
      default: {},
    },
    entries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          label: { type: 'string', minLength: 1 },
          protocol: { type: 'string', enum: PROTOCOLS },
          refiner: typedConfig,
          neck: typedConfig,
          backbone: typedConfig,
          model: typedConfig,
          featureLevels: { type: 'array', items: { type: 'integer', minimum: 0 } },
          imageAsFeature: { type: 'boolean' },
          train: { type: 'object', properties: withoutDefaults, required: [], additionalProperties: false },
        },
        required: ['label'],
        additionalProperties: false,
      },
      default: [],
    },
    includeAllRefiners: {
      oneOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'string', enum: ['refine-frozen', 'refine-coarse'] }, uniqueItems: true }],
      default: true,
    },
    train: {
      type: 'object',
      properties: trainingFields,
      required: [],
      additionalProperties: false,
      default: {},
    },
    eval: {
      type: 'object',
      properties: {
        trimapRadii: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 40 }, minItems: 1, default: [1, 2, 3, 5, 8, 12, 16, 20, 30, 40] },
        boundaryTolerance: { type: 'number', minimum: 0, default: 2 },
        panels: { type: 'integer', minimum: 0, default: 3 },
        limit: { type: 'integer', minimum: 1, nullable: true, default: null },
      },
      required: [],
      additionalProperties: false,
      default: {},
    },
    outputDir: { type: 'string', minLength: 1, default: 'runs' },
  },
  required: [],
  additionalProperties: false,
}));

/** The JSON schema of experiment files (for editors and docs). */
export const experimentJsonSchema: object = experimentSchema.schema;

/**
 * Validates an experiment object (defaults filled, unique labels, entry
 * fields consistent with their protocol).
 * @param value - parsed JSON
 */
export function parseExperiment(value: unknown): Experiment {
  const experiment = parseArgs(experimentSchema, value ?? {});
  const labels = new Set<string>();
  experiment.entries.forEach((entry, i) => {
    if (labels.has(entry.label)) throw new ConfigError(`Experiment/entries/${i}/label`, 'must be unique', entry.label);
    labels.add(entry.label);
    const protocol = entry.protocol ?? experiment.protocol;
    if (protocol !== 'end-to-end' && (entry.neck || entry.backbone || entry.model)) {
      throw new ConfigError(`Experiment/entries/${i}`, `must not set neck, backbone or model with protocol ${protocol} (they are trained end-to-end)`, entry.label);
    }
    if (entry.model && (entry.refiner || entry.neck || entry.backbone)) {
      throw new ConfigError(`Experiment/entries/${i}/model`, 'replaces backbone, neck and refiner: set only one of them', entry.label);
    }
  });
  return experiment;
}

/**
 * The experiment as one entry trains under it: the entry's `train` fields
 * over the experiment's (evaluation keeps the experiment's batch size).
 * @param experiment - the validated experiment
 * @param entry - one of its entries
 */
export function entryExperiment(experiment: Experiment, entry: ExperimentEntry): Experiment {
  return entry.train === undefined ? experiment : { ...experiment, train: { ...experiment.train, ...entry.train } };
}

/**
 * Reads and validates an experiment file; errors name the file.
 * @param path - a JSON file
 */
export function loadExperiment(path: string): Experiment {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, 'must be a readable experiment file', (error as Error).message);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, 'must be valid JSON', (error as Error).message);
  }
  return parseExperiment(json);
}
