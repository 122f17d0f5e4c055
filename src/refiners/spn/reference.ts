/**
 * A plain reference implementation of SPN propagation: column by column with
 * slices and pads, differentiated by tfjs's own backprop, every direction by
 * transposing/reversing the image to left-to-right. Slow, but independent of
 * the production path (`scan.ts`, custom gradient), which tests and the
 * benchmark compare against it.
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs';
import { isHorizontal, isReversed, SPN_DIRECTIONS, type SpnDirection, type SpnMode, type SpnNormalize } from './directions.js';

/** Brings direction `direction` to left-to-right (an involution). */
function toLeftToRight<T extends tf.Tensor>(t: T, direction: SpnDirection): T {
  const perm = t.shape.map((_, i) => (i === 1 ? 2 : i === 2 ? 1 : i));
  const oriented = isHorizontal(direction) ? t : tf.transpose(t, perm);
  return (isReversed(direction) ? tf.reverse(oriented, 2) : oriented) as T;
}

function fromLeftToRight<T extends tf.Tensor>(t: T, direction: SpnDirection): T {
  const ordered = isReversed(direction) ? tf.reverse(t, 2) : t;
  return (isHorizontal(direction) ? ordered : tf.transpose(ordered, t.shape.map((_, i) => (i === 1 ? 2 : i === 2 ? 1 : i)))) as T;
}

/**
 * One direction, as {@link spnPropagate} (same arguments), by plain tfjs ops.
 * @internal
 */
export function spnPropagateReference(x: tf.Tensor4D, gates: tf.Tensor4D, direction: SpnDirection, mode: SpnMode = 'three-way', normalize: SpnNormalize = 'when-needed'): tf.Tensor4D {
  return tf.tidy(() => {
    const taps = mode === 'three-way' ? 3 : 1;
    const [b, , , c] = x.shape;
    const xs = toLeftToRight(x, direction);
    const [, rows, steps] = xs.shape;
    // [B, R, L, taps, C]
    let g = toLeftToRight(tf.reshape(gates, [b, x.shape[1], x.shape[2], taps, c]) as tf.Tensor5D, direction);
    if (normalize !== 'none') {
      const sum = tf.sum(tf.abs(g), 3, true);
      g = tf.div(g, normalize === 'when-needed' ? tf.maximum(sum, 1) : tf.add(sum, tf.sub(1, tf.sign(sum))));
    }
    const tap = (k: number, t: number): tf.Tensor3D => {
      const column = tf.reshape(tf.slice(g, [0, 0, t, k, 0], [b, rows, 1, 1, c]), [b, rows, c]) as tf.Tensor3D;
      // Out-of-image neighbours: g1 on row 0, g3 on the last row.
      if (taps === 3 && k === 0) return tf.concat([tf.zeros([b, 1, c]), tf.slice(column, [0, 1, 0], [b, rows - 1, c])], 1);
      if (taps === 3 && k === 2) return tf.concat([tf.slice(column, [0, 0, 0], [b, rows - 1, c]), tf.zeros([b, 1, c])], 1);
      return column;
    };
    const columns: tf.Tensor3D[] = [tf.reshape(tf.slice(xs, [0, 0, 0, 0], [b, rows, 1, c]), [b, rows, c])];
    for (let t = 1; t < steps; t++) {
      const xt = tf.reshape(tf.slice(xs, [0, 0, t, 0], [b, rows, 1, c]), [b, rows, c]);
      const prev = columns[t - 1]!;
      const gs = Array.from({ length: taps }, (_, k) => tap(k, t));
      let h = tf.mul(tf.sub(1, tf.addN(gs)), xt);
      if (taps === 1) {
        h = tf.add(h, tf.mul(gs[0]!, prev));
      } else {
        const padded = tf.pad(prev, [[0, 0], [1, 1], [0, 0]]);
        for (let k = 0; k < 3; k++) h = tf.add(h, tf.mul(gs[k]!, tf.slice(padded, [0, k, 0], [b, rows, c])));
      }
      columns.push(h as tf.Tensor3D);
    }
    return fromLeftToRight(tf.stack(columns, 2) as tf.Tensor4D, direction);
  });
}

/**
 * {@link spn} by plain tfjs ops (four directions, max merge, `passes` times).
 * @internal
 */
export function spnReference(x: tf.Tensor4D, gates: tf.Tensor4D, passes = 2, mode: SpnMode = 'three-way', normalize: SpnNormalize = 'when-needed'): tf.Tensor4D {
  return tf.tidy(() => {
    const chunks = tf.split(gates, 4, 3) as tf.Tensor4D[];
    let h = x;
    for (let pass = 0; pass < passes; pass++) {
      h = SPN_DIRECTIONS.map((d, i) => spnPropagateReference(h, chunks[i]!, d, mode, normalize)).reduce((m, o) => tf.maximum(m, o));
    }
    return h;
  });
}
