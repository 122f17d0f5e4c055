/**
 * Boundary F-score: how well the predicted label boundaries line up with the
 * true ones, within a distance tolerance.
 *
 * Boundaries are class-agnostic: a pixel is a boundary pixel when a
 * 4-neighbour has a different label (both sides are marked, in truth and
 * prediction alike). A predicted boundary pixel is *matched* when a true
 * boundary pixel lies within the tolerance (Euclidean distance between pixel
 * centres), and vice versa; precision = matched predicted / predicted,
 * recall = matched true / true, F = 2PR / (P + R). Matching is by distance
 * (as in the DAVIS boundary measure and Csurka et al.'s BF score), not by
 * the one-to-one assignment of the BSDS benchmark; it is exact thanks to the
 * exact distance transform.
 *
 * Void (255): true boundary pixels are labelled pixels next to another label
 * *or to void* (so a VOC void band contributes its two edges); void pixels
 * are never true boundary pixels. A predicted boundary pixel is scored only
 * if it lies within the tolerance of a labelled pixel (inside a thin void
 * band it is scored, deep inside a large void region it is not).
 *
 * Tolerance: 2 px by default — at the 128×128 synthetic scale this is close
 * to DAVIS's 0.008 × image diagonal (1.45 px); for larger images use
 * `toleranceFraction` (0.0075 × diagonal is the BSDS default).
 *
 * Counts are summed over the split before P and R are taken (micro average),
 * like the confusion matrix. With no boundaries on either side P = R = 1;
 * with true boundaries and no predicted ones P = 1, R = 0; with predicted
 * ones and no true ones P = 0, R = 1 (DAVIS conventions).
 * @module
 */
import { ConfigError } from '../core/errors.js';
import { labelBoundaries } from './boundaries.js';
import { checkNumClasses } from './confusion_matrix.js';
import { squaredDistanceTransform } from './distance_transform.js';
import type { ImageRegion } from '../data/types.js';
import { checkMetricLabels, imageViews, toLabelPair, updateOptions, type LabelInput, type LabelMaps, type MetricUpdateOptions } from './labels.js';

/** Options of {@link BoundaryFScore}. */
export interface BoundaryFOptions {
  /**
   * Match tolerance in pixels (Euclidean, between pixel centres).
   * @defaultValue 2
   */
  tolerance?: number;
  /**
   * Tolerance as a fraction of each image's diagonal; overrides `tolerance`.
   * @defaultValue undefined
   */
  toleranceFraction?: number;
  /**
   * Target label that is not scored.
   * @defaultValue 255
   */
  ignoreLabel?: number;
}

/** Boundary precision, recall and F-score over a split. */
export interface BoundaryFResult {
  /** Matched predicted boundary pixels / scored predicted boundary pixels. */
  precision: number;
  /** Matched true boundary pixels / true boundary pixels. */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  fScore: number;
  /** The tolerance: pixels, or a fraction of the diagonal (see `toleranceIsFraction`). */
  tolerance: number;
  /** Whether `tolerance` is a fraction of the image diagonal. */
  toleranceIsFraction: boolean;
  /** Scored predicted boundary pixels. */
  predictedPixels: number;
  /** Of those, matched to a true boundary. */
  matchedPredicted: number;
  /** True boundary pixels. */
  truthPixels: number;
  /** Of those, matched to a predicted boundary. */
  matchedTruth: number;
}

/** Accumulates the boundary F-score over a split (see the module notes for the exact definition). */
export class BoundaryFScore {
  /** Number of classes K. */
  readonly numClasses: number;
  /** The ignored target label. */
  readonly ignoreLabel: number;
  private readonly tolerance: number;
  private readonly toleranceIsFraction: boolean;
  private predictedPixels = 0;
  private matchedPredicted = 0;
  private truthPixels = 0;
  private matchedTruth = 0;

  /**
   * @param numClasses - K (used to check label values)
   * @param options - see {@link BoundaryFOptions}
   */
  constructor(numClasses: number, options: BoundaryFOptions = {}) {
    checkNumClasses(numClasses);
    this.numClasses = numClasses;
    this.ignoreLabel = options.ignoreLabel ?? 255;
    if (options.toleranceFraction !== undefined) {
      if (!(options.toleranceFraction > 0 && options.toleranceFraction < 1)) {
        throw new ConfigError('BoundaryFOptions/toleranceFraction', 'must be in (0, 1)', options.toleranceFraction);
      }
      this.tolerance = options.toleranceFraction;
      this.toleranceIsFraction = true;
    } else {
      const tolerance = options.tolerance ?? 2;
      if (!(Number.isFinite(tolerance) && tolerance >= 0)) throw new ConfigError('BoundaryFOptions/tolerance', 'must be a finite number >= 0', tolerance);
      this.tolerance = tolerance;
      this.toleranceIsFraction = false;
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
    for (const view of imageViews(pred, truth, regions)) {
      const { offset, height, width } = view;
      const pixels = height * width;
      const tolerance = this.toleranceIsFraction ? this.tolerance * Math.hypot(height, width) : this.tolerance;
      const tolerance2 = tolerance * tolerance;
      const trueBoundary = labelBoundaries(view.truth, offset, height, width, { ignoreLabel: this.ignoreLabel, ignoredNeighbourCounts: true });
      const predBoundary = labelBoundaries(view.pred, offset, height, width);
      const toTrue = squaredDistanceTransform(trueBoundary, height, width);
      const toPred = squaredDistanceTransform(predBoundary, height, width);
      let toLabelled: Float64Array | undefined;
      for (let i = 0; i < pixels; i++) {
        if (view.truth[offset + i] !== this.ignoreLabel) continue;
        // Some void: find how far each pixel is from a labelled one (computed once per image).
        const labelled = new Uint8Array(pixels);
        for (let j = 0; j < pixels; j++) labelled[j] = view.truth[offset + j] !== this.ignoreLabel ? 1 : 0;
        toLabelled = squaredDistanceTransform(labelled, height, width);
        break;
      }
      for (let i = 0; i < pixels; i++) {
        if (trueBoundary[i] === 1) {
          this.truthPixels++;
          if ((toPred[i] as number) <= tolerance2) this.matchedTruth++;
        }
        if (predBoundary[i] === 1 && (toLabelled === undefined || (toLabelled[i] as number) <= tolerance2)) {
          this.predictedPixels++;
          if ((toTrue[i] as number) <= tolerance2) this.matchedPredicted++;
        }
      }
    }
    return this;
  }

  /**
   * Adds another accumulator's counts.
   * @param other - an accumulator with the same tolerance
   */
  merge(other: BoundaryFScore): this {
    if (other.tolerance !== this.tolerance || other.toleranceIsFraction !== this.toleranceIsFraction) {
      throw new ConfigError('other', `must have tolerance ${this.tolerance}${this.toleranceIsFraction ? ' (fraction)' : ' px'}`, other.tolerance);
    }
    this.predictedPixels += other.predictedPixels;
    this.matchedPredicted += other.matchedPredicted;
    this.truthPixels += other.truthPixels;
    this.matchedTruth += other.matchedTruth;
    return this;
  }

  /** Precision, recall, F-score and the counts behind them. */
  result(): BoundaryFResult {
    const bothEmpty = this.predictedPixels === 0 && this.truthPixels === 0;
    const precision = bothEmpty ? 1 : this.predictedPixels === 0 ? 1 : this.matchedPredicted / this.predictedPixels;
    const recall = bothEmpty ? 1 : this.truthPixels === 0 ? 1 : this.matchedTruth / this.truthPixels;
    return {
      precision,
      recall,
      fScore: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
      tolerance: this.tolerance,
      toleranceIsFraction: this.toleranceIsFraction,
      predictedPixels: this.predictedPixels,
      matchedPredicted: this.matchedPredicted,
      truthPixels: this.truthPixels,
      matchedTruth: this.matchedTruth,
    };
  }
}

/**
 * Boundary F-score of a whole split given as lists of per-batch (or per-image) maps.
 * @param preds - predicted labels, one entry per batch/image
 * @param truths - target labels, same order and shapes
 * @param numClasses - K
 * @param options - tolerance and ignore label
 * @param shape - shape of array entries (all entries alike), or {@link MetricUpdateOptions}
 */
export function boundaryFScore(
  preds: readonly LabelInput[],
  truths: readonly LabelInput[],
  numClasses: number,
  options: BoundaryFOptions = {},
  shape?: readonly number[] | MetricUpdateOptions,
): BoundaryFResult {
  if (preds.length !== truths.length) throw new ConfigError('preds', `must have as many entries as truths (${truths.length})`, preds.length);
  const accumulator = new BoundaryFScore(numClasses, options);
  preds.forEach((pred, i) => accumulator.update(pred, truths[i] as LabelInput, shape));
  return accumulator.result();
}
