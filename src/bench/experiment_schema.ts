/**
 * The experiment file format, declared once: TypeBox schemas from which both
 * the file's type (what a user may write, defaults optional) and the
 * validated experiment's type (every default filled in) are derived; Ajv
 * validates files against them and fills the defaults.
 * @module
 */
import { Literal } from '@sinclair/typebox';
import type { TypedConfig } from '../core/registry.js';
import { ArgsObject, Nullable, StringEnum, Type, type Static } from '../core/schemas.js';

/**
 * How an entry is trained and evaluated: the whole model together
 * (`end-to-end`), a refiner on a trained, frozen backbone (`refine-frozen`),
 * or a refiner on coarse scores made from the ground truth (`refine-coarse`).
 */
export type Protocol = 'end-to-end' | 'refine-frozen' | 'refine-coarse';

/** The protocols, in the order tables list them. */
const PROTOCOLS = ['end-to-end', 'refine-frozen', 'refine-coarse'] as const satisfies readonly Protocol[];

/** `{ type, ...args }` of a registered component; the registry checks the rest. */
const typedConfig = Type.Unsafe<TypedConfig>({ type: 'object', properties: { type: { type: 'string', minLength: 1 } }, required: ['type'], additionalProperties: true });

/** `[height, width]` of at least 8 pixels. */
const imageSize = (fallback: [number, number]) => Type.Optional(Type.Tuple([Type.Integer({ minimum: 8 }), Type.Integer({ minimum: 8 })], { default: fallback }));

const syntheticDataset = ArgsObject({
  /** The built-in synthetic scenes. */
  type: Literal('synthetic'),
  /** Scene size `[height, width]`. */
  size: imageSize([96, 96]),
  /** Training images. */
  train: Type.Optional(Type.Integer({ minimum: 1, default: 192 })),
  /** Validation images. */
  val: Type.Optional(Type.Integer({ minimum: 1, default: 32 })),
  /** Number of classes (background included). */
  classes: Type.Optional(Type.Integer({ minimum: 2, default: 6 })),
  /** Objects per scene `[min, max]`. */
  objects: Type.Optional(Type.Tuple([Type.Integer({ minimum: 1, maximum: 16 }), Type.Integer({ minimum: 1, maximum: 16 })])),
  /** Probability that an object's colour is near its class hue (0: colour carries no class information). */
  colourBias: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  /** Scale of the background's colour saturation (1: as vivid as objects; 0: grey, so colour tells objects from background). */
  backgroundSaturation: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  /** Half-width of the void (255) band along label boundaries (0: none). */
  voidRadius: Type.Optional(Type.Integer({ minimum: 0, maximum: 16 })),
  /** Probability of a thin background-class occluder across a scene. */
  occluderProbability: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
});

const vocDataset = ArgsObject({
  /** A VOC-layout folder (Pascal VOC 2012, SBD-augmented, or `segrefine data export`). */
  type: Literal('voc'),
  /** The folder with `JPEGImages/`, `SegmentationClass/`, `ImageSets/Segmentation/`. */
  root: Type.String({ minLength: 1 }),
  /** Training split name. */
  trainSplit: Type.Optional(Type.String({ default: 'train' })),
  /** Validation split name. */
  valSplit: Type.Optional(Type.String({ default: 'val' })),
  /** Crop/pad size `[height, width]` of training batches and padded evaluation. */
  size: imageSize([321, 321]),
  /** Skip bad files (reported) or stop at the first. */
  onError: Type.Optional(StringEnum(['skip', 'stop'], { default: 'stop' })),
  /** Folder of the label PNGs (`SegmentationClassAug` for SBD). */
  labelDir: Type.Optional(Type.String({ default: 'SegmentationClass' })),
});

/**
 * The dataset: one of the two variants, chosen by `type` (Ajv's
 * discriminator, so an error names the variant's field, not "must match
 * exactly one schema in oneOf").
 */
const dataset = Type.Unsafe<Static<typeof syntheticDataset> | Static<typeof vocDataset>>({
  type: 'object',
  discriminator: { propertyName: 'type' },
  properties: { type: { type: 'string', enum: ['synthetic', 'voc'] } },
  required: ['type'],
  oneOf: [syntheticDataset, vocDataset],
  default: { type: 'synthetic' },
});

/** An object of settings whose every field has a default: it may be left out (`{}`). */
const settings = <P extends Parameters<typeof ArgsObject>[0]>(properties: P) => Type.Object(properties, { additionalProperties: false, default: {} });

const coarse = settings({
  /** Cell size of the class fractions, in pixels (the scores' stride). */
  stride: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, default: 8 })),
  /** Standard deviation of the seeded Gaussian noise added to the fractions. */
  noise: Type.Optional(Type.Number({ minimum: 0, default: 0.6 })),
  /** Logits are (fractions + noise) / temperature. */
  temperature: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 0.25 })),
});

const training = settings({
  /** Epochs of end-to-end training (and of the frozen protocol's backbone). */
  epochs: Type.Optional(Type.Integer({ minimum: 1, default: 4 })),
  /** Epochs of refiner training on frozen scores. */
  refinerEpochs: Type.Optional(Type.Integer({ minimum: 1, default: 2 })),
  /** Images per batch. */
  batchSize: Type.Optional(Type.Integer({ minimum: 1, default: 8 })),
  /** `adam` or `sgd` (momentum 0.9, poly policy). */
  optimizer: Type.Optional(StringEnum(['adam', 'sgd'], { default: 'adam' })),
  /** Base learning rate. */
  learningRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: 0.003 })),
  /** L2 weight decay. */
  weightDecay: Type.Optional(Type.Number({ minimum: 0, default: 0 })),
  /** DeepLab augmentation (random scale, flip, crop) on training batches. */
  augment: Type.Optional(Type.Boolean({ default: false })),
});

/** The same fields without defaults: an entry's `train` overrides only what it names. */
const trainingOverrides = Type.Unsafe<Partial<Static<typeof training>>>({
  type: 'object',
  properties: Object.fromEntries(Object.entries(training.properties).map(([name, { default: _default, ...rule }]) => [name, rule])),
  additionalProperties: false,
});

const entry = ArgsObject({
  /** Label in tables and charts (unique). */
  label: Type.String({ minLength: 1 }),
  /** Overrides the experiment's protocol for this entry. */
  protocol: Type.Optional(StringEnum(PROTOCOLS)),
  /** Refiner config `{ type, ...args }`; default `{ type: 'none' }`. */
  refiner: Type.Optional(typedConfig),
  /** Neck config, e.g. `{ type: 'sdn' }` (end-to-end only). */
  neck: Type.Optional(typedConfig),
  /** Backbone config overriding the experiment's (end-to-end only). */
  backbone: Type.Optional(typedConfig),
  /** A whole model instead of backbone + refiner: `{ type: 'difnet', depth, ... }` (end-to-end only). */
  model: Type.Optional(typedConfig),
  /** Pyramid levels fed to the refiner (default: the first N). */
  featureLevels: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }))),
  /** Put the image in front of the pyramid before picking levels (DifNet's first walk sees the image). In `refine-coarse` the pyramid is only the image, so this defaults to true there. */
  imageAsFeature: Type.Optional(Type.Boolean()),
  /**
   * This entry's training budget and optimiser, over the experiment's `train`
   * (e.g. `{ "refinerEpochs": 3, "learningRate": 0.001 }`): refiners differ in
   * how many steps and how large a learning rate they need, and one shared
   * budget would leave some undertrained or unstable.
   */
  train: Type.Optional(trainingOverrides),
});

const evaluation = settings({
  /** Trimap half-widths in pixels. */
  trimapRadii: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 40 }), { minItems: 1, default: [1, 2, 3, 5, 8, 12, 16, 20, 30, 40] })),
  /** Boundary F-score tolerance in pixels. */
  boundaryTolerance: Type.Optional(Type.Number({ minimum: 0, default: 2 })),
  /** Validation images drawn as qualitative panels. */
  panels: Type.Optional(Type.Integer({ minimum: 0, default: 3 })),
  /** Validation images used (null: all). */
  limit: Type.Optional(Nullable(Type.Integer({ minimum: 1 }), { default: null })),
});

/** The experiment file. */
export const experimentFileSchema = ArgsObject({
  /** Run name: results go to `<outputDir>/<name>/`. */
  name: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]+$', default: 'default' })),
  /** Seed of data order, augmentation and weight initialisation. */
  seed: Type.Optional(Type.Integer({ default: 1 })),
  /** The data. */
  dataset: Type.Optional(dataset),
  /** Default backbone of every entry. */
  backbone: Type.Optional(Type.Unsafe<TypedConfig>({ ...typedConfig, default: { type: 'fcn' } })),
  /** Default protocol of the entries. */
  protocol: Type.Optional(StringEnum(PROTOCOLS, { default: 'refine-frozen' })),
  /** The coarse scores of the `refine-coarse` protocol. */
  coarse: Type.Optional(coarse),
  /** The rows of the comparison. */
  entries: Type.Optional(Type.Array(entry, { default: [] })),
  /**
   * Add an entry (default args) for every registered refiner that no entry
   * of that protocol names: `true` means `['refine-frozen']`.
   */
  includeAllRefiners: Type.Optional(
    Type.Unsafe<boolean | RefinerProtocol[]>({
      oneOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'string', enum: PROTOCOLS.filter((p) => p !== 'end-to-end') }, uniqueItems: true }],
      default: true,
    }),
  ),
  /** Training budget. */
  train: Type.Optional(training),
  /** Evaluation settings. */
  eval: Type.Optional(evaluation),
  /** Folder of run folders. */
  outputDir: Type.Optional(Type.String({ minLength: 1, default: 'runs' })),
});

/** `T` with the keys `K` (those the schema gives a default) always present. */
type Defaulted<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: Exclude<T[P], undefined> };

/**
 * An experiment file as written: every field with a default may be left
 * out (the schema's TSDoc lists them).
 * @interface
 */
export type ExperimentFile = Static<typeof experimentFileSchema>;

/**
 * The built-in synthetic scenes as a validated `dataset` (defaults filled in).
 * @interface
 */
export type SyntheticDatasetConfig = Defaulted<Static<typeof syntheticDataset>, 'size' | 'train' | 'val' | 'classes'>;

/**
 * A VOC-layout folder as a validated `dataset` (defaults filled in).
 * @interface
 */
export type VocDatasetConfig = Defaulted<Static<typeof vocDataset>, 'trainSplit' | 'valSplit' | 'size' | 'onError' | 'labelDir'>;

/** Where the images come from. */
export type DatasetConfig = SyntheticDatasetConfig | VocDatasetConfig;

/** The protocols `includeAllRefiners` can add entries for. */
export type RefinerProtocol = Exclude<Protocol, 'end-to-end'>;

/**
 * How the `refine-coarse` protocol degrades the ground truth into scores.
 * @interface
 */
export type CoarseConfig = Required<Static<typeof coarse>>;

/**
 * One row of the comparison.
 * @interface
 */
export type ExperimentEntry = Static<typeof entry>;

/**
 * Training budget and optimiser.
 * @interface
 */
export type TrainingConfig = Required<Static<typeof training>>;

/**
 * Evaluation settings.
 * @interface
 */
export type EvaluationConfig = Required<Static<typeof evaluation>>;

/**
 * A validated experiment, every default filled in.
 * @interface
 */
export type Experiment = Omit<Required<ExperimentFile>, 'dataset' | 'coarse' | 'train' | 'eval'> & {
  /** The data. */
  dataset: DatasetConfig;
  /** The coarse scores of the `refine-coarse` protocol. */
  coarse: CoarseConfig;
  /** Training budget. */
  train: TrainingConfig;
  /** Evaluation settings. */
  eval: EvaluationConfig;
};
