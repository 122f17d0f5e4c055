/**
 * Metrics over a split, computed on CPU over typed arrays: confusion matrix
 * (per-class IoU, VOC mean IoU, accuracies), trimap IoU, boundary F-score,
 * and an evaluator that accumulates all of them.
 * @module
 */
export { toLabelMaps, toLabelPair, type LabelPair, imageViews, type LabelInput, type LabelMaps, type MetricUpdateOptions, type ImageView } from './labels.js';
export { ConfusionMatrix, type ConfusionMatrixOptions, type ConfusionMatrixJson } from './confusion_matrix.js';
export { squaredDistanceTransform } from './distance_transform.js';
export { labelBoundaries, type BoundaryRule } from './boundaries.js';
export { TrimapIou, trimapIou, DEFAULT_TRIMAP_RADII, type TrimapOptions, type TrimapResult } from './trimap.js';
export { BoundaryFScore, boundaryFScore, type BoundaryFOptions, type BoundaryFResult } from './boundary_f.js';
export { SegmentationEvaluator, type EvaluatorOptions, type EvaluationResult, type ClassMetrics } from './evaluator.js';
