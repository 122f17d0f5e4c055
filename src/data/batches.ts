/**
 * The batch iterator shared by every dataset: seeded order, per-sample
 * augmentation, streaming loads (one batch in flight ahead of the consumer),
 * and conversion to tensors.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { compileArgs, parseArgs } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { IDENTITY_PLAN, applyAugmentPlan, drawAugmentPlan, planRegion } from './augment.js';
import { IMAGENET_MEAN_RGB } from './palette.js';
import { SeededRandom, hashSeed } from './random.js';
import { batchOptionsArgs, type Batch, type BatchOptions, type ImageRegion, type Sample } from './types.js';

/** What {@link iterateBatches} needs from a dataset. */
export interface SampleSource {
  /**
   * The ids of a split in their fixed order.
   * @param split - split name
   */
  ids(split: string): readonly string[];
  /**
   * Loads one sample.
   * @param id - sample id
   */
  load(id: string): Promise<Sample>;
}

/**
 * Decides what a failed load does: return `true` to drop the sample and go
 * on, or throw (the default rethrows the error).
 */
export type LoadErrorHandler = (error: unknown, id: string) => boolean;

const batchOptionsSchema = compileArgs('BatchOptions', batchOptionsArgs);

/**
 * Validates batch options (throws {@link ConfigError} naming the field).
 * @param options - user options
 */
export function parseBatchOptions(options: BatchOptions): BatchOptions {
  const parsed = parseArgs(batchOptionsSchema, options);
  const range = parsed.augment?.scaleRange;
  if (range !== undefined && range[0] > range[1]) {
    throw new ConfigError('BatchOptions/augment/scaleRange', 'must be [min, max] with min <= max', range);
  }
  return parsed;
}

type LoadResult = { ok: true; sample: Sample } | { ok: false; error: unknown; id: string };

function loadGroup(source: SampleSource, ids: readonly string[]): Promise<LoadResult[]> {
  // Never rejects: errors are settled per sample, so an abandoned prefetch cannot go unhandled.
  return Promise.all(
    ids.map((id) =>
      source.load(id).then(
        (sample): LoadResult => ({ ok: true, sample }),
        (error: unknown): LoadResult => ({ ok: false, error, id }),
      ),
    ),
  );
}

function toBatch(samples: Sample[], regions: ImageRegion[]): Batch {
  const first = samples[0] as Sample;
  const { height, width } = first;
  const pixels = height * width;
  const images = new Float32Array(samples.length * pixels * 3);
  const labels = new Int32Array(samples.length * pixels);
  samples.forEach((sample, b) => {
    const image = sample.image;
    const imageBase = b * pixels * 3;
    for (let i = 0; i < pixels * 3; i++) images[imageBase + i] = (image[i] as number) / 255;
    labels.set(sample.label, b * pixels);
  });
  return {
    images: tf.tensor4d(images, [samples.length, height, width, 3], 'float32'),
    labels: tf.tensor3d(labels, [samples.length, height, width], 'int32'),
    ids: samples.map((s) => s.id),
    regions,
  };
}

/**
 * Iterates over a split in batches. Order: the split's ids, shuffled with
 * `seed` if asked, truncated to `limit`. Augmentation of the sample at
 * position `p` uses its own stream `hash(seed, split, p)`, so results do not
 * depend on load timing. Loads run one batch ahead of the consumer.
 * @param source - ids and loader
 * @param split - split name
 * @param options - see {@link BatchOptions}
 * @param onLoadError - decides whether a failed load is skipped; default rethrows
 */
export async function* iterateBatches(
  source: SampleSource,
  split: string,
  options: BatchOptions,
  onLoadError: LoadErrorHandler = (error) => {
    throw error;
  },
): AsyncGenerator<Batch, void, undefined> {
  const opts = parseBatchOptions(options);
  const seed = opts.seed ?? 0;
  const order = [...source.ids(split)];
  if (opts.shuffle === true) new SeededRandom(hashSeed(seed, 'order', split)).shuffle(order);
  const ids = opts.limit !== undefined ? order.slice(0, opts.limit) : order;
  const groups: string[][] = [];
  for (let start = 0; start < ids.length; start += opts.batchSize) {
    const group = ids.slice(start, start + opts.batchSize);
    if (group.length < opts.batchSize && opts.dropRemainder === true) break;
    groups.push(group);
  }
  const padValue = opts.imagePadValue ?? IMAGENET_MEAN_RGB;
  let pending = groups.length > 0 ? loadGroup(source, groups[0] as string[]) : undefined;
  for (let g = 0; g < groups.length; g++) {
    const results = await (pending as Promise<LoadResult[]>);
    pending = g + 1 < groups.length ? loadGroup(source, groups[g + 1] as string[]) : undefined;
    const samples: Sample[] = [];
    const regions: ImageRegion[] = [];
    results.forEach((result, k) => {
      if (!result.ok) {
        if (onLoadError(result.error, result.id)) return;
        throw result.error;
      }
      const position = g * opts.batchSize + k;
      const prepared = prepare(result.sample, position);
      samples.push(prepared.sample);
      regions.push(prepared.region);
    });
    if (samples.length === 0) continue;
    checkEqualSizes(samples);
    yield toBatch(samples, regions);
  }

  function prepare(sample: Sample, position: number): { sample: Sample; region: ImageRegion } {
    const [outHeight, outWidth] = opts.size ?? [sample.height, sample.width];
    if (opts.augment !== undefined) {
      const rng = new SeededRandom(hashSeed(seed, 'augment', split, position));
      const plan = drawAugmentPlan(rng, sample.height, sample.width, outHeight, outWidth, opts.augment);
      return { sample: applyAugmentPlan(sample, plan, outHeight, outWidth, padValue), region: planRegion(sample.height, sample.width, plan, outHeight, outWidth) };
    }
    const region = { top: 0, left: 0, height: sample.height, width: sample.width };
    if (outHeight === sample.height && outWidth === sample.width) return { sample, region };
    if (sample.height > outHeight || sample.width > outWidth) {
      throw new ConfigError(
        'BatchOptions/size',
        `must be at least every sample's size when not augmenting (sample "${sample.id}" is ${sample.height}×${sample.width})`,
        opts.size,
      );
    }
    return { sample: applyAugmentPlan(sample, IDENTITY_PLAN, outHeight, outWidth, padValue), region };
  }
}

function checkEqualSizes(samples: Sample[]): void {
  const first = samples[0] as Sample;
  for (const sample of samples) {
    if (sample.height !== first.height || sample.width !== first.width) {
      throw new ConfigError(
        'BatchOptions/size',
        `must be set when samples differ in size ("${first.id}" is ${first.height}×${first.width}, "${sample.id}" is ${sample.height}×${sample.width})`,
        undefined,
      );
    }
  }
}
