/**
 * The two window kernels the segmentation-aware ops are built from, on one
 * batch item in the row layout of `window.ts`, each with a hand-written
 * gradient:
 *
 * - {@link windowSum}: `y[c, q] = Σ_t m_t[q] · x[c, q + s_t]` (unfold,
 *   multiply by the per-tap mask, reduce over the taps);
 * - {@link tapDistances}: `d_t[q] = dist(e[q], e[q + s_t])` for every tap.
 *
 * Both are plain tfjs ops (pad, mul, add, sum, matMul, slice) run tap by tap.
 * The gradients are written by hand because tfjs's autodiff keeps the gradient
 * of every consumer of a shared input alive until the backward pass ends: with
 * k² taps reading one input that is k² full-size tensors at once (measured
 * 4.6 GB for a 9×9 window on 128×128×64). Here each tap's contribution is
 * added into one accumulator and freed.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { alignTap, type FlatLayout } from './window.js';

/** Distance between two embeddings. */
export type EmbeddingNorm = 'l1' | 'l2';

/** Sums the rows of `[R, F]` into `[1, F]` (a matMul: wasm's reductions over axis 0 transpose first). */
function sumRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(tf.ones([1, x.shape[0]]), x);
}

/**
 * `Σ_t term(t)` for t in `[0, count)`, added tap by tap with each step's
 * temporaries freed. (Pairwise adds measured faster on wasm than `addN` over
 * groups of 8 terms: 193 vs 294 ms for a 9×9 window on 128×128×21.)
 */
function sumOverTaps<T extends tf.Tensor>(count: number, term: (t: number) => T): T {
  let total: T | undefined;
  for (let t = 0; t < count; t++) {
    const previous = total;
    total = tf.tidy(() => {
      const next = term(t);
      return previous === undefined ? next : (tf.add(previous, next) as T);
    });
    previous?.dispose();
  }
  return total!;
}

/**
 * Pads a frame-aligned gradient so that row position p lands at `p + 2R`:
 * frame position f of tap t read row position `f − R + s_t`.
 */
function unalign(frame: tf.Tensor2D, layout: FlatLayout, shift: number, axis: 0 | 1): tf.Tensor2D {
  const before = layout.reach + shift;
  const after = layout.reach - shift;
  return tf.pad(frame, axis === 1 ? [[0, 0], [before, after]] : [[before, after], [0, 0]]);
}

/**
 * Frames a `[1, L]` per-tap mask (pads R zeros on both sides), the form
 * {@link windowSum} takes.
 * @param mask - `[1, L]`
 * @param layout - the layout
 */
export function frameMask(mask: tf.Tensor2D, layout: FlatLayout): tf.Tensor2D {
  return tf.pad(mask, [[0, 0], [layout.reach, layout.reach]]);
}

/**
 * `y[c, q] = Σ_t m_t[q] · x[c, q + s_t]` (0 where `q + s_t` is outside the rows).
 * @param x - `[C, L]` rows, channels first
 * @param framedMasks - one `[1, L + 2R]` mask per tap, from {@link frameMask}
 * @param layout - the layout
 * @returns `[C, L]`
 */
export function windowSum(x: tf.Tensor2D, framedMasks: tf.Tensor2D[], layout: FlatLayout): tf.Tensor2D {
  const { geometry, reach, length } = layout;
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xs = args[0] as tf.Tensor2D;
    const ms = args.slice(1, 1 + geometry.taps) as tf.Tensor2D[];
    save([xs, ...ms]);
    const frame = sumOverTaps(geometry.taps, (t) => tf.mul(ms[t]!, alignTap(xs, layout, t, 1)) as tf.Tensor2D);
    const value = tf.slice(frame, [0, reach], [xs.shape[0], length]);
    frame.dispose();
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedX, ...savedMasks] = saved as tf.Tensor2D[];
        const g = tf.pad(dy as tf.Tensor2D, [[0, 0], [reach, reach]]);
        const dm = Array.from({ length: geometry.taps }, (_, t) => tf.tidy(() => sumRows(tf.mul(g, alignTap(savedX!, layout, t, 1)))));
        const dxFrame = sumOverTaps(geometry.taps, (t) => unalign(tf.mul(savedMasks[t]!, g) as tf.Tensor2D, layout, layout.shifts[t]!, 1));
        const dx = tf.slice(dxFrame, [0, 2 * reach], [savedX!.shape[0], length]);
        tf.dispose([g, dxFrame]);
        return [dx, ...dm];
      },
    };
  });
  return op(x, ...framedMasks) as tf.Tensor2D;
}

/**
 * The elementwise distance term and its derivative with respect to the
 * difference. The L1 slope is sign(Δ), computed as `clip(Δ·1e30, −1, 1)`: the
 * same values (0 at 0, ±1 wherever |Δ| ≥ 1e−30, a valid subgradient in
 * between), and wasm's `Sign` kernel measured ~3× slower.
 */
function distanceTerms(diff: tf.Tensor2D, norm: EmbeddingNorm): { value: tf.Tensor2D; slope: () => tf.Tensor2D } {
  return norm === 'l1'
    ? { value: tf.abs(diff), slope: () => tf.clipByValue(tf.mul(diff, 1e30), -1, 1) as tf.Tensor2D }
    : { value: tf.mul(tf.square(diff), 0.5), slope: () => diff };
}

/**
 * One frame of pair distances for positive tap t (offset s = s_t > 0):
 * frame position f holds `dist(e[f − R], e[f − R + s])`, for f over the whole
 * frame `[0, L + 2R)` (zero rows stand in outside the rows).
 * @param e - `[L, D]` rows, channels last
 * @param centre - `e` aligned for the centre tap (`alignTap(e, layout, centre, 0)`),
 *   shared by every tap's forward pass (the backward pass recomputes it)
 * @param layout - the layout
 * @param t - a tap after the centre
 * @param norm - `'l1'` (Σ|Δ|) or `'l2'` (½ΣΔ²)
 * @returns `[1, L + 2R]`
 */
function pairDistanceFrame(e: tf.Tensor2D, centre: tf.Tensor2D, layout: FlatLayout, t: number, norm: EmbeddingNorm): tf.Tensor2D {
  const { geometry, frameLength, length, reach } = layout;
  const s = layout.shifts[t]!;
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const es = args[0] as tf.Tensor2D;
    save([es]);
    const value = tf.tidy(() => tf.reshape(tf.sum(distanceTerms(tf.sub(alignTap(es, layout, t, 0), centre), norm).value, 1), [1, frameLength]) as tf.Tensor2D);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const savedE = saved[0] as tf.Tensor2D;
          const diff = tf.sub(alignTap(savedE, layout, t, 0), alignTap(savedE, layout, geometry.centre, 0)) as tf.Tensor2D;
          const push = tf.mul(tf.reshape(dy, [frameLength, 1]), distanceTerms(diff, norm).slope()) as tf.Tensor2D;
          // diff = e[f − R + s] − e[f − R]: +push to tap t's side, −push to the centre's.
          const frame = tf.sub(unalign(push, layout, s, 0), unalign(push, layout, 0, 0)) as tf.Tensor2D;
          return tf.slice(frame, [2 * reach, 0], [length, savedE.shape[1]]);
        }),
    };
  });
  return op(e) as tf.Tensor2D;
}

/**
 * Per-tap distances, one `[1, L]` row per tap: row t holds
 * `dist(e[q], e[q + s_t])` (the centre row is 0; rows of out-of-image taps hold
 * garbage for the caller to mask). Only the taps after the centre are computed:
 * d(i, i + s) = d(i + s, i), so tap −s is tap +s read s positions earlier out
 * of the same frame. One differentiable op per computed tap, so no stacked
 * tensor has to be split again (splitting costs k² copies of it on wasm); the
 * price is that a backward pass holds one `[L, D]` gradient per computed tap.
 * @param e - `[L, D]` rows, channels last
 * @param layout - the layout
 * @param norm - `'l1'` (Σ|Δ|) or `'l2'` (½ΣΔ²)
 */
export function tapDistances(e: tf.Tensor2D, layout: FlatLayout, norm: EmbeddingNorm): tf.Tensor2D[] {
  const { geometry, reach, length } = layout;
  return tf.tidy(() => {
    const rows: tf.Tensor2D[] = new Array<tf.Tensor2D>(geometry.taps);
    rows[geometry.centre] = tf.zeros([1, length]);
    const centre = alignTap(e, layout, geometry.centre, 0);
    for (let t = geometry.centre + 1; t < geometry.taps; t++) {
      const s = layout.shifts[t]!;
      const frame = pairDistanceFrame(e, centre, layout, t, norm);
      rows[t] = tf.slice(frame, [0, reach], [1, length]);
      rows[geometry.taps - 1 - t] = tf.slice(frame, [0, reach - s], [1, length]);
    }
    return rows;
  });
}
