/**
 * The two window kernels the segmentation-aware ops are built from, on one
 * batch item in the row layout of `window.ts`, each with a hand-written
 * gradient:
 *
 * - {@link windowSum}: `y[c, q] = Σ_t m_t[q] · x[c, q + s_t]` (unfold,
 *   multiply by the per-tap mask, reduce over the taps);
 * - {@link windowDistances}: `d_t[q] = dist(e[q], e[q + s_t])` for every tap.
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
import { alignTap, splitRows, type FlatLayout } from './window.js';

/** Distance between two embeddings. */
export type EmbeddingNorm = 'l1' | 'l2';

/** Sums the rows of `[R, F]` into `[1, F]` (a matMul: wasm's reductions over axis 0 transpose first). */
function sumRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(tf.ones([1, x.shape[0]]), x);
}

/** Adds `step()` into `total`, freeing each step's temporaries. */
function accumulate<T extends tf.Tensor>(total: T | undefined, step: () => T): T {
  const next = tf.tidy(() => {
    const term = step();
    return total === undefined ? term : (tf.add(total, term) as T);
  });
  total?.dispose();
  return next;
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
    let frame: tf.Tensor2D | undefined;
    for (let t = 0; t < geometry.taps; t++) frame = accumulate(frame, () => tf.mul(ms[t]!, alignTap(xs, layout, t, 1)));
    const value = tf.slice(frame!, [0, reach], [xs.shape[0], length]);
    frame!.dispose();
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedX, ...savedMasks] = saved as tf.Tensor2D[];
        const g = tf.pad(dy as tf.Tensor2D, [[0, 0], [reach, reach]]);
        let dxFrame: tf.Tensor2D | undefined;
        const dm: tf.Tensor2D[] = [];
        for (let t = 0; t < geometry.taps; t++) {
          dm.push(tf.tidy(() => sumRows(tf.mul(g, alignTap(savedX!, layout, t, 1)))));
          dxFrame = accumulate(dxFrame, () => unalign(tf.mul(savedMasks[t]!, g) as tf.Tensor2D, layout, layout.shifts[t]!, 1));
        }
        const dx = tf.slice(dxFrame!, [0, 2 * reach], [savedX!.shape[0], length]);
        tf.dispose([g, dxFrame!]);
        return [dx, ...dm];
      },
    };
  });
  return op(x, ...framedMasks) as tf.Tensor2D;
}

/** The elementwise distance term and its derivative with respect to the difference. */
function distanceTerms(diff: tf.Tensor2D, norm: EmbeddingNorm): { value: tf.Tensor2D; slope: () => tf.Tensor2D } {
  return norm === 'l1' ? { value: tf.abs(diff), slope: () => tf.sign(diff) } : { value: tf.mul(tf.square(diff), 0.5), slope: () => diff };
}

/**
 * Per-tap distances `[k², L]`: row t holds `dist(e[q], e[q + s_t])` (the
 * centre row is 0; rows of out-of-image taps hold garbage for the caller to
 * mask). Only the taps after the centre are computed: d(i, i + s) = d(i + s, i),
 * so tap −s is tap +s read s positions earlier, out of the same frame.
 * @param e - `[L, D]` rows, channels last
 * @param layout - the layout
 * @param norm - `'l1'` (Σ|Δ|) or `'l2'` (½ΣΔ²)
 */
export function windowDistances(e: tf.Tensor2D, layout: FlatLayout, norm: EmbeddingNorm): tf.Tensor2D {
  const { geometry, reach, length, frameLength } = layout;
  // Frame position f: e[f − R + s_t] − e[f − R] (`centre` = the rows framed at s = 0).
  const frameDiff = (es: tf.Tensor2D, centre: tf.Tensor2D, t: number): tf.Tensor2D => tf.sub(alignTap(es, layout, t, 0), centre);
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const es = args[0] as tf.Tensor2D;
    save([es]);
    const centre = alignTap(es, layout, geometry.centre, 0);
    const perTap: tf.Tensor2D[] = new Array<tf.Tensor2D>(geometry.taps);
    perTap[geometry.centre] = tf.zeros([1, length]);
    for (let t = geometry.centre + 1; t < geometry.taps; t++) {
      const s = layout.shifts[t]!;
      const [ahead, behind] = tf.tidy(() => {
        const dist = tf.reshape(tf.sum(distanceTerms(frameDiff(es, centre, t), norm).value, 1), [1, frameLength]);
        return [tf.slice(dist, [0, reach], [1, length]), tf.slice(dist, [0, reach - s], [1, length])] as [tf.Tensor2D, tf.Tensor2D];
      });
      perTap[t] = ahead;
      perTap[geometry.taps - 1 - t] = behind;
    }
    const value = tf.concat(perTap, 0) as tf.Tensor2D;
    tf.dispose([...perTap, centre]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const savedE = saved[0] as tf.Tensor2D;
        const savedCentre = alignTap(savedE, layout, geometry.centre, 0);
        const upstream = splitRows(dy as tf.Tensor2D);
        let deFrame: tf.Tensor2D | undefined;
        for (let t = geometry.centre + 1; t < geometry.taps; t++) {
          const s = layout.shifts[t]!;
          deFrame = accumulate(deFrame, () => {
            // Tap +s read the frame from R, tap −s from R − s.
            const mirror = upstream[geometry.taps - 1 - t]!;
            const gDist = tf.add(tf.pad(upstream[t]!, [[0, 0], [reach, reach]]), tf.pad(mirror, [[0, 0], [reach - s, reach + s]]));
            const push = tf.mul(tf.reshape(gDist, [frameLength, 1]), distanceTerms(frameDiff(savedE, savedCentre, t), norm).slope()) as tf.Tensor2D;
            // +push to e[f − R + s] (tap t's side), −push to e[f − R] (the centre's).
            return tf.sub(unalign(push, layout, s, 0), unalign(push, layout, 0, 0)) as tf.Tensor2D;
          });
        }
        // (With one tap, splitRows returns dy itself, which the engine owns.)
        tf.dispose(upstream.length > 1 ? [...upstream, savedCentre] : [savedCentre]);
        if (deFrame === undefined) return tf.zerosLike(savedE);
        const de = tf.slice(deFrame, [2 * reach, 0], [length, savedE.shape[1]]);
        deFrame.dispose();
        return de;
      },
    };
  });
  return op(e) as tf.Tensor2D;
}
