/**
 * The walk's propagation `P·y = softmax_rows(ΨΨᵀ)·y` without the N×N matrix:
 * rows of P are produced block by block and consumed at once (as flash
 * attention does), and a custom gradient recomputes each block.
 *
 * Forward, per block of rows i: `S_i = Ψ_i Ψᵀ`, `E_i = exp(S_i − m_i)`
 * (m_i the row max), `l_i = Σ_j E_ij`, `O_i = E_i y / l_i`, and the row's
 * log-sum-exp `lse_i = m_i + log l_i` is kept (N floats).
 *
 * Backward (dO given): `D_i = dO_i·O_i`. As S is symmetric, one block of rows
 * of S gives rows of both P and Pᵀ: `P_ij = exp(S_ij − lse_i)` and
 * `Q_ij = P_ji = exp(S_ij − lse_j)`. With `A_ij = dO_i·y_j − D_i` and
 * `C_ij = y_i·dO_j − D_j` (two skinny matMuls), `dS = P∘A` and `dSᵀ = Q∘C`, so
 * `dΨ_i = (P∘A + Q∘C)_i Ψ` and `dy_i = Q_i dO`: every product is a plain
 * row-block matMul, no transposed N×b product, no N×N buffer.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { walkKernels, type WalkKernels } from './walk_kernels_wasm.js';
import { activeWalkPool } from './walk_workers.js';

/** Options of {@link blockedPropagation}. */
export interface BlockedPropagationOptions {
  /** Rows of P per block (≥ 1); default {@link defaultBlockSize}. */
  blockSize?: number;
  /** `fused` (default): the SIMD kernels when on tfjs-wasm; `ops`: plain tfjs ops everywhere. */
  kernels?: 'fused' | 'ops';
  /** Share rows with the helper threads when they run (default true). */
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
export function defaultBlockSize(nodes: number): number {
  return Math.max(64, Math.min(1024, 8 * Math.floor((1 << 21) / Math.max(1, nodes) / 8)));
}

/**
 * Rows `[start, end)` of the forward: `O = P·y` `[end − start, K]` and the
 * rows' log-sum-exp `[end − start]`.
 * @param psi - Ψ `[N, d]`
 * @param psiT - Ψᵀ `[d, N]` (explicit: wasm's transposeB matMul is far slower)
 * @param y - `[N, K]`
 */
export function forwardRows(
  psi: tf.Tensor2D,
  psiT: tf.Tensor2D,
  y: tf.Tensor2D,
  start: number,
  end: number,
  blockSize: number,
  kernels: WalkKernels | null,
): [tf.Tensor2D, tf.Tensor1D] {
  const outs: tf.Tensor2D[] = [];
  const lses: tf.Tensor2D[] = [];
  for (let first = start; first < end; first += blockSize) {
    const rows = Math.min(blockSize, end - first);
    const [o, lse] = tf.tidy(() => {
      const s = tf.matMul(tf.slice(psi, [first, 0], [rows, -1]), psiT) as tf.Tensor2D;
      let e: tf.Tensor2D;
      let max: tf.Tensor2D;
      let sum: tf.Tensor2D;
      if (kernels !== null) {
        const stats = kernels.rowExp(s); // s now holds exp(s − max)
        e = s;
        max = tf.slice(stats, [0, 0], [rows, 1]) as tf.Tensor2D;
        sum = tf.slice(stats, [0, 1], [rows, 1]) as tf.Tensor2D;
      } else {
        max = tf.max(s, 1, true) as tf.Tensor2D;
        e = tf.exp(tf.sub(s, max)) as tf.Tensor2D;
        sum = tf.sum(e, 1, true) as tf.Tensor2D;
      }
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

/**
 * The backward's operands shared by every block (XNNPACK packs each right
 * operand once). `psi`, `dOut` and `lse` are borrowed from the caller; the
 * rest is released by {@link disposeBackwardOperands}.
 */
export interface BackwardOperands {
  /** Ψ `[N, d]`. */
  psi: tf.Tensor2D;
  /** Ψᵀ `[d, N]`. */
  psiT: tf.Tensor2D;
  /** dO `[N, K]`. */
  dOut: tf.Tensor2D;
  /** `[dO, D]` `[N, K + 1]`: A = left1 · right1. */
  left1: tf.Tensor2D;
  /** `[yᵀ; −1]` `[K + 1, N]`. */
  right1: tf.Tensor2D;
  /** `[y, 1]` `[N, K + 1]`: C = left2 · right2. */
  left2: tf.Tensor2D;
  /** `[dOᵀ; −Dᵀ]` `[K + 1, N]`. */
  right2: tf.Tensor2D;
  /** Row log-sum-exp `[N]`. */
  lse: tf.Tensor1D;
  /** The same as a row `[1, N]`. */
  lseRow: tf.Tensor2D;
}

/**
 * Builds the {@link BackwardOperands}.
 * @param psi - Ψ `[N, d]`
 * @param y - `[N, K]`
 * @param d - `D_i = dO_i·O_i` `[N, 1]`
 * @param lse - row log-sum-exp `[N]`
 * @param dOut - dO `[N, K]`
 */
export function backwardOperands(psi: tf.Tensor2D, y: tf.Tensor2D, d: tf.Tensor2D, lse: tf.Tensor1D, dOut: tf.Tensor2D): BackwardOperands {
  const n = psi.shape[0];
  const created = tf.tidy(() => ({
    psiT: tf.transpose(psi),
    left1: tf.concat([dOut, d], 1),
    right1: tf.concat([tf.transpose(y), tf.fill([1, n], -1)], 0),
    left2: tf.concat([y, tf.ones([n, 1])], 1),
    right2: tf.concat([tf.transpose(dOut), tf.neg(tf.transpose(d))], 0),
    lseRow: tf.reshape(lse, [1, n]),
  })) as Omit<BackwardOperands, 'psi' | 'dOut' | 'lse'>;
  return { psi, dOut, lse, ...created };
}

/** Disposes what {@link backwardOperands} created (not the borrowed inputs). */
export function disposeBackwardOperands(ops: BackwardOperands): void {
  tf.dispose([ops.psiT, ops.left1, ops.right1, ops.left2, ops.right2, ops.lseRow]);
}

/**
 * Rows `[start, end)` of the backward: `[dΨ, dy]` for those rows.
 * @param ops - see {@link backwardOperands}
 */
export function backwardRows(ops: BackwardOperands, start: number, end: number, blockSize: number, kernels: WalkKernels | null): [tf.Tensor2D, tf.Tensor2D] {
  const dPsis: tf.Tensor2D[] = [];
  const dYs: tf.Tensor2D[] = [];
  for (let first = start; first < end; first += blockSize) {
    const rows = Math.min(blockSize, end - first);
    const [dPsi, dY] = tf.tidy(() => {
      const s = tf.matMul(tf.slice(ops.psi, [first, 0], [rows, -1]), ops.psiT) as tf.Tensor2D;
      const a = tf.matMul(tf.slice(ops.left1, [first, 0], [rows, -1]), ops.right1) as tf.Tensor2D;
      const c = tf.matMul(tf.slice(ops.left2, [first, 0], [rows, -1]), ops.right2) as tf.Tensor2D;
      let combined: tf.Tensor2D;
      let q: tf.Tensor2D;
      if (kernels !== null) {
        kernels.combine(s, a, c, ops.lse, first); // a ← P∘A + Q∘C, s ← Q
        combined = a;
        q = s;
      } else {
        const p = tf.exp(tf.sub(s, tf.reshape(tf.slice(ops.lse, [first], [rows]), [rows, 1])));
        q = tf.exp(tf.sub(s, ops.lseRow)) as tf.Tensor2D;
        combined = tf.add(tf.mul(p, a), tf.mul(q, c)) as tf.Tensor2D;
      }
      return [tf.matMul(combined, ops.psi), tf.matMul(q, ops.dOut)] as [tf.Tensor2D, tf.Tensor2D];
    });
    dPsis.push(dPsi);
    dYs.push(dY);
  }
  const grads = [tf.concat(dPsis), tf.concat(dYs)] as [tf.Tensor2D, tf.Tensor2D];
  tf.dispose([...dPsis, ...dYs]);
  return grads;
}

/** Per-batch-element forward, rows shared with the helper threads when they run. */
function forwardOne(psi: tf.Tensor2D, y: tf.Tensor2D, blockSize: number, kernels: WalkKernels | null, helpers: boolean): [tf.Tensor2D, tf.Tensor1D] {
  const n = psi.shape[0];
  const pool = helpers ? activeWalkPool(n) : undefined;
  const split = pool?.localRows(n) ?? n;
  const pending = pool?.forward(psi, y, split, blockSize);
  const psiT = tf.transpose(psi) as tf.Tensor2D;
  const local = forwardRows(psi, psiT, y, 0, split, blockSize, kernels);
  psiT.dispose();
  if (pending === undefined) return local;
  const remote = pending.wait();
  const result: [tf.Tensor2D, tf.Tensor1D] = [tf.concat([local[0], remote[0]]) as tf.Tensor2D, tf.concat([local[1], remote[1]]) as tf.Tensor1D];
  tf.dispose([...local, ...remote]);
  return result;
}

/** Per-batch-element backward: `[dΨ, dy]`. */
function backwardOne(
  psi: tf.Tensor2D,
  y: tf.Tensor2D,
  out: tf.Tensor2D,
  lse: tf.Tensor1D,
  dOut: tf.Tensor2D,
  blockSize: number,
  kernels: WalkKernels | null,
  helpers: boolean,
): [tf.Tensor2D, tf.Tensor2D] {
  const n = psi.shape[0];
  const d = tf.sum(tf.mul(dOut, out), 1, true) as tf.Tensor2D; // D_i = dO_i·O_i
  const pool = helpers ? activeWalkPool(n) : undefined;
  const split = pool?.localRows(n) ?? n;
  const pending = pool?.backward(psi, y, d, lse, dOut, split, blockSize);
  const ops = backwardOperands(psi, y, d, lse, dOut);
  const local = backwardRows(ops, 0, split, blockSize, kernels);
  disposeBackwardOperands(ops);
  d.dispose();
  if (pending === undefined) return local;
  const remote = pending.wait();
  const result: [tf.Tensor2D, tf.Tensor2D] = [tf.concat([local[0], remote[0]]) as tf.Tensor2D, tf.concat([local[1], remote[1]]) as tf.Tensor2D];
  tf.dispose([...local, ...remote]);
  return result;
}

/**
 * `softmax_rows(ΨΨᵀ)·y` `[B, N, K]` in O(N·(d + K + block)) memory, forward
 * and backward (custom gradient w.r.t. Ψ and y). Inputs are not validated
 * here (see `randomWalk`).
 * @param embedding - Ψ `[B, N, d]`
 * @param y - `[B, N, K]`
 * @param options - block size, kernels
 */
export function blockedPropagation(embedding: tf.Tensor3D, y: tf.Tensor3D, options: BlockedPropagationOptions = {}): tf.Tensor3D {
  const [batch, n] = embedding.shape;
  const blockSize = Math.max(1, Math.floor(options.blockSize ?? defaultBlockSize(n)));
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
    const results = perBatch([psi, state], (p, s) => forwardOne(p, s, blockSize, kernels, helpers));
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
          backwardOne(p, s, o, tf.reshape(l, [n]) as tf.Tensor1D, g, blockSize, kernels, helpers),
        );
        const result = [joined(grads.map((g) => g[0])), joined(grads.map((g) => g[1]))];
        tf.dispose([lse3, ...grads]);
        return result;
      },
    };
  });
  return propagate(embedding, y) as tf.Tensor3D;
}
