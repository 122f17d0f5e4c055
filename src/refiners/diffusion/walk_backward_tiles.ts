/**
 * The blocked walk's backward over square tiles of S = ΨΨᵀ, using its
 * symmetry: each pair of row tiles (I, J ≥ I) is visited once.
 *
 * With `P_ij = exp(S_ij − lse_i)`, `Q_ij = P_ji = exp(S_ij − lse_j)`,
 * `A = [dO, D]·[yᵀ; −1]` and `C = [y, 1]·[dOᵀ; −Dᵀ]` (so `C = Aᵀ`), the
 * gradients are `dΨ = G Ψ` with the symmetric `G = P∘A + Q∘C` (= dS + dSᵀ)
 * and `dy = Q dO`. One tile pair gives both mirrored tiles:
 * `G_JI = G_IJᵀ` and `Q_JI = P_IJᵀ`, so S, A and C are computed for the
 * upper triangle only — the backward does 2N²(d/2 + (K+1) + d + K) FLOPs
 * instead of 2N²(2d + 3K + 2) for row blocks (−28 % at d = 64, K = 21). The
 * transposed tiles come out of the fused kernel (tfjs-wasm's transpose costs
 * about as much as the product they would feed).
 *
 * Memory: a few tile² buffers plus O(N·(d + K)) of tiled operands.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { WalkKernels } from './walk_kernels_wasm.js';

/**
 * Default edge of the walk's square tiles of S (forward with the fused
 * kernels, and backward). Measured against the row-block backward
 * (d = 64, K = 21, one thread): tiles of 128–384 took 0.52–0.57× its time at
 * N = 4096 and 256 took 0.59× at N = 10201, while 512 and 1024 were slower
 * (0.67–0.9×: a tile's buffers stop fitting the cache) and much smaller
 * tiles multiply the per-pair op overhead.
 */
export const DEFAULT_WALK_TILE = 256;

/**
 * `t` `[N, c]` cut into row tiles of `tile` rows (the last one ragged).
 * @param t - the tensor to cut
 * @param tile - rows per tile (≥ 1)
 */
export function rowTiles(t: tf.Tensor2D, tile: number): tf.Tensor2D[] {
  const n = t.shape[0];
  return Array.from({ length: Math.ceil(n / tile) }, (_, i) => tf.slice(t, [i * tile, 0], [Math.min(tile, n - i * tile), -1]));
}

/**
 * `t` `[c, N]` cut into column tiles of `tile` columns (the last one ragged).
 * @param t - the tensor to cut
 * @param tile - columns per tile (≥ 1)
 */
export function columnTiles(t: tf.Tensor2D, tile: number): tf.Tensor2D[] {
  const n = t.shape[1];
  return Array.from({ length: Math.ceil(n / tile) }, (_, i) => tf.slice(t, [0, i * tile], [-1, Math.min(tile, n - i * tile)]));
}

/** The backward's operands cut into row (or column) tiles once; each is reused by every pair it joins. */
export interface TileOperands {
  /** Rows per tile. */
  readonly tile: number;
  /** Number of tiles, ⌈N / tile⌉. */
  readonly count: number;
  /** N. */
  readonly n: number;
  /** Ψ_I `[b_I, d]`. */
  readonly psi: tf.Tensor2D[];
  /** Ψ_Iᵀ `[d, b_I]`. */
  readonly psiT: tf.Tensor2D[];
  /** dO_I `[b_I, K]`. */
  readonly dOut: tf.Tensor2D[];
  /** `[dO, D]_I` `[b_I, K + 1]`: A = left1 · right1. */
  readonly left1: tf.Tensor2D[];
  /** `[yᵀ; −1]_J` `[K + 1, b_J]`. */
  readonly right1: tf.Tensor2D[];
  /** `[y, 1]_I` `[b_I, K + 1]`: C = left2 · right2. */
  readonly left2: tf.Tensor2D[];
  /** `[dOᵀ; −Dᵀ]_J` `[K + 1, b_J]`. */
  readonly right2: tf.Tensor2D[];
  /** Row log-sum-exp `[N]` (borrowed from the caller). */
  readonly lse: tf.Tensor1D;
}

/**
 * Cuts the backward's operands into tiles.
 * @param psi - Ψ `[N, d]`
 * @param y - `[N, K]`
 * @param d - `D_i = dO_i·O_i` `[N, 1]`
 * @param lse - row log-sum-exp `[N]` (borrowed, not disposed by {@link disposeTileOperands})
 * @param dOut - dO `[N, K]`
 * @param tile - rows per tile (≥ 1)
 */
export function tileOperands(psi: tf.Tensor2D, y: tf.Tensor2D, d: tf.Tensor2D, lse: tf.Tensor1D, dOut: tf.Tensor2D, tile: number): TileOperands {
  const n = psi.shape[0];
  const count = Math.ceil(n / tile);
  let operands: TileOperands | undefined;
  tf.tidy(() => {
    operands = {
      tile,
      count,
      n,
      psi: rowTiles(psi, tile),
      psiT: columnTiles(tf.transpose(psi), tile),
      dOut: rowTiles(dOut, tile),
      left1: rowTiles(tf.concat([dOut, d], 1), tile),
      right1: columnTiles(tf.concat([tf.transpose(y), tf.fill([1, n], -1)], 0), tile),
      left2: rowTiles(tf.concat([y, tf.ones([n, 1])], 1), tile),
      right2: columnTiles(tf.concat([tf.transpose(dOut), tf.neg(tf.transpose(d))], 0), tile),
      lse,
    };
    // Only the tiles outlive the scope (the full-size intermediates go).
    for (const t of tiledTensors(operands)) tf.keep(t);
  });
  return operands!;
}

function tiledTensors(ops: TileOperands): tf.Tensor2D[] {
  return [ops.psi, ops.psiT, ops.dOut, ops.left1, ops.right1, ops.left2, ops.right2].flat();
}

/** Disposes what {@link tileOperands} created (not the borrowed `lse`). */
export function disposeTileOperands(ops: TileOperands): void {
  tf.dispose(tiledTensors(ops));
}

/** `G_IJ`, `Q_IJ` and, off the diagonal, `G_IJᵀ`, `P_IJᵀ` of one tile pair. */
interface PairTiles {
  g: tf.Tensor2D;
  q: tf.Tensor2D;
  mirrored?: [tf.Tensor2D, tf.Tensor2D];
}

function pairTiles(ops: TileOperands, i: number, j: number, kernels: WalkKernels | null): PairTiles {
  const s = tf.matMul(ops.psi[i]!, ops.psiT[j]!) as tf.Tensor2D;
  const a = tf.matMul(ops.left1[i]!, ops.right1[j]!) as tf.Tensor2D;
  const c = tf.matMul(ops.left2[i]!, ops.right2[j]!) as tf.Tensor2D;
  if (kernels !== null) {
    // In place: a ← G, s ← Q.
    if (i === j) {
      kernels.combine(s, a, c, ops.lse, i * ops.tile, j * ops.tile);
      c.dispose();
      return { g: a, q: s };
    }
    const mirrored = kernels.combineTransposed(s, a, c, ops.lse, i * ops.tile, j * ops.tile);
    c.dispose();
    return { g: a, q: s, mirrored };
  }
  const tiles = tf.tidy(() => {
    const [rows, cols] = s.shape;
    const p = tf.exp(tf.sub(s, tf.reshape(tf.slice(ops.lse, [i * ops.tile], [rows]), [rows, 1]))) as tf.Tensor2D;
    const q = tf.exp(tf.sub(s, tf.reshape(tf.slice(ops.lse, [j * ops.tile], [cols]), [1, cols]))) as tf.Tensor2D;
    const g = tf.add(tf.mul(p, a), tf.mul(q, c)) as tf.Tensor2D;
    return i === j ? { g, q } : { g, q, mirrored: [tf.transpose(g), tf.transpose(p)] as [tf.Tensor2D, tf.Tensor2D] };
  });
  tf.dispose([s, a, c]); // tile² each: keep the backward's memory at a few tiles
  return tiles;
}

/**
 * The pairs (I, J ≥ I) for the row tiles I that `take` hands out (until it
 * returns −1): partial `[dΨ, dy]` for all N rows (zero where no pair of this
 * thread reached).
 * @param ops - see {@link tileOperands}
 * @param take - the next row tile to process, or −1
 * @param kernels - the fused kernels, or null for tfjs ops
 */
export function backwardTiles(ops: TileOperands, take: () => number, kernels: WalkKernels | null): [tf.Tensor2D, tf.Tensor2D] {
  const dPsi: Array<tf.Tensor2D | undefined> = [];
  const dY: Array<tf.Tensor2D | undefined> = [];
  const accumulate = (into: Array<tf.Tensor2D | undefined>, index: number, term: tf.Tensor2D): void => {
    const previous = into[index];
    into[index] = previous === undefined ? term : (tf.add(previous, term) as tf.Tensor2D);
    if (previous !== undefined) tf.dispose([previous, term]);
  };
  for (let i = take(); i >= 0; i = take()) {
    for (let j = i; j < ops.count; j++) {
      const { g, q, mirrored } = pairTiles(ops, i, j, kernels);
      accumulate(dPsi, i, tf.matMul(g, ops.psi[j]!) as tf.Tensor2D);
      accumulate(dY, i, tf.matMul(q, ops.dOut[j]!) as tf.Tensor2D);
      if (mirrored !== undefined) {
        accumulate(dPsi, j, tf.matMul(mirrored[0], ops.psi[i]!) as tf.Tensor2D);
        accumulate(dY, j, tf.matMul(mirrored[1], ops.dOut[i]!) as tf.Tensor2D);
      }
      tf.dispose([g, q, ...(mirrored ?? [])]);
    }
  }
  // Untouched tiles are zero; one concat per gradient.
  const full = (parts: Array<tf.Tensor2D | undefined>, like: tf.Tensor2D[]): tf.Tensor2D => {
    const filled = like.map((tile, index) => parts[index] ?? tf.zerosLike(tile));
    const joined = tf.concat(filled) as tf.Tensor2D;
    tf.dispose(filled);
    return joined;
  };
  return [full(dPsi, ops.psi), full(dY, ops.dOut)];
}
