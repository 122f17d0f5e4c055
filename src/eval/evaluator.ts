/**
 * One object that accumulates every metric of the bench over a split:
 * confusion matrix (mIoU, per-class IoU, accuracies), trimap IoU and the
 * boundary F-score, reading each batch's tensors once.
 * @module
 */
import { ConfigError } from '../core/errors.js';
import { BoundaryFScore, type BoundaryFOptions, type BoundaryFResult } from './boundary_f.js';
import { ConfusionMatrix, type ConfusionMatrixJson } from './confusion_matrix.js';
import { toLabelPair, updateOptions, type LabelInput, type MetricUpdateOptions } from './labels.js';
import { TrimapIou, type TrimapResult } from './trimap.js';

/** Options of {@link SegmentationEvaluator}. */
export interface EvaluatorOptions {
  /** Number of classes K. */
  numClasses: number;
  /**
   * Class names for the report (default `class 0`, `class 1`, …).
   * @defaultValue undefined
   */
  classNames?: readonly string[];
  /**
   * Target label that is not scored.
   * @defaultValue 255
   */
  ignoreLabel?: number;
  /**
   * Trimap band half-widths; an empty list turns the trimap off.
   * @defaultValue 1..40
   */
  trimapRadii?: readonly number[];
  /**
   * Treat void pixels as boundary pixels for the trimap.
   * @defaultValue true
   */
  voidIsBoundary?: boolean;
  /**
   * Boundary F-score tolerance (pixels or fraction of the diagonal); null turns it off.
   * @defaultValue \{ tolerance: 2 \}
   */
  boundary?: Pick<BoundaryFOptions, 'tolerance' | 'toleranceFraction'> | null;
}

/** One class's line of the report. */
export interface ClassMetrics {
  /** Class name. */
  name: string;
  /** IoU (null: absent from truth and prediction). */
  iou: number | null;
  /** Accuracy/recall (null: absent from truth). */
  accuracy: number | null;
  /** Pixels of this true class. */
  truthPixels: number;
  /** Pixels predicted as this class. */
  predictedPixels: number;
}

/** Every metric of a split, as plain JSON. */
export interface EvaluationResult {
  /** Counted (non-void) pixels. */
  pixels: number;
  /** Number of images (maps) added. */
  images: number;
  /** Pixel accuracy. */
  pixelAccuracy: number;
  /** Mean IoU over classes present (VOC). */
  meanIou: number;
  /** Mean per-class accuracy over classes present in the truth. */
  meanClassAccuracy: number;
  /** Per-class metrics. */
  perClass: ClassMetrics[];
  /** Trimap IoU curve (absent when turned off). */
  trimap?: TrimapResult;
  /** Boundary F-score (absent when turned off). */
  boundary?: BoundaryFResult;
  /** The confusion matrix. */
  confusion: ConfusionMatrixJson;
}

/**
 * Accumulates all metrics over a split.
 *
 * ```ts illustrative
 * const evaluator = new SegmentationEvaluator({ numClasses: data.numClasses, classNames: data.classNames });
 * for await (const { images, labels, regions } of data.batches('val', { batchSize: 8 })) {
 *   const logits = model.predict(images) as tf.Tensor4D;
 *   evaluator.update(logits, labels, { regions }); // argmax over K for rank-4 predictions; regions skip padding
 *   tf.dispose([images, labels, logits]);
 * }
 * const result = evaluator.result(); // { meanIou, perClass, trimap, boundary, … }
 * ```
 */
export class SegmentationEvaluator {
  /** Number of classes K. */
  readonly numClasses: number;
  /** Class names used in results. */
  readonly classNames: readonly string[];
  /** The split-level confusion matrix. */
  readonly confusion: ConfusionMatrix;
  /** Trimap accumulator (undefined when turned off). */
  readonly trimap: TrimapIou | undefined;
  /** Boundary F accumulator (undefined when turned off). */
  readonly boundary: BoundaryFScore | undefined;
  private images = 0;

  /** @param options - see {@link EvaluatorOptions} */
  constructor(options: EvaluatorOptions) {
    const { numClasses } = options;
    this.confusion = new ConfusionMatrix(numClasses, { ignoreLabel: options.ignoreLabel ?? 255 });
    this.numClasses = numClasses;
    if (options.classNames !== undefined && options.classNames.length !== numClasses) {
      throw new ConfigError('EvaluatorOptions/classNames', `must list ${numClasses} names`, options.classNames);
    }
    this.classNames = Object.freeze([...(options.classNames ?? Array.from({ length: numClasses }, (_, c) => `class ${c}`))]);
    const ignoreLabel = this.confusion.ignoreLabel;
    const radii = options.trimapRadii;
    this.trimap = radii !== undefined && radii.length === 0 ? undefined : new TrimapIou(numClasses, { ignoreLabel, voidIsBoundary: options.voidIsBoundary ?? true, ...(radii ? { radii } : {}) });
    this.boundary = options.boundary === null ? undefined : new BoundaryFScore(numClasses, { ignoreLabel, ...(options.boundary ?? {}) });
  }

  /**
   * Adds a batch: predictions (labels `[B, H, W]` or scores `[B, H, W, K]`)
   * against targets `[B, H, W]`. Tensors are read, not disposed.
   * @param pred - predicted labels or scores
   * @param truth - target labels, 255 = void
   * @param shapeOrOptions - shape for array inputs (`[H, W]` or `[B, H, W]`), or
   *   {@link MetricUpdateOptions}; pass `{ regions: batch.regions }` for padded batches
   */
  update(pred: LabelInput, truth: LabelInput, shapeOrOptions?: readonly number[] | MetricUpdateOptions): this {
    const options = updateOptions(shapeOrOptions);
    const pair = toLabelPair(pred, truth, options.shape);
    this.confusion.updateMaps(pair.pred, pair.truth, options.regions);
    this.trimap?.updateMaps(pair.pred, pair.truth, options.regions);
    this.boundary?.updateMaps(pair.pred, pair.truth, options.regions);
    this.images += pair.truth.batch;
    return this;
  }

  /**
   * Adds another evaluator's counts (same options).
   * @param other - evaluator to merge in
   */
  merge(other: SegmentationEvaluator): this {
    // Check everything before changing anything, so a failed merge leaves this evaluator intact.
    if ((this.trimap === undefined) !== (other.trimap === undefined)) {
      throw new ConfigError('other.trimap', 'must be on or off in both evaluators', other.trimap === undefined ? 'off' : 'on');
    }
    if ((this.boundary === undefined) !== (other.boundary === undefined)) {
      throw new ConfigError('other.boundary', 'must be on or off in both evaluators', other.boundary === undefined ? 'off' : 'on');
    }
    if (other.numClasses !== this.numClasses) throw new ConfigError('other.numClasses', `must equal ${this.numClasses}`, other.numClasses);
    this.confusion.merge(other.confusion);
    if (this.trimap !== undefined && other.trimap !== undefined) this.trimap.merge(other.trimap);
    if (this.boundary !== undefined && other.boundary !== undefined) this.boundary.merge(other.boundary);
    this.images += other.images;
    return this;
  }

  /** All metrics. Throws {@link DataError} if no pixel was counted. */
  result(): EvaluationResult {
    const iou = this.confusion.iou();
    const accuracy = this.confusion.classAccuracy();
    const truthPixels = this.confusion.truthPixels();
    const predictedPixels = this.confusion.predictedPixels();
    const result: EvaluationResult = {
      pixels: this.confusion.total,
      images: this.images,
      pixelAccuracy: this.confusion.pixelAccuracy(),
      meanIou: this.confusion.meanIou(),
      meanClassAccuracy: this.confusion.meanClassAccuracy(),
      perClass: this.classNames.map((name, c) => ({
        name,
        iou: iou[c] ?? null,
        accuracy: accuracy[c] ?? null,
        truthPixels: truthPixels[c] as number,
        predictedPixels: predictedPixels[c] as number,
      })),
      confusion: this.confusion.toJSON(),
    };
    if (this.trimap !== undefined) result.trimap = this.trimap.result();
    if (this.boundary !== undefined) result.boundary = this.boundary.result();
    return result;
  }
}
