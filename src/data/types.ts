/**
 * The dataset contract shared by the synthetic scenes and the VOC-layout
 * loader: samples as typed arrays, batches as tensors.
 * @module
 */
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

/**
 * Random scale / flip / crop, as DeepLab trains: scale by a factor drawn
 * uniformly from `scaleRange`, pad to the crop size (image with
 * {@link BatchOptions.imagePadValue}, label with 255), take a random crop,
 * flip left–right with probability 1/2. The crop size is
 * {@link BatchOptions.size} (or the sample's own size).
 */
export interface AugmentOptions {
  /**
   * Range of the random scale factor `[min, max]`.
   * @defaultValue [0.5, 2.0]
   */
  scaleRange?: [number, number];
  /**
   * Flip left–right with probability 1/2.
   * @defaultValue true
   */
  flip?: boolean;
}

/** Options of {@link SegmentationDataset.batches}. */
export interface BatchOptions {
  /** Samples per batch (>= 1). The last batch may be smaller unless `dropRemainder`. */
  batchSize: number;
  /**
   * Visit the split in a seeded random order.
   * @defaultValue false
   */
  shuffle?: boolean;
  /**
   * Seed of the order and of the augmentation; pass e.g. `seed + epoch` for
   * a new order every epoch.
   * @defaultValue 0
   */
  seed?: number;
  /**
   * Augment each sample (absent: no augmentation). `{}` uses the defaults.
   * @defaultValue undefined
   */
  augment?: AugmentOptions;
  /**
   * Output `[height, width]` of every batch element. With `augment` it is the
   * crop size; without, samples are padded at the bottom/right to it (image
   * with `imagePadValue`, label with 255) and a larger sample is an error.
   * Absent: the samples' own size (every sample of a batch must then agree).
   * @defaultValue undefined
   */
  size?: [number, number];
  /**
   * RGB (0..255) that pads images; DeepLab pads with the mean pixel.
   * @defaultValue [124, 116, 104] (ImageNet mean)
   */
  imagePadValue?: [number, number, number];
  /**
   * Drop a last batch smaller than `batchSize`.
   * @defaultValue false
   */
  dropRemainder?: boolean;
  /**
   * Use only the first `limit` ids of the split (after shuffling), e.g. for a fast mode.
   * @defaultValue undefined
   */
  limit?: number;
}

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
