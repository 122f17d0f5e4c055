/**
 * The dataset contract shared by the synthetic scenes and the VOC-layout
 * loader: samples as typed arrays, batches as tensors.
 * @module
 */
import { ArgsObject, SizeTuple, Type, type Static } from '../core/schemas.js';
import type * as tf from '@tensorflow/tfjs';

/**
 * One image with its label map, as plain typed arrays (row-major).
 */
export interface Sample {
  /** Identifier, unique within the dataset (a VOC image id, or `train_000012`). */
  id: string;
  /** RGB bytes, `height × width × 3`, pixel `(y, x)` at `3·(y·width + x)`. */
  image: Uint8Array;
  /** Class per pixel, `height × width`; {@link IGNORE_LABEL} (255) marks void. */
  label: Uint8Array;
  /** Image height in pixels. */
  height: number;
  /** Image width in pixels. */
  width: number;
}

/** Schema of {@link AugmentOptions}. */
const augmentOptions = ArgsObject({
  /**
   * Range of the random scale factor `[min, max]`.
   * @defaultValue [0.5, 2.0]
   */
  scaleRange: Type.Optional(Type.Tuple([Type.Number({ exclusiveMinimum: 0 }), Type.Number({ exclusiveMinimum: 0 })])),
  /**
   * Flip left–right with probability 1/2.
   * @defaultValue true
   */
  flip: Type.Optional(Type.Boolean()),
});

/**
 * Random scale / flip / crop, as DeepLab trains: scale by a factor drawn
 * uniformly from `scaleRange`, pad to the crop size (image with
 * {@link BatchOptions.imagePadValue}, label with 255), take a random crop,
 * flip left–right with probability 1/2. The crop size is
 * {@link BatchOptions.size} (or the sample's own size).
 * @interface
 */
export type AugmentOptions = Static<typeof augmentOptions>;

/**
 * Schema of {@link BatchOptions}. The defaults below are applied by the
 * batcher (some depend on other options), not by the schema.
 * @internal
 */
export const batchOptionsArgs = ArgsObject({
  /** Samples per batch (>= 1). The last batch may be smaller unless `dropRemainder`. */
  batchSize: Type.Integer({ minimum: 1 }),
  /**
   * Visit the split in a seeded random order.
   * @defaultValue false
   */
  shuffle: Type.Optional(Type.Boolean()),
  /**
   * Seed of the order and of the augmentation; pass e.g. `seed + epoch` for
   * a new order every epoch.
   * @defaultValue 0
   */
  seed: Type.Optional(Type.Integer()),
  /** Augment each sample (absent: no augmentation). `{}` uses the defaults. */
  augment: Type.Optional(augmentOptions),
  /**
   * Output `[height, width]` of every batch element. With `augment` it is the
   * crop size; without, samples are padded at the bottom/right to it (image
   * with `imagePadValue`, label with 255) and a larger sample is an error.
   * Absent: the samples' own size (every sample of a batch must then agree).
   */
  size: Type.Optional(SizeTuple()),
  /**
   * RGB (0..255) that pads images; DeepLab pads with the mean pixel.
   * @defaultValue [124, 116, 104] (ImageNet mean)
   */
  imagePadValue: Type.Optional(Type.Tuple([Type.Integer({ minimum: 0, maximum: 255 }), Type.Integer({ minimum: 0, maximum: 255 }), Type.Integer({ minimum: 0, maximum: 255 })])),
  /**
   * Drop a last batch smaller than `batchSize`.
   * @defaultValue false
   */
  dropRemainder: Type.Optional(Type.Boolean()),
  /** Use only the first `limit` ids of the split (after shuffling), e.g. for a fast mode. */
  limit: Type.Optional(Type.Integer({ minimum: 0 })),
});

/**
 * Options of {@link SegmentationDataset.batches}.
 * @interface
 */
export type BatchOptions = Static<typeof batchOptionsArgs>;

/**
 * Where a sample's own pixels are inside a batch element (the rest is
 * padding). Metrics accept these regions so that padding is not scored and,
 * for the trimap, not taken for a boundary.
 */
export interface ImageRegion {
  /** First row holding sample pixels. */
  top: number;
  /** First column holding sample pixels. */
  left: number;
  /** Rows holding sample pixels. */
  height: number;
  /** Columns holding sample pixels. */
  width: number;
}

/**
 * A batch of images and labels. The caller owns the tensors and must dispose
 * `images` and `labels`.
 */
export interface Batch {
  /** `[B, H, W, 3]` float32 RGB in [0, 1]. */
  images: tf.Tensor4D;
  /** `[B, H, W]` int32 class labels, 255 = void (also where padded). */
  labels: tf.Tensor3D;
  /** The sample ids, in batch order. */
  ids: string[];
  /** Per element, the rectangle holding the sample's pixels (all of it when nothing was padded). */
  regions: ImageRegion[];
}

/**
 * A segmentation dataset: named splits of ids, async sample loading, and a
 * batch iterator producing tensors.
 */
export interface SegmentationDataset {
  /** Short name for reports, e.g. `synthetic` or the folder name. */
  readonly name: string;
  /** Class names, index = label value. */
  readonly classNames: readonly string[];
  /** Number of classes (= `classNames.length`). */
  readonly numClasses: number;
  /** The split names available, e.g. `['train', 'val']`. */
  readonly splits: readonly string[];
  /**
   * The ids of a split, in their fixed order.
   * @param split - one of {@link SegmentationDataset.splits}
   */
  ids(split: string): readonly string[];
  /**
   * Loads one sample by id.
   * @param id - an id from {@link SegmentationDataset.ids}
   */
  load(id: string): Promise<Sample>;
  /**
   * Iterates over a split in batches of tensors (the caller disposes them).
   * @param split - one of {@link SegmentationDataset.splits}
   * @param options - batch size, order, augmentation
   */
  batches(split: string, options: BatchOptions): AsyncGenerator<Batch, void, undefined>;
}
