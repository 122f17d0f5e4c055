/**
 * The local window every segmentation-aware op works in, and the memory
 * layout that makes "unfolding" it cheap on tfjs-wasm.
 *
 * **Window.** A `k × k` grid of taps spaced `dilation` pixels apart, centred
 * on each pixel. Tap `t = a·k + b` (row-major; a = row, b = column) is the
 * neighbour at `(y + (a − c)·dilation, x + (b − c)·dilation)`, `c = (k − 1)/2`:
 * the same order as the rows of a `tf.conv2d` filter `[k, k, Cin, Cout]`.
 *
 * **Layout.** One batch item at a time, flattened to "rows": the H real image
 * rows, each widened to `Wp = W + 2P` columns by zero padding (P ≥ r, the
 * window radius), so `L = H·Wp` positions, `[C, L]` (channels first) or `[L, C]`.
 * Every pixel's neighbour under tap t is then the position `s_t = dy·Wp + dx`
 * further on; a neighbour in a padding row falls outside `[0, L)`.
 * Neighbour maps are made with `tf.pad` only: padding the rows by
 * `(R − s_t, R + s_t)` (R = the largest |s_t|) lines tap t's neighbours up with
 * their pixels in a common frame of `L + 2R` positions, where the per-tap
 * products are summed; one slice at the end takes the L output positions. Why
 * pad and not slice: tfjs-wasm's `slice` copies its *whole source* in
 * JavaScript for every call (a strided 4-D slice then copies pixel by pixel),
 * while `pad` is a native kernel whose cost is its output (measured in
 * `docs/refiners/segaware.md`). Padded columns are computed too (their masks
 * are 0) and cropped at the end.
 *
 * Per-tap masks are kept as k² separate `[1, L]` rows, made one tap at a time,
 * because taking the rows of a stacked `[k², L]` tensor apart costs a copy of
 * the whole stack per slice on wasm. Masks given stacked (the public
 * `segAwareFilter`) are split by halving: ~2·log₂(k²) copies instead of k².
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../core/errors.js';

/** A validated window: odd `kernelSize`, integer `dilation ≥ 1`. */
export interface WindowGeometry {
  /** Side of the window (odd). */
  readonly kernelSize: number;
  /** Spacing between taps, in pixels. */
  readonly dilation: number;
  /** Number of taps, `kernelSize²`. */
  readonly taps: number;
  /** Index of the centre tap, `(taps − 1) / 2`. */
  readonly centre: number;
  /** Zero padding on each side, `dilation · (kernelSize − 1) / 2`. */
  readonly radius: number;
}

/**
 * Validates a window and derives its geometry. Errors name `where.kernelSize`
 * or `where.dilation` (`where/kernelSize` when `where` ends with `/`).
 * @param kernelSize - window side, an odd integer ≥ 1
 * @param dilation - tap spacing, an integer ≥ 1
 * @param where - prefix for error messages, e.g. `localMasks` or `SegAwareBilateralArgs/`
 * @param kernelName - the name of the kernel-size argument
 */
export function windowGeometry(kernelSize: unknown, dilation: unknown, where: string, kernelName = 'kernelSize'): WindowGeometry {
  const sep = where.endsWith('/') ? '' : '.';
  if (typeof kernelSize !== 'number' || !Number.isInteger(kernelSize) || kernelSize < 1) {
    throw new ConfigError(`${where}${sep}${kernelName}`, 'must be an integer >= 1', kernelSize);
  }
  if (kernelSize % 2 === 0) throw new ConfigError(`${where}${sep}${kernelName}`, 'must be odd (the window is centred on each pixel)', kernelSize);
  if (typeof dilation !== 'number' || !Number.isInteger(dilation) || dilation < 1) {
    throw new ConfigError(`${where}${sep}dilation`, 'must be an integer >= 1', dilation);
  }
  const taps = kernelSize * kernelSize;
  return { kernelSize, dilation, taps, centre: (taps - 1) / 2, radius: (dilation * (kernelSize - 1)) / 2 };
}

/** Row and column offset (in pixels) of tap `t`. */
export function tapOffset(geometry: WindowGeometry, t: number): [number, number] {
  const c = (geometry.kernelSize - 1) / 2;
  return [(Math.floor(t / geometry.kernelSize) - c) * geometry.dilation, ((t % geometry.kernelSize) - c) * geometry.dilation];
}

/** Sizes and offsets of the row layout of one image size. */
export interface FlatLayout {
  /** The window. */
  readonly geometry: WindowGeometry;
  /** Image height H. */
  readonly height: number;
  /** Image width W. */
  readonly width: number;
  /** Zero columns added on each side of every row, P ≥ r. */
  readonly columnPad: number;
  /** Padded width `Wp = W + 2P`. */
  readonly paddedWidth: number;
  /** Positions per item, `L = H·Wp`. */
  readonly length: number;
  /** Largest |s_t|, `R = r·Wp + r`. */
  readonly reach: number;
  /** Length of the common frame, `L + 2R`. */
  readonly frameLength: number;
  /** Offset of each tap, `s_t = dy·Wp + dx`. */
  readonly shifts: readonly number[];
}

/**
 * The row layout of an `height × width` image.
 * @param geometry - the window
 * @param height - image height
 * @param width - image width
 * @param columnPad - zero columns per side (at least the window radius; a
 *   larger value lets windows of different sizes share one layout)
 */
export function flatLayout(geometry: WindowGeometry, height: number, width: number, columnPad = geometry.radius): FlatLayout {
  const r = geometry.radius;
  const pad = Math.max(columnPad, r);
  const paddedWidth = width + 2 * pad;
  const shifts = Array.from({ length: geometry.taps }, (_, t) => {
    const [dy, dx] = tapOffset(geometry, t);
    return dy * paddedWidth + dx;
  });
  const length = height * paddedWidth;
  const reach = r * paddedWidth + r;
  return { geometry, height, width, columnPad: pad, paddedWidth, length, reach, frameLength: length + 2 * reach, shifts };
}

/**
 * `[B, H, W, C]` → one row matrix per batch item: `[C, L]` (channels first,
 * for filtering: wasm broadcasts a `[1, L]` mask over it fastest) or `[L, C]`
 * (channels last, for per-tap sums over the channels, fastest along the inner axis).
 * @param x - NHWC input
 * @param layout - from {@link flatLayout}
 * @param channelsFirst - `[C, L]` (true) or `[L, C]` (false)
 */
export function toRows(x: tf.Tensor4D, layout: FlatLayout, channelsFirst = true): tf.Tensor2D[] {
  return tf.tidy(() => {
    const [batch, , , channels] = x.shape;
    const p = layout.columnPad;
    const wide = p === 0 ? x : tf.pad(x, [[0, 0], [0, 0], [p, p], [0, 0]]);
    const items = channelsFirst ? tf.reshape(tf.transpose(wide, [0, 3, 1, 2]), [batch, channels, layout.length]) : tf.reshape(wide, [batch, layout.length, channels]);
    return batch === 1 ? [tf.squeeze(items, [0]) as tf.Tensor2D] : (tf.unstack(items) as tf.Tensor2D[]);
  });
}

/**
 * Pads rows along the position axis into the common frame so that tap `t`'s
 * neighbours line up with their pixels: frame position `R + q` holds row
 * position `q + s_t` (zero where that falls outside the rows).
 * @param rows - `[C, L]` (axis 1) or `[L, C]` (axis 0)
 * @param layout - the layout
 * @param t - tap index
 * @param axis - the position axis
 */
export function alignTap(rows: tf.Tensor2D, layout: FlatLayout, t: number, axis: 0 | 1): tf.Tensor2D {
  const before = layout.reach - layout.shifts[t]!;
  const after = layout.reach + layout.shifts[t]!;
  return tf.pad(rows, axis === 1 ? [[0, 0], [before, after]] : [[before, after], [0, 0]]);
}

/**
 * Crops per-item output rows `[C, L]` to the image and stacks the batch:
 * `[B, H, W, C]`.
 * @param rows - one `[C, L]` per batch item
 * @param layout - their layout
 */
export function cropRows(rows: tf.Tensor2D[], layout: FlatLayout): tf.Tensor4D {
  return tf.tidy(() => {
    const batch = rows.length;
    const channels = rows[0]!.shape[0];
    const p = layout.columnPad;
    const { height, width, paddedWidth } = layout;
    const stacked = batch === 1 ? rows[0]! : tf.stack(rows);
    // Whole rows of Wp stay together: a 2-D slice copies one run per image row.
    const perRow = tf.reshape(stacked, [batch * channels * height, paddedWidth]);
    const cropped = p === 0 ? perRow : tf.slice(perRow, [0, p], [batch * channels * height, width]);
    return tf.transpose(tf.reshape(cropped, [batch, channels, height, width]), [0, 2, 3, 1]) as tf.Tensor4D;
  });
}

/** Cache of in-image tables (plain arrays, not tensors: nothing to leak). */
const inImageCache = new Map<string, Float32Array>();
const IN_IMAGE_CACHE_LIMIT = 16;

/** The in-image table of a layout: `[k²·L]` values, tap-major (cached). */
function inImageTable(layout: FlatLayout, excludeCentre: boolean): Float32Array {
  const { geometry, height, width, paddedWidth, length } = layout;
  const key = `${geometry.kernelSize},${geometry.dilation},${height},${width},${layout.columnPad},${excludeCentre}`;
  let values = inImageCache.get(key);
  if (values === undefined) {
    const p = layout.columnPad;
    values = new Float32Array(geometry.taps * length);
    for (let t = 0; t < geometry.taps; t++) {
      if (excludeCentre && t === geometry.centre) continue;
      const [dy, dx] = tapOffset(geometry, t);
      for (let y = Math.max(0, -dy); y < Math.min(height, height - dy); y++) {
        const row = t * length + y * paddedWidth + p;
        for (let x = Math.max(0, -dx); x < Math.min(width, width - dx); x++) values[row + x] = 1;
      }
    }
    if (inImageCache.size >= IN_IMAGE_CACHE_LIMIT) inImageCache.delete(inImageCache.keys().next().value!);
    inImageCache.set(key, values);
  }
  return values;
}

/**
 * Tap-major `[k², L]` table: 1 where tap t of output position q is a real
 * pixel's neighbour inside the image, 0 elsewhere (out-of-image neighbours,
 * padded columns, and the centre when `excludeCentre`).
 * @param layout - the layout
 * @param excludeCentre - also zero the centre tap (mean-field messages leave a pixel out of its own)
 */
export function inImageTaps(layout: FlatLayout, excludeCentre = false): tf.Tensor2D {
  return tf.tensor2d(inImageTable(layout, excludeCentre), [layout.geometry.taps, layout.length]);
}

/**
 * {@link inImageTaps} as one `[1, L]` row per tap.
 * @param layout - the layout
 * @param excludeCentre - also zero the centre tap
 */
export function inImageRows(layout: FlatLayout, excludeCentre = false): tf.Tensor2D[] {
  const table = inImageTable(layout, excludeCentre);
  const { length } = layout;
  return Array.from({ length: layout.geometry.taps }, (_, t) => tf.tensor2d(table.subarray(t * length, (t + 1) * length), [1, length]));
}

/**
 * Pixel-major masks of one item `[H, W, k²]` → tap-major `[k², L]` (zero on
 * padded columns).
 * @param masks - one item's masks
 * @param layout - the layout
 */
export function masksToTapMajor(masks: tf.Tensor3D, layout: FlatLayout): tf.Tensor2D {
  return tf.tidy(() => {
    const p = layout.columnPad;
    const taps = layout.geometry.taps;
    const padded = p === 0 ? masks : tf.pad(masks, [[0, 0], [p, p], [0, 0]]);
    return tf.transpose(tf.reshape(padded, [layout.length, taps])) as tf.Tensor2D;
  });
}

/**
 * Tap-major masks, one `[k², L]` per item → pixel-major `[B, H, W, k²]`.
 * @param tapMajor - per-item tap-major masks
 * @param layout - their layout
 */
export function tapMajorToMasks(tapMajor: tf.Tensor2D[], layout: FlatLayout): tf.Tensor4D {
  return cropRows(tapMajor, layout);
}

/**
 * Splits `[n, L]` into n rows `[1, L]` by halving: every slice copies its
 * whole source on wasm, so halving copies ~2·log₂(n) sources instead of n.
 * Differentiable (slices and their pad gradients).
 * @param rows - `[n, L]`
 */
export function splitRows(rows: tf.Tensor2D): tf.Tensor2D[] {
  const [n, length] = rows.shape;
  if (n === 1) return [rows];
  const half = Math.floor(n / 2);
  const first = tf.slice(rows, [0, 0], [half, length]);
  const second = tf.slice(rows, [half, 0], [n - half, length]);
  const out = [...splitRows(first), ...splitRows(second)];
  if (half > 1) first.dispose();
  if (n - half > 1) second.dispose();
  return out;
}
