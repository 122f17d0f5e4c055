/**
 * Trimap IoU: the mean IoU of only the pixels near a true boundary, as a
 * function of the band half-width r (DeepLab, Chen et al. 2015/2017, Fig. 4;
 * segmentation-aware networks, Harley et al. 2017). It shows how much of a
 * refiner's gain is at object boundaries.
 *
 * Band: a labelled pixel p is in the band of half-width r when the Euclidean
 * distance from p to the nearest *true boundary pixel* is ≤ r. Boundary
 * pixels are the void (255) pixels of the target — VOC draws void along
 * object outlines, and DeepLab measures its band around them — plus labelled
 * pixels with a labelled 4-neighbour of another class (class changes without
 * void). Void pixels are never scored. Distances are exact (Felzenszwalb–
 * Huttenlocher EDT), so the result does not depend on a chamfer approximation.
 * @module
 */
import { ConfigError } from '../core/errors.js';
import { labelBoundaries } from './boundaries.js';
import { ConfusionMatrix, checkNumClasses } from './confusion_matrix.js';
import { squaredDistanceTransform } from './distance_transform.js';
import type { ImageRegion } from '../data/types.js';
import { checkMetricLabels, imageViews, toLabelPair, updateOptions, type LabelInput, type LabelMaps, type MetricUpdateOptions } from './labels.js';

/** The half-widths 1..40 px of the DeepLab trimap experiment. */
export const DEFAULT_TRIMAP_RADII: readonly number[] = Object.freeze(Array.from({ length: 40 }, (_, i) => i + 1));

/** Options of {@link TrimapIou}. */
export interface TrimapOptions {
  /**
   * Band half-widths in pixels, strictly increasing, > 0.
   * @defaultValue 1..40
   */
  radii?: readonly number[];
  /**
   * Target label that is not scored.
   * @defaultValue 255
   */
  ignoreLabel?: number;
  /**
   * Treat void pixels as boundary pixels (VOC/DeepLab). Turn off for targets
   * whose void is not along boundaries (e.g. padded regions), so the band is
   * measured from class changes only.
   * @defaultValue true
   */
  voidIsBoundary?: boolean;
}

/** Trimap IoU per band half-width. */
export interface TrimapResult {
  /** The band half-widths (pixels). */
  radii: number[];
  /** Mean IoU of the band pixels, per radius (null: no labelled pixel within the band). */
  meanIou: Array<number | null>;
  /** Pixel accuracy of the band pixels, per radius (null as above). */
  pixelAccuracy: Array<number | null>;
  /** Number of scored pixels in the band, per radius. */
  pixels: number[];
}

/**
 * Accumulates trimap IoU over a split. Each pixel is counted once, in the
 * smallest band that holds it; the matrix of band r is the sum of the bands
 * up to r, so any number of radii costs one distance transform per image.
 */
export class TrimapIou {
  /** Number of classes K. */
  readonly numClasses: number;
  /** The band half-widths, increasing. */
  readonly radii: readonly number[];
  /** The ignored target label. */
  readonly ignoreLabel: number;
  private readonly voidIsBoundary: boolean;
  /** Per-band confusion counts: `bins[b]` holds pixels whose smallest band is `radii[b]`. */
  private readonly bins: ConfusionMatrix[];
  /** Smallest band index for each integer squared distance 0..maxRadius². */
  private readonly binOfSquaredDistance: Int32Array;

  /**
   * @param numClasses - K
   * @param options - see {@link TrimapOptions}
   */
  constructor(numClasses: number, options: TrimapOptions = {}) {
    checkNumClasses(numClasses);
    const radii = [...(options.radii ?? DEFAULT_TRIMAP_RADII)];
    if (radii.length === 0 || radii.some((r, i) => !(Number.isFinite(r) && r > 0) || (i > 0 && r <= (radii[i - 1] as number)))) {
      throw new ConfigError('TrimapOptions/radii', 'must be a non-empty list of strictly increasing positive numbers', radii);
    }
    this.numClasses = numClasses;
    this.radii = Object.freeze(radii);
    this.ignoreLabel = options.ignoreLabel ?? 255;
    this.voidIsBoundary = options.voidIsBoundary ?? true;
    this.bins = radii.map(() => new ConfusionMatrix(numClasses, { ignoreLabel: this.ignoreLabel }));
    const maxSquared = Math.floor((radii[radii.length - 1] as number) ** 2);
    this.binOfSquaredDistance = new Int32Array(maxSquared + 1);
    let bin = 0;
    for (let d2 = 0; d2 <= maxSquared; d2++) {
      while (d2 > (radii[bin] as number) ** 2) bin++;
      this.binOfSquaredDistance[d2] = bin;
    }
  }

  /**
   * Adds a batch of maps (`[B, H, W]` or `[H, W]`; arrays need `shape`).
   * @param pred - predicted labels (or scores `[B, H, W, K]`)
   * @param truth - target labels, 255 = void
   * @param shapeOrOptions - shape for array inputs, or {@link MetricUpdateOptions} (shape and regions)
   */
  update(pred: LabelInput, truth: LabelInput, shapeOrOptions?: readonly number[] | MetricUpdateOptions): this {
    const options = updateOptions(shapeOrOptions);
    const pair = toLabelPair(pred, truth, options.shape);
    return this.updateMaps(pair.pred, pair.truth, options.regions);
  }

  /**
   * Adds converted label maps.
   * @param pred - predicted labels
   * @param truth - target labels
   * @param regions - per image, the rectangle to score (default: whole images)
   */
  updateMaps(pred: LabelMaps, truth: LabelMaps, regions?: readonly ImageRegion[]): this {
    checkMetricLabels(pred, truth, this.numClasses, this.ignoreLabel);
    const k = this.numClasses;
    const maxSquared = this.binOfSquaredDistance.length - 1;
    for (const view of imageViews(pred, truth, regions)) {
      const { offset, height, width } = view;
      const pixels = height * width;
      const seeds = labelBoundaries(view.truth, offset, height, width, { ignoreLabel: this.ignoreLabel });
      if (this.voidIsBoundary) {
        for (let i = 0; i < pixels; i++) if (view.truth[offset + i] === this.ignoreLabel) seeds[i] = 1;
      }
      const squared = squaredDistanceTransform(seeds, height, width);
      for (let i = 0; i < pixels; i++) {
        const target = view.truth[offset + i] as number;
        const d2 = squared[i] as number;
        if (target === this.ignoreLabel || d2 > maxSquared) continue;
        const bin = this.bins[this.binOfSquaredDistance[d2] as number] as ConfusionMatrix;
        bin.counts[target * k + (view.pred[offset + i] as number)] += 1;
      }
    }
    return this;
  }

  /**
   * Adds another accumulator's counts.
   * @param other - same K and radii
   */
  merge(other: TrimapIou): this {
    if (other.numClasses !== this.numClasses || other.radii.join() !== this.radii.join()) {
      throw new ConfigError('other', `must have numClasses ${this.numClasses} and radii [${this.radii.join(', ')}]`, other.radii);
    }
    this.bins.forEach((bin, i) => bin.merge(other.bins[i] as ConfusionMatrix));
    return this;
  }

  /** The confusion matrix of each band (cumulative over smaller bands). */
  matrices(): ConfusionMatrix[] {
    const running = new ConfusionMatrix(this.numClasses, { ignoreLabel: this.ignoreLabel });
    return this.bins.map((bin) => {
      running.merge(bin);
      return new ConfusionMatrix(this.numClasses, { ignoreLabel: this.ignoreLabel }).merge(running);
    });
  }

  /** Mean IoU, pixel accuracy and pixel count per radius. */
  result(): TrimapResult {
    const matrices = this.matrices();
    return {
      radii: [...this.radii],
      meanIou: matrices.map((m) => (m.total > 0 ? m.meanIou() : null)),
      pixelAccuracy: matrices.map((m) => (m.total > 0 ? m.pixelAccuracy() : null)),
      pixels: matrices.map((m) => m.total),
    };
  }
}

/**
 * Trimap IoU of a whole split given as lists of per-batch (or per-image) maps.
 * @param preds - predicted labels, one entry per batch/image
 * @param truths - target labels, same order and shapes
 * @param numClasses - K
 * @param options - radii, ignore label, void handling
 * @param shape - shape of array entries (all entries alike), or {@link MetricUpdateOptions}
 */
export function trimapIou(
  preds: readonly LabelInput[],
  truths: readonly LabelInput[],
  numClasses: number,
  options: TrimapOptions = {},
  shape?: readonly number[] | MetricUpdateOptions,
): TrimapResult {
  if (preds.length !== truths.length) throw new ConfigError('preds', `must have as many entries as truths (${truths.length})`, preds.length);
  const accumulator = new TrimapIou(numClasses, options);
  preds.forEach((pred, i) => accumulator.update(pred, truths[i] as LabelInput, shape));
  return accumulator.result();
}
