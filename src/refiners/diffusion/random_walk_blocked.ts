/**
 * The walk's propagation `P·y = softmax_rows(ΨΨᵀ)·y` without the N×N matrix:
 * tiles of S (or, without the fused kernels, row blocks in the forward) are
 * produced and consumed at once (as flash attention does), and a custom
 * gradient recomputes them.
 *
 * Forward: `O_i = Σ_j exp(S_ij − m_i) y_j / l_i` with `l_i = Σ_j exp(S_ij − m_i)`,
 * and the row's log-sum-exp `lse_i = m_i + log l_i` is kept (N floats).
 * With the fused wasm kernels it runs over symmetric tile pairs with an
 * online softmax (`walk_forward_tiles.ts`); with tfjs ops, per block of rows
 * (`S_i = Ψ_i Ψᵀ`, exact row max m_i).
 *
 * Backward (dO given): `D_i = dO_i·O_i`, and S is recomputed tile by tile,
 * using its symmetry (see `walk_backward_tiles.ts`): no N×N buffer, and S,
 * A and C for the upper triangle of tiles only.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { TileQueue } from './tile_queue.js';
import { backwardTiles, DEFAULT_WALK_TILE, disposeTileOperands, tileOperands } from './walk_backward_tiles.js';
import { disposeForwardTileOperands, finishOnlineState, forwardTileOperands, forwardTiles, mergeOnlineStates } from './walk_forward_tiles.js';
import { walkKernels, type WalkKernels } from './walk_kernels_wasm.js';
import { activeWalkPool, type WalkPool } from './walk_pool.js';

/** Options of {@link blockedPropagation}. */
export interface BlockedPropagationOptions {
  /** Rows of P per block of the forward with tfjs ops (≥ 1); default `defaultBlockSize(N)`. */
  blockSize?: number;
  /** Edge of the square tiles of S: the backward's, and the forward's with the fused kernels (≥ 1); default `DEFAULT_WALK_TILE`. */
  tileSize?: number;
  /** `fused` (default): the SIMD kernels when on tfjs-wasm; `ops`: plain tfjs ops everywhere. */
  kernels?: 'fused' | 'ops';
  /** Share tile pairs with the helper threads when they run (default true). */
  helpers?: boolean;
}

/**
 * The default block: about 2²¹ elements (8 MiB) per b×N buffer, a multiple
 * of 8 rows between 64 and 1024. Larger blocks measured faster (fewer passes
 * over XNNPACK's packed right operands per FLOP); the backward holds three
 * such buffers, so this keeps one walk's peak near 100 MiB or below at
 * N = 16384.
 * @param nodes - N
 */
function defaultBlockSize(nodes: number): number {
  return Math.max(64, Math.min(1024, 8 * Math.floor((1 << 21) / Math.max(1, nodes) / 8)));
}

/**
 * Rows `[start, end)` of the forward with tfjs ops (the path without the
 * fused kernels): `O = P·y` `[end − start, K]` and the rows' log-sum-exp.
 * @param psi - Ψ `[N, d]`
 * @param psiT - Ψᵀ `[d, N]` (explicit: wasm's transposeB matMul is far slower)
 * @param y - `[N, K]`
 */
function forwardRows(psi: tf.Tensor2D, psiT: tf.Tensor2D, y: tf.Tensor2D, start: number, end: number, blockSize: number): [tf.Tensor2D, tf.Tensor1D] {
  const outs: tf.Tensor2D[] = [];
  const lses: tf.Tensor2D[] = [];
  for (let first = start; first < end; first += blockSize) {
    const rows = Math.min(blockSize, end - first);
    const [o, lse] = tf.tidy(() => {
      const s = tf.matMul(tf.slice(psi, [first, 0], [rows, -1]), psiT) as tf.Tensor2D;
      const max = tf.max(s, 1, true) as tf.Tensor2D;
      const e = tf.exp(tf.sub(s, max)) as tf.Tensor2D;
      const sum = tf.sum(e, 1, true) as tf.Tensor2D;
      return [tf.div(tf.matMul(e, y), sum) as tf.Tensor2D, tf.add(max, tf.log(sum)) as tf.Tensor2D];
    });
    outs.push(o);
    lses.push(lse);
  }
  const out = tf.concat(outs) as tf.Tensor2D;
  const lse = tf.reshape(tf.concat(lses), [end - start]) as tf.Tensor1D;
  tf.dispose([...outs, ...lses]);
  return [out, lse];
}

/** Row tiles for the calling thread: the front of a queue shared with the helpers, or all of them in order. */
function tileTaker(count: number, pool: WalkPool | undefined): { next: () => number; queue?: TileQueue } {
  if (pool === undefined) {
    let next = 0;
    return { next: () => (next < count ? next++ : -1) };
  }
  const queue = pool.queue(count);
  return { next: () => queue.takeFront(), queue };
}

/**
 * Per-batch-element forward: `[O, lse]`. With the fused kernels, symmetric
 * tile pairs and an online softmax (pairs shared with the helper threads
 * when they run); otherwise row blocks with tfjs ops.
 */
function forwardOne(psi: tf.Tensor2D, y: tf.Tensor2D, blockSize: number, tile: number, kernels: WalkKernels | null, helpers: boolean): [tf.Tensor2D, tf.Tensor1D] {
  const n = psi.shape[0];
  if (kernels === null) {
    const psiT = tf.transpose(psi) as tf.Tensor2D;
    const result = forwardRows(psi, psiT, y, 0, n, blockSize);
    psiT.dispose();
    return result;
  }
  const pool = helpers ? activeWalkPool(n, Math.ceil(n / tile)) : undefined;
  const take = tileTaker(Math.ceil(n / tile), pool);
  const pending = pool?.forward(psi, y, tile, take.queue!);
  const ops = forwardTileOperands(psi, y, tile);
  const local = forwardTiles(ops, n, take.next, kernels);
  disposeForwardTileOperands(ops);
  local.alpha.dispose();
  const remote = pending?.wait() ?? [];
  const merged = remote.length === 0 ? local : mergeOnlineStates([local, ...remote]);
  const result = finishOnlineState(merged);
  tf.dispose([local, merged, ...remote].flatMap((state) => [state.u, state.m, state.l]));
  return result;
}

/** Per-batch-element backward: `[dΨ, dy]`, tile pairs shared with the helper threads when they run. */
function backwardOne(
  psi: tf.Tensor2D,
  y: tf.Tensor2D,
  out: tf.Tensor2D,
  lse: tf.Tensor1D,
  dOut: tf.Tensor2D,
  tile: number,
  kernels: WalkKernels | null,
  helpers: boolean,
): [tf.Tensor2D, tf.Tensor2D] {
  const n = psi.shape[0];
  const d = tf.sum(tf.mul(dOut, out), 1, true) as tf.Tensor2D; // D_i = dO_i·O_i
  const pool = helpers ? activeWalkPool(n, Math.ceil(n / tile)) : undefined;
  const take = tileTaker(Math.ceil(n / tile), pool);
  const pending = pool?.backward(psi, y, d, lse, dOut, tile, take.queue!);
  const ops = tileOperands(psi, y, d, lse, dOut, tile);
  const local = backwardTiles(ops, take.next, kernels);
  disposeTileOperands(ops);
  d.dispose();
  if (pending === undefined) return local;
  // Every helper's partial covers all N rows (zero where its pairs did not reach).
  const remote = pending.wait();
  const result = tf.tidy(() => {
    let [dPsi, dY] = local as [tf.Tensor, tf.Tensor];
    for (const share of remote) {
      dPsi = tf.add(dPsi, share.dPsi);
      dY = tf.add(dY, share.dY);
    }
    return [dPsi, dY] as [tf.Tensor2D, tf.Tensor2D];
  });
  tf.dispose([...local, ...remote.flatMap((share) => [share.dPsi, share.dY])]);
  return result;
}

/**
 * `softmax_rows(ΨΨᵀ)·y` `[B, N, K]` in O(N·(d + K) + tile²) memory, forward
 * and backward (custom gradient w.r.t. Ψ and y). Inputs are not validated
 * here (see `randomWalk`).
 * @param embedding - Ψ `[B, N, d]`
 * @param y - `[B, N, K]`
 * @param options - block size, kernels
 */
export function blockedPropagation(embedding: tf.Tensor3D, y: tf.Tensor3D, options: BlockedPropagationOptions = {}): tf.Tensor3D {
  const [batch, n] = embedding.shape;
  const blockSize = Math.max(1, Math.floor(options.blockSize ?? defaultBlockSize(n)));
  const tileSize = Math.max(1, Math.floor(options.tileSize ?? DEFAULT_WALK_TILE));
  const kernels = (options.kernels ?? 'fused') === 'fused' ? walkKernels() : null;
  const helpers = options.helpers ?? true;
  if (n === 0) return tf.zerosLike(y); // no rows, nothing to propagate
  // Batch elements one at a time (XNNPACK's matMul takes only batch-1
  // operands); B = 1 needs no slice copies.
  const item = (t: tf.Tensor3D, b: number): tf.Tensor2D =>
    tf.reshape(batch === 1 ? t : tf.slice(t, [b, 0, 0], [1, -1, -1]), [t.shape[1], t.shape[2]]);
  const perBatch = <T extends tf.Tensor[]>(tensors: tf.Tensor3D[], body: (...items: tf.Tensor2D[]) => T): T[] =>
    Array.from({ length: batch }, (_, b) => tf.tidy(() => body(...tensors.map((t) => item(t, b)))));
  const joined = <R extends tf.Rank>(parts: tf.Tensor[]): tf.Tensor<R> =>
    (batch === 1 ? tf.expandDims(parts[0]!, 0) : tf.stack(parts)) as tf.Tensor<R>;
  const propagate = tf.customGrad((psiIn, yIn, save) => {
    // The inputs stay alive on the tape; only what the forward made is saved.
    const psi = psiIn as tf.Tensor3D;
    const state = yIn as tf.Tensor3D;
    const results = perBatch([psi, state], (p, s) => forwardOne(p, s, blockSize, tileSize, kernels, helpers));
    const out = joined<tf.Rank.R3>(results.map((r) => r[0]));
    const lse = joined<tf.Rank.R2>(results.map((r) => r[1]));
    (save as tf.GradSaveFunc)([out, lse]);
    tf.dispose(results);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [outS, lseS] = saved as [tf.Tensor3D, tf.Tensor2D];
        const lse3 = tf.reshape(lseS, [batch, n, 1]) as tf.Tensor3D;
        const grads = perBatch([psi, state, outS, lse3, dy as tf.Tensor3D], (p, s, o, l, g) =>
          backwardOne(p, s, o, tf.reshape(l, [n]) as tf.Tensor1D, g, tileSize, kernels, helpers),
        );
        const result = [joined(grads.map((g) => g[0])), joined(grads.map((g) => g[1]))];
        tf.dispose([lse3, ...grads]);
        return result;
      },
    };
  });
  return propagate(embedding, y) as tf.Tensor3D;
}
