/**
 * The confusion matrix over a whole split and the VOC metrics read from it.
 * @module
 */
import { ConfigError, DataError } from '../core/errors.js';
import type { ImageRegion } from '../data/types.js';
import { checkMetricLabels, imageViews, toLabelPair, updateOptions, type LabelInput, type LabelMaps, type MetricUpdateOptions } from './labels.js';

/** Options of {@link ConfusionMatrix}. */
export interface ConfusionMatrixOptions {
  /**
   * Target label that is not scored (VOC's void).
   * @defaultValue 255
   */
  ignoreLabel?: number;
}

/** A confusion matrix as plain JSON. */
export interface ConfusionMatrixJson {
  /** Number of classes K. */
  numClasses: number;
  /** The ignored target label. */
  ignoreLabel: number;
  /** `counts[truth][pred]`: pixels of true class `truth` predicted as `pred`. */
  counts: number[][];
}

/**
 * Check a class count.
 * @param numClasses - K
 * @param argument - name for the error
 */
export function checkNumClasses(numClasses: number, argument = 'numClasses'): void {
  if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 65536) throw new ConfigError(argument, 'must be an integer in [1, 65536]', numClasses);
}

/**
 * A K×K confusion matrix, rows = true class, columns = predicted class,
 * accumulated over batches with {@link ConfusionMatrix.update} (or several
 * matrices combined with {@link ConfusionMatrix.merge}). Pixels whose target
 * is the ignore label (255) are not counted.
 *
 * Metrics follow the VOC convention: IoU_c = TP / (TP + FP + FN) over the
 * whole split (not averaged per image); the mean IoU averages the classes
 * that appear in the truth or the prediction (a class absent from both has
 * an undefined IoU, reported as null, and is left out of the mean).
 */
export class ConfusionMatrix {
  /** Number of classes K. */
  readonly numClasses: number;
  /** The ignored target label. */
  readonly ignoreLabel: number;
  /** Counts, row-major `[truth * K + pred]` (float64: exact up to 2^53 pixels). */
  readonly counts: Float64Array;

  /**
   * @param numClasses - K
   * @param options - see {@link ConfusionMatrixOptions}
   */
  constructor(numClasses: number, options: ConfusionMatrixOptions = {}) {
    checkNumClasses(numClasses);
    const ignoreLabel = options.ignoreLabel ?? 255;
    if (!Number.isInteger(ignoreLabel) || (ignoreLabel >= 0 && ignoreLabel < numClasses)) {
      throw new ConfigError('ConfusionMatrixOptions/ignoreLabel', `must be an integer outside [0, ${numClasses})`, ignoreLabel);
    }
    this.numClasses = numClasses;
    this.ignoreLabel = ignoreLabel;
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /**
   * Adds a batch. `pred` holds class indices (or, as a rank-4 tensor, scores
   * reduced by argmax); `truth` holds class indices or the ignore label.
   * Shapes must match ({@link ShapeError}); values out of range raise
   * {@link DataError}. Tensors are read, not disposed.
   * @param pred - predicted labels or scores
   * @param truth - target labels
   * @param shapeOrOptions - shape for array inputs (optional here unless `regions` are given), or {@link MetricUpdateOptions}
   */
  update(pred: LabelInput, truth: LabelInput, shapeOrOptions?: readonly number[] | MetricUpdateOptions): this {
    const options = updateOptions(shapeOrOptions);
    const pair = toLabelPair(pred, truth, options.shape);
    return this.updateMaps(pair.pred, pair.truth, options.regions);
  }

  /**
   * Adds converted label maps (see {@link toLabelPair}); checks values.
   * @param pred - predicted labels
   * @param truth - target labels
   * @param regions - per image, the rectangle to count (default: whole images)
   */
  updateMaps(pred: LabelMaps, truth: LabelMaps, regions?: readonly ImageRegion[]): this {
    checkMetricLabels(pred, truth, this.numClasses, this.ignoreLabel);
    const k = this.numClasses;
    const views = regions === undefined ? [{ pred: pred.data, truth: truth.data, offset: 0, height: 1, width: truth.data.length }] : imageViews(pred, truth, regions);
    for (const view of views) {
      const p = view.pred;
      const t = view.truth;
      const end = view.offset + view.height * view.width;
      for (let i = view.offset; i < end; i++) {
        const target = t[i] as number;
        if (target === this.ignoreLabel) continue;
        this.counts[target * k + (p[i] as number)] += 1;
      }
    }
    return this;
  }

  /**
   * Adds another matrix's counts (e.g. from another worker or split part).
   * @param other - a matrix with the same K and ignore label
   */
  merge(other: ConfusionMatrix): this {
    if (other.numClasses !== this.numClasses) throw new ConfigError('other.numClasses', `must equal ${this.numClasses}`, other.numClasses);
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i] as number;
    return this;
  }

  /** Sets every count to zero. */
  reset(): this {
    this.counts.fill(0);
    return this;
  }

  /** Number of counted (non-ignored) pixels. */
  get total(): number {
    let sum = 0;
    for (let i = 0; i < this.counts.length; i++) sum += this.counts[i] as number;
    return sum;
  }

  /**
   * Pixels with `(truth, pred)`.
   * @param truth - true class
   * @param pred - predicted class
   */
  count(truth: number, pred: number): number {
    return this.counts[truth * this.numClasses + pred] as number;
  }

  /** Per class: pixels of that true class (row sums). */
  truthPixels(): number[] {
    const k = this.numClasses;
    return Array.from({ length: k }, (_, c) => {
      let sum = 0;
      for (let j = 0; j < k; j++) sum += this.counts[c * k + j] as number;
      return sum;
    });
  }

  /** Per class: pixels predicted as that class (column sums). */
  predictedPixels(): number[] {
    const k = this.numClasses;
    return Array.from({ length: k }, (_, c) => {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += this.counts[i * k + c] as number;
      return sum;
    });
  }

  /** Per-class IoU = TP / (TP + FP + FN); null for a class absent from truth and prediction. */
  iou(): Array<number | null> {
    const truth = this.truthPixels();
    const predicted = this.predictedPixels();
    return truth.map((rowSum, c) => {
      const tp = this.count(c, c);
      const union = rowSum + (predicted[c] as number) - tp;
      return union > 0 ? tp / union : null;
    });
  }

  /** Mean IoU over the classes present in truth or prediction (VOC). Throws {@link DataError} if there are none. */
  meanIou(): number {
    return meanOfPresent(this.iou(), 'meanIou');
  }

  /** Per-class accuracy (recall) = TP / (TP + FN); null for a class absent from the truth. */
  classAccuracy(): Array<number | null> {
    return this.truthPixels().map((rowSum, c) => (rowSum > 0 ? this.count(c, c) / rowSum : null));
  }

  /** Mean of {@link ConfusionMatrix.classAccuracy} over classes present in the truth. */
  meanClassAccuracy(): number {
    return meanOfPresent(this.classAccuracy(), 'meanClassAccuracy');
  }

  /** Pixel accuracy = Σ TP / counted pixels. Throws {@link DataError} if nothing was counted. */
  pixelAccuracy(): number {
    const total = this.total;
    if (total === 0) throw emptyError('pixelAccuracy');
    let correct = 0;
    for (let c = 0; c < this.numClasses; c++) correct += this.count(c, c);
    return correct / total;
  }

  /** The matrix as JSON (`counts[truth][pred]`). */
  toJSON(): ConfusionMatrixJson {
    const k = this.numClasses;
    return {
      numClasses: k,
      ignoreLabel: this.ignoreLabel,
      counts: Array.from({ length: k }, (_, i) => Array.from(this.counts.subarray(i * k, (i + 1) * k))),
    };
  }

  /**
   * Rebuilds a matrix from {@link ConfusionMatrix.toJSON}.
   * @param json - a saved matrix
   */
  static fromJSON(json: ConfusionMatrixJson): ConfusionMatrix {
    const matrix = new ConfusionMatrix(json.numClasses, { ignoreLabel: json.ignoreLabel });
    if (json.counts.length !== json.numClasses || json.counts.some((row) => row.length !== json.numClasses)) {
      throw new DataError('json.counts', `must be a ${json.numClasses}×${json.numClasses} array`, json.counts.length);
    }
    json.counts.forEach((row, i) => matrix.counts.set(row, i * json.numClasses));
    return matrix;
  }
}

function emptyError(metric: string): DataError {
  return new DataError(`ConfusionMatrix.${metric}`, 'needs at least one counted pixel (every target was ignored, or nothing was added)', 0);
}

function meanOfPresent(values: Array<number | null>, metric: string): number {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) throw emptyError(metric);
  return present.reduce((a, b) => a + b, 0) / present.length;
}
