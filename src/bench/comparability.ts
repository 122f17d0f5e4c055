/**
 * Says when a bench run cannot compare its entries: an entry that predicts a
 * single class on the whole validation split (it did not learn), or every
 * entry with the same mIoU (nothing to rank). Pure: reads a
 * {@link BenchResults}, returns warnings for the terminal and the reports.
 * @module
 */
import type { BenchResults, EntryResult } from './results.js';

/** Entries whose mIoU differ by at most this much (as a fraction, 1e-4 = 0.01 %) tie. */
export const TIE_TOLERANCE = 1e-4;

/** Why a warning was raised. */
export type ComparabilityWarningKind = 'single-class' | 'all-tie';

/** One reason the report's comparison cannot be trusted. */
export interface ComparabilityWarning {
  /** `single-class`: one entry predicts a single class; `all-tie`: every entry has the same mIoU. */
  kind: ComparabilityWarningKind;
  /** Labels of the entries concerned. */
  entries: string[];
  /** The warning in plain words, naming the entries (no markup). */
  message: string;
}

/** How {@link singleClassPrediction} decided. */
export interface SingleClassPrediction {
  /** Index of the only class predicted. */
  classIndex: number;
  /**
   * `exact`: from `predictedPixels` (the confusion matrix's columns);
   * `inferred`: from per-class IoU and pixel accuracy (older results.json
   * without `predictedPixels`).
   */
  evidence: 'exact' | 'inferred';
}

/**
 * The one class an entry predicted on every scored validation pixel, or
 * undefined when it predicted several (or when that cannot be told).
 *
 * With `entry.predictedPixels` the answer is exact: exactly one class has a
 * non-zero count. Without it, the signature of a constant predictor is
 * used: exactly one class has IoU > 0, every other is 0 or null, and that
 * IoU equals the pixel accuracy (a constant predictor of class c has
 * IoU_c = |truth c| / |pixels| = pixel accuracy).
 * @param entry - one entry of a run
 */
export function singleClassPrediction(entry: EntryResult): SingleClassPrediction | undefined {
  if (entry.predictedPixels !== undefined) {
    const predicted = entry.predictedPixels.flatMap((count, c) => (count > 0 ? [c] : []));
    return predicted.length === 1 ? { classIndex: predicted[0]!, evidence: 'exact' } : undefined;
  }
  const positive = entry.perClassIou.flatMap((iou, c) => (iou !== null && iou > 0 ? [c] : []));
  if (positive.length !== 1) return undefined;
  const c = positive[0]!;
  const others = entry.perClassIou.every((iou, k) => k === c || iou === null || iou === 0);
  const iou = entry.perClassIou[c]!;
  return others && Math.abs(iou - entry.pixelAccuracy) <= 1e-9 * Math.max(1, iou) ? { classIndex: c, evidence: 'inferred' } : undefined;
}

const quoteList = (labels: readonly string[]): string => labels.map((l) => `"${l}"`).join(', ');

/**
 * Every reason the run's comparison cannot rank its entries, in entry order:
 *
 * - `single-class`, one per entry that predicts a single class on the whole
 *   validation split (see {@link singleClassPrediction}): it did not learn;
 * - `all-tie`, when there are at least two entries and all their mIoU are
 *   within {@link TIE_TOLERANCE} of each other.
 *
 * Returns an empty array when there is nothing to warn about.
 * @param results - a bench run's results (as in results.json)
 * @example
 * ```ts illustrative
 * for (const w of comparabilityWarnings(results)) console.warn(w.message);
 * ```
 */
export function comparabilityWarnings(results: BenchResults): ComparabilityWarning[] {
  const warnings: ComparabilityWarning[] = [];
  const classes = results.dataset.classes;
  for (const entry of results.entries) {
    const single = singleClassPrediction(entry);
    if (single === undefined) continue;
    const name = classes[single.classIndex] ?? `class ${single.classIndex}`;
    const what = single.evidence === 'exact' ? `predicts only '${name}' on every validation pixel` : `appears to predict only '${name}' on every validation pixel (its only class with IoU > 0, equal to its pixel accuracy)`;
    warnings.push({
      kind: 'single-class',
      entries: [entry.label],
      message: `"${entry.label}" ${what}: it did not learn; the comparison cannot rank it.`,
    });
  }
  const scored = results.entries.filter((e) => Number.isFinite(e.meanIou));
  if (scored.length >= 2) {
    const values = scored.map((e) => e.meanIou);
    const low = Math.min(...values);
    if (Math.max(...values) - low <= TIE_TOLERANCE) {
      const labels = scored.map((e) => e.label);
      warnings.push({
        kind: 'all-tie',
        entries: labels,
        message:
          `All ${labels.length} entries (${quoteList(labels)}) have the same mIoU, ${(100 * low).toFixed(2)}%: ` +
          'the comparison cannot rank them (most likely none of them learned: too little training or data).',
      });
    }
  }
  return warnings;
}
