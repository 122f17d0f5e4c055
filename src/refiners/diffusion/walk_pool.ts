/**
 * What the blocked random walk needs from helper threads, without knowing how
 * they are made: Node's worker threads live in `segrefine/node`
 * (`startWalkWorkers`), which installs a provider here; the portable core runs
 * every tile on the calling thread when none is installed.
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import type { TileQueue } from './tile_queue.js';

/** A helper's share in flight; `wait()` blocks until every helper is done. */
export interface PendingShare<T> {
  /** Blocks until the helpers finish; returns their partial results as tensors. */
  wait(): T;
}

/** A helper's partial forward: the online-softmax state of every node. */
export interface ForwardShare {
  /** `Σ_j exp(S_ij − m_i)·y_j` over the helper's pairs `[N, K]`. */
  u: tf.Tensor2D;
  /** Row maxima over those pairs `[N]` (−∞ where none). */
  m: tf.Tensor1D;
  /** `Σ_j exp(S_ij − m_i)` `[N]`. */
  l: tf.Tensor1D;
}

/** A helper's partial backward (zero in the rows its pairs did not reach). */
export interface BackwardShare {
  /** Partial dΨ `[N, d]`. */
  dPsi: tf.Tensor2D;
  /** Partial dy `[N, K]`. */
  dY: tf.Tensor2D;
}

/** The started helpers, as the walk sees them. */
export interface WalkPool {
  /**
   * A queue of `count` row tiles for one pass, with the last tiles
   * reserved, one per helper.
   */
  queue(count: number): TileQueue;
  /**
   * Posts the forward to the helpers: each processes its reserved tile, then
   * claims tiles from the back of `queue`, and returns its online-softmax
   * state (see `forwardTiles`).
   */
  forward(psi: tf.Tensor2D, y: tf.Tensor2D, tile: number, queue: TileQueue): PendingShare<ForwardShare[]>;
  /** Posts the backward likewise (see `backwardTiles`). */
  backward(psi: tf.Tensor2D, y: tf.Tensor2D, d: tf.Tensor2D, lse: tf.Tensor1D, dOut: tf.Tensor2D, tile: number, queue: TileQueue): PendingShare<BackwardShare[]>;
}

/** Picks the pool for a walk of `n` nodes in `tiles` row tiles, or none. */
export type WalkPoolProvider = (n: number, tiles: number) => WalkPool | undefined;

let provider: WalkPoolProvider | undefined;

/**
 * Installs (or, with undefined, removes) the helper-thread provider.
 * @internal
 */
export function setWalkPoolProvider(next: WalkPoolProvider | undefined): void {
  provider = next;
}

/** The pool to share a walk with, when helpers run and the walk is large enough; else undefined. */
export function activeWalkPool(n: number, tiles: number): WalkPool | undefined {
  return provider?.(n, tiles);
}
