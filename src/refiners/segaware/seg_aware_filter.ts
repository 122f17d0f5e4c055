/**
 * The segmentation-aware bilateral filter (Harley et al. 2017, Eq. 4): a
 * normalised masked average over each pixel's window,
 * `y_i = Σ_t m_it · x_{t(i)} / Σ_t m_it`, repeatable with the same masks.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '../../core/errors.js';
import { requireRank4, type TapMajorMasks } from './local_masks.js';
import { cropRows, flatLayout, inImageRows, masksToTapMajor, splitRows, toRows, windowGeometry, type FlatLayout, type WindowGeometry } from './window.js';
import { frameMask, windowSum } from './window_ops.js';

/** Options of {@link segAwareFilter}. */
export interface SegAwareFilterOptions {
  /** Window side (odd); must match the masks' `k²` channels. */
  kernelSize: number;
  /**
   * Spacing between taps; must match the masks'.
   * @defaultValue 1
   */
  dilation?: number;
  /**
   * How many times the filter is applied, each time with the same masks.
   * @defaultValue 1
   */
  repeats?: number;
}

/** One item's masks split per tap once, reused by every application of the filter. */
export interface PreparedMasks {
  /** The layout shared with the filtered data. */
  readonly layout: FlatLayout;
  /** One framed `[1, L + 2R]` mask per tap (excluded taps already zero), see `frameMask`. */
  readonly perTap: tf.Tensor2D[];
  /** `1 / Σ_t m_t` as `[1, L]` (0 where every tap is masked out). */
  readonly inverseSum: tf.Tensor2D;
}

/** Smallest mask sum treated as non-zero: an all-zero window yields 0, not NaN. */
const MIN_MASK_SUM = 1e-12;

/**
 * Applies the exclusion rules to one item's per-tap masks, and frames them.
 * Out-of-image taps are zeroed here too, so hand-made masks obey the rule.
 * @param masks - one `[1, L]` row per tap
 * @param layout - their layout
 * @param excludeCentre - also drop the centre tap
 * @internal
 */
export function prepareMasks(masks: tf.Tensor2D[], layout: FlatLayout, excludeCentre = false): PreparedMasks {
  const [perTap, inverseSum] = tf.tidy(() => {
    const inside = inImageRows(layout, excludeCentre);
    const kept = masks.map((m, t) => tf.mul(m, inside[t]!) as tf.Tensor2D);
    const total = kept.length === 1 ? kept[0]! : tf.addN(kept);
    const inverse = tf.div(1, tf.maximum(total, MIN_MASK_SUM)) as tf.Tensor2D;
    return [kept.map((m) => frameMask(m, layout)), inverse] as [tf.Tensor2D[], tf.Tensor2D];
  });
  return { layout, perTap, inverseSum };
}

/**
 * One normalised masked average on rows: `[C, L]` in, `[C, L]` out, zero on
 * padded columns (because the masks are), so it can be applied again as is.
 * @param rows - `[C, L]` rows, channels first
 * @param prepared - from {@link prepareMasks}
 * @internal
 */
export function maskedAverageRows(rows: tf.Tensor2D, prepared: PreparedMasks): tf.Tensor2D {
  return tf.tidy(() => tf.mul(windowSum(rows, prepared.perTap, prepared.layout), prepared.inverseSum) as tf.Tensor2D);
}

/**
 * Runs the masked average `repeats` times per item with the same masks and
 * crops the result to `[B, H, W, C]`.
 * @param x - `[B, H, W, C]`
 * @param prepared - one per batch item (or one shared by all)
 * @param repeats - number of applications (≥ 1)
 * @internal
 */
export function repeatedMaskedAverage(x: tf.Tensor4D, prepared: PreparedMasks[], repeats: number): tf.Tensor4D {
  return tf.tidy(() => {
    const layout = prepared[0]!.layout;
    const rows = toRows(x, layout).map((item, b) => {
      const masks = prepared[prepared.length === 1 ? 0 : b]!;
      let y = item;
      for (let r = 0; r < repeats; r++) y = maskedAverageRows(y, masks);
      return y;
    });
    return cropRows(rows, layout);
  });
}

/**
 * Prepares the per-tap masks of a batch.
 * @internal
 */
export function prepareBatch(masks: TapMajorMasks, excludeCentre = false): PreparedMasks[] {
  return masks.items.map((item) => prepareMasks(item, masks.layout, excludeCentre));
}

/**
 * Checks that masks fit `x` and the window; errors name the arguments.
 * @internal
 */
export function checkMasksFit(x: tf.Tensor4D, masks: tf.Tensor4D, geometry: WindowGeometry, xName: string, masksName: string): void {
  const [batch, height, width] = x.shape;
  const [maskBatch, maskHeight, maskWidth, taps] = masks.shape;
  if (maskHeight !== height || maskWidth !== width) {
    throw new ShapeError(masksName, `must have the height and width of ${xName} (${height}×${width})`, masks);
  }
  if (taps !== geometry.taps) {
    throw new ShapeError(masksName, `must have kernelSize² = ${geometry.taps} channels (kernelSize ${geometry.kernelSize})`, masks);
  }
  if (maskBatch !== batch && maskBatch !== 1) throw new ShapeError(masksName, `must have ${xName}'s batch size ${batch} (or 1)`, masks);
}

/**
 * Segmentation-aware bilateral filter (Eq. 4): `y_i = Σ_t m_it x_{t(i)} / Σ_t m_it`
 * over the `k × k` dilated window, applied `repeats` times with the same masks.
 * Taps outside the image are excluded (their mask is treated as 0), so border
 * pixels average over fewer neighbours. Differentiable with respect to `x` and
 * the masks (hence the embeddings and λ that made them).
 * @param x - `[B, H, W, C]` values to filter (e.g. logits)
 * @param masks - `[B, H, W, k²]` from {@link localMasks} (batch 1 broadcasts)
 * @param options - window and repeats
 */
export function segAwareFilter(x: tf.Tensor4D, masks: tf.Tensor4D, options: SegAwareFilterOptions): tf.Tensor4D {
  requireRank4(x, 'x');
  requireRank4(masks, 'masks');
  const geometry = windowGeometry(options.kernelSize, options.dilation ?? 1, 'segAwareFilter');
  const repeats = options.repeats ?? 1;
  if (!Number.isInteger(repeats) || repeats < 1) throw new ConfigError('segAwareFilter.repeats', 'must be an integer >= 1', repeats);
  checkMasksFit(x, masks, geometry, 'x', 'masks');
  return tf.tidy(() => {
    const layout = flatLayout(geometry, x.shape[1], x.shape[2]);
    const items = (masks.shape[0] === 1 ? [tf.squeeze(masks, [0])] : tf.unstack(masks)) as tf.Tensor3D[];
    const prepared = items.map((m) => prepareMasks(splitRows(masksToTapMajor(m, layout)), layout));
    return repeatedMaskedAverage(x, prepared, repeats);
  });
}
