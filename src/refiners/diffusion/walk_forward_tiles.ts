/**
 * The blocked walk's forward over square tiles of S = ΨΨᵀ, each symmetric
 * pair visited once (wasm kernels only).
 *
 * A tile S_IJ (J ≥ I) holds rows I of S and, transposed, rows J: the rows
 * of P for nodes I need `exp(S_IJ − m_I)`, those for nodes J need
 * `exp(S_IJᵀ − m_J)`. Row maxima are not known before every tile of a row
 * has been seen, so the softmax runs online (as flash attention does): per
 * node a running maximum m, sum l and `u = Σ exp(S − m)·y`; a tile that
 * raises m rescales l and u by `exp(m_old − m_new)`. At the end
 * `O = u / l` and `lse = m + log l`, exactly as the row-block forward
 * computes them, up to float32 rounding.
 *
 * FLOPs: `2N²(d/2 + K)` — ΨΨᵀ over half the pairs, the P·y products over
 * all — against `2N²(d + K)` for row blocks; exp is still evaluated once per
 * element of S.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { columnTiles, rowTiles } from './walk_backward_tiles.js';
import type { OnlineSoftmaxState, WalkKernels } from './walk_kernels_wasm.js';

/** Ψ, Ψᵀ and y cut into tiles once for the forward. */
export interface ForwardTileOperands {
  /** Rows per tile. */
  readonly tile: number;
  /** Number of tiles, ⌈N / tile⌉. */
  readonly count: number;
  /** Ψ_I `[b_I, d]`. */
  readonly psi: tf.Tensor2D[];
  /** Ψ_Iᵀ `[d, b_I]`. */
  readonly psiT: tf.Tensor2D[];
  /** y_I `[b_I, K]`. */
  readonly y: tf.Tensor2D[];
}

/**
 * Cuts Ψ `[N, d]` and y `[N, K]` into row tiles of `tile` rows (and Ψᵀ into column tiles).
 * @param tile - rows per tile (≥ 1)
 */
export function forwardTileOperands(psi: tf.Tensor2D, y: tf.Tensor2D, tile: number): ForwardTileOperands {
  const psiT = tf.transpose(psi) as tf.Tensor2D;
  const operands: ForwardTileOperands = {
    tile,
    count: Math.ceil(psi.shape[0] / tile),
    psi: rowTiles(psi, tile),
    psiT: columnTiles(psiT, tile),
    y: rowTiles(y, tile),
  };
  psiT.dispose();
  return operands;
}

/** Disposes what {@link forwardTileOperands} made. */
export function disposeForwardTileOperands(ops: ForwardTileOperands): void {
  tf.dispose([...ops.psi, ...ops.psiT, ...ops.y]);
}

/**
 * Folds the pairs (I, J ≥ I) for the row tiles I that `take` hands out
 * (until it returns −1) into a fresh online-softmax state for all N nodes
 * (nodes no pair touched keep m = −∞, l = 0, u = 0). The caller owns the
 * returned state.
 * @param ops - see {@link forwardTileOperands}
 * @param n - N
 * @param take - the next row tile to process, or −1
 */
export function forwardTiles(ops: ForwardTileOperands, n: number, take: () => number, kernels: WalkKernels): OnlineSoftmaxState {
  const k = ops.y[0]!.shape[1];
  const state = kernels.onlineState(n, k);
  for (let i = take(); i >= 0; i = take()) {
    for (let j = i; j < ops.count; j++) {
      const s = tf.matMul(ops.psi[i]!, ops.psiT[j]!) as tf.Tensor2D;
      const mirrored = kernels.tileExp(s, state, i * ops.tile, j * ops.tile); // s ← exp(s − m_I)
      const rowsProduct = tf.matMul(s, ops.y[j]!) as tf.Tensor2D;
      kernels.scaleAdd(state, i * ops.tile, rowsProduct);
      if (mirrored !== undefined) {
        const columnsProduct = tf.matMul(mirrored, ops.y[i]!) as tf.Tensor2D;
        kernels.scaleAdd(state, j * ops.tile, columnsProduct);
        tf.dispose([mirrored, columnsProduct]);
      }
      tf.dispose([s, rowsProduct]);
    }
  }
  return state;
}

/**
 * Merges online-softmax states (e.g. the helper threads' partial ones):
 * `m = max m_t`, `l = Σ l_t·exp(m_t − m)`, `u = Σ u_t·exp(m_t − m)`.
 * Does not dispose its inputs.
 */
export function mergeOnlineStates(states: Array<Pick<OnlineSoftmaxState, 'u' | 'm' | 'l'>>): Pick<OnlineSoftmaxState, 'u' | 'm' | 'l'> {
  return tf.tidy(() => {
    const m = states.map((s) => s.m).reduce((a, b) => tf.maximum(a, b)) as tf.Tensor1D;
    const scales = states.map((s) => tf.exp(tf.sub(s.m, m)));
    const l = tf.addN(states.map((s, t) => tf.mul(s.l, scales[t]!))) as tf.Tensor1D;
    const u = tf.addN(states.map((s, t) => tf.mul(s.u, tf.reshape(scales[t]!, [-1, 1])))) as tf.Tensor2D;
    return { u, m, l };
  });
}

/** `[O, lse]` of a finished state: `O = u / l`, `lse = m + log l`. */
export function finishOnlineState(state: Pick<OnlineSoftmaxState, 'u' | 'm' | 'l'>): [tf.Tensor2D, tf.Tensor1D] {
  return tf.tidy(() => [tf.div(state.u, tf.reshape(state.l, [-1, 1])) as tf.Tensor2D, tf.add(state.m, tf.log(state.l)) as tf.Tensor1D]);
}
