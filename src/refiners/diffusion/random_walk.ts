/**
 * DifNet's random walk as a differentiable op:
 * `y' = (1 − β)(μ·P·y + (1 − μ)·seed) + β·y`, `P = softmax_rows(Ψ Ψᵀ)`.
 * Two paths compute `P·y`: materialised (P as an N×N tensor, autodiff) and
 * blocked (tiles of S = ΨΨᵀ, custom gradient, never N×N; see
 * `random_walk_blocked.ts` and docs/performance.md).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, ShapeError } from '../../core/errors.js';
import { blockedPropagation } from './random_walk_blocked.js';

/**
 * How {@link randomWalk} computes `P·y`: `materialized` builds P `[B, N, N]`
 * (tfjs autodiff); `blocked` streams tiles of S = ΨΨᵀ with a recomputing
 * custom gradient, in O(N·(d + K) + tile²) memory; `auto` picks blocked once
 * P would exceed {@link AUTO_BLOCKED_MIN_ELEMENTS} elements.
 */
export type WalkPath = 'auto' | 'materialized' | 'blocked';

/**
 * `auto` takes the blocked path when B·N² reaches this many elements
 * (2²² floats, 16 MiB of P: N ≥ 2048 at B = 1). Below it the materialised
 * path is as fast and P is small.
 */
export const AUTO_BLOCKED_MIN_ELEMENTS = 2 ** 22;

/**
 * The most bytes the `materialized` path may give P `[B, N, N]` (float32):
 * 2²⁸ bytes = 256 MiB, B·N² ≤ 2²⁶ (N ≤ 8192 at B = 1, e.g. 64×128 seeds).
 * A forward and backward pass at this size peaks near 2 GB of process
 * memory on wasm; far beyond it the allocation aborts the wasm backend for
 * the whole process. Above it an explicit `'materialized'` is a
 * `ConfigError` (use `'blocked'` or `'auto'`); `'auto'` has switched to
 * the blocked path long before (at `AUTO_BLOCKED_MIN_ELEMENTS`).
 */
export const MATERIALIZED_MAX_BYTES = 2 ** 28;

const WALK_PATHS: readonly WalkPath[] = ['auto', 'materialized', 'blocked'];

/**
 * Refuses, before anything is allocated, a walk whose path would hold P
 * `[B, N, N]` beyond {@link MATERIALIZED_MAX_BYTES}.
 * @param path - the requested path (`auto` when undefined: always safe)
 * @param batch - B
 * @param nodes - N (the seeds' height × width)
 * @param argument - the name of the path argument, for the error
 * @param source - where B and N come from, for the error (e.g. `inputs.scores [1, 160, 160, 4]`)
 */
export function checkWalkMemory(path: WalkPath | undefined, batch: number, nodes: number, argument = 'randomWalk.path', source = 'randomWalk.embedding'): void {
  if (resolveWalkPath(path, batch, nodes) !== 'materialized') return;
  const bytes = 4 * batch * nodes * nodes;
  if (bytes > MATERIALIZED_MAX_BYTES) {
    const mib = (bytes / 2 ** 20).toFixed(0);
    throw new ConfigError(
      argument,
      `must be 'blocked' or 'auto' for ${source} (B = ${batch}, N = ${nodes} nodes): 'materialized' would allocate P [B, N, N] of ${mib} MiB, over MATERIALIZED_MAX_BYTES (${MATERIALIZED_MAX_BYTES / 2 ** 20} MiB)`,
      path,
    );
  }
}

/** A weight given as a number or a scalar tensor. */
export type ScalarLike = number | tf.Scalar;

/** Inputs of {@link randomWalk}. */
export interface RandomWalkInputs {
  /** Current state `[B, N, K]`. */
  y: tf.Tensor3D;
  /** Seed `[B, N, K]` (DifNet's `s = M ⊙ x`). */
  seed: tf.Tensor3D;
  /** Node embeddings Ψ `[B, N, d]`; `P = softmax_rows(Ψ Ψᵀ)`, no scaling. */
  embedding: tf.Tensor3D;
  /** μ in [0, 1]: weight of the propagated term (the final weight, not a raw parameter). */
  mu: ScalarLike;
  /** β in [0, 1]: weight of the previous state (the final weight, not a raw parameter). */
  beta: ScalarLike;
  /**
   * How P·y is computed (same numbers to float32 tolerance, gradients included).
   * @defaultValue 'auto'
   */
  path?: WalkPath;
  /**
   * On the blocked path, rows of P per block of the forward and the edge of
   * the backward's square tiles (an integer ≥ 1).
   * @defaultValue 256 (tiles); the forward without the fused wasm kernels: about 2²¹ / N rows (a multiple of 8), between 64 and 1024
   */
  blockSize?: number;
  /**
   * On the blocked path, share tile pairs with the helper threads started by
   * `startWalkWorkers` (wasm backend; no effect when none run).
   * @defaultValue true
   */
  helpers?: boolean;
}

/** Inputs of {@link diffusionClosedForm}. */
export interface ClosedFormInputs {
  /** Seed `[B, N, K]`. */
  seed: tf.Tensor3D;
  /** Node embeddings Ψ `[B, N, d]`. */
  embedding: tf.Tensor3D;
  /** μ in [0, 1). */
  mu: ScalarLike;
}

function checkRank3(t: tf.Tensor | undefined, argument: string): asserts t is tf.Tensor3D {
  if (!(t instanceof tf.Tensor)) throw new ShapeError(argument, 'must be a tf.Tensor', t);
  if (t.rank !== 3) throw new ShapeError(argument, 'must be rank 3 [B, N, channels]', t);
}

function checkWeight(value: ScalarLike | undefined, argument: string): void {
  if (value instanceof tf.Tensor) {
    if (value.rank !== 0) throw new ShapeError(argument, 'must be a scalar', value);
    return;
  }
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new DataError(argument, 'must be a number in [0, 1]', value);
}

/** Checks shapes shared by the walk and its closed form. */
export function validateWalkInputs(seed: tf.Tensor | undefined, embedding: tf.Tensor | undefined, y?: tf.Tensor, op = 'randomWalk'): void {
  checkRank3(seed, `${op}.seed`);
  checkRank3(embedding, `${op}.embedding`);
  if (embedding.shape[0] !== seed.shape[0] || embedding.shape[1] !== seed.shape[1]) {
    throw new ShapeError(`${op}.embedding`, `must be [B, N, d] with the seed's B = ${seed.shape[0]}, N = ${seed.shape[1]}`, embedding);
  }
  if (y !== undefined) {
    checkRank3(y, `${op}.y`);
    if (y.shape.some((dim, i) => dim !== seed.shape[i])) throw new ShapeError(`${op}.y`, `must have the seed's shape [${seed.shape.join(', ')}]`, y);
  }
}

/**
 * The row-stochastic transition matrix `P = softmax_rows(Ψ Ψᵀ)` `[B, N, N]`
 * (row max subtracted, so large embeddings stay finite).
 * @param embedding - Ψ `[B, N, d]`
 */
export function transitionMatrix(embedding: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    // Explicit transpose: wasm's transposeB matMul path is far slower (DESIGN §4).
    const gram = tf.matMul(embedding, tf.transpose(embedding, [0, 2, 1]));
    return tf.softmax(gram) as tf.Tensor3D;
  });
}

/** `(1 − β)(μ·Py + (1 − μ)·seed) + β·y` given `Py`. */
export function combineWalk(propagated: tf.Tensor3D, y: tf.Tensor3D, seed: tf.Tensor3D, mu: ScalarLike, beta: ScalarLike): tf.Tensor3D {
  return tf.tidy(() => {
    const restart = tf.add(tf.mul(mu, propagated), tf.mul(tf.sub(1, mu), seed));
    return tf.add(tf.mul(tf.sub(1, beta), restart), tf.mul(beta, y)) as tf.Tensor3D;
  });
}

/**
 * One DifNet random walk, differentiable w.r.t. every input:
 * `(1 − β)(μ·P·y + (1 − μ)·seed) + β·y` with `P = softmax_rows(Ψ Ψᵀ)`.
 * @param inputs - state, seed, embedding and the final weights μ, β
 * @returns the next state `[B, N, K]`
 */
export function randomWalk(inputs: RandomWalkInputs): tf.Tensor3D {
  const { y, seed, embedding, mu, beta } = inputs;
  validateWalkInputs(seed, embedding, y);
  checkWeight(mu, 'randomWalk.mu');
  checkWeight(beta, 'randomWalk.beta');
  const path = resolveWalkPath(inputs.path, embedding.shape[0], embedding.shape[1]);
  checkWalkMemory(path, embedding.shape[0], embedding.shape[1]);
  const { blockSize } = inputs;
  if (blockSize !== undefined && !(Number.isInteger(blockSize) && blockSize >= 1)) {
    throw new DataError('randomWalk.blockSize', 'must be an integer ≥ 1', blockSize);
  }
  return tf.tidy(() => {
    const propagated = path === 'blocked' ? blockedPropagation(embedding, y, { blockSize, tileSize: blockSize, helpers: inputs.helpers }) : (tf.matMul(transitionMatrix(embedding), y) as tf.Tensor3D);
    return combineWalk(propagated, y, seed, mu, beta);
  });
}

/**
 * The path {@link randomWalk} takes for a given request and size.
 * @param path - requested path (`auto` when undefined)
 * @param batch - B
 * @param nodes - N
 * @returns `materialized` or `blocked`
 */
export function resolveWalkPath(path: WalkPath | undefined, batch: number, nodes: number): Exclude<WalkPath, 'auto'> {
  const requested = path ?? 'auto';
  if (!WALK_PATHS.includes(requested)) throw new DataError('randomWalk.path', `must be one of ${WALK_PATHS.join(', ')}`, path);
  if (requested !== 'auto') return requested;
  return batch * nodes * nodes >= AUTO_BLOCKED_MIN_ELEMENTS ? 'blocked' : 'materialized';
}

/**
 * The fixed point of repeated walks with one P:
 * `(1 − μ)(I − μP)⁻¹·seed`, by a dense solve — O(N³), for small N
 * (verification and study). Differentiable (solved through tfjs ops).
 * @param inputs - seed, embedding and μ in [0, 1)
 * @returns `[B, N, K]`
 */
export function diffusionClosedForm(inputs: ClosedFormInputs): tf.Tensor3D {
  const { seed, embedding, mu } = inputs;
  validateWalkInputs(seed, embedding, undefined, 'diffusionClosedForm');
  checkWeight(mu, 'diffusionClosedForm.mu');
  if (typeof mu === 'number' && mu >= 1) throw new DataError('diffusionClosedForm.mu', 'must be < 1 (I − μP is singular at μ = 1)', mu);
  const n = seed.shape[1];
  if (n > 4096) throw new ShapeError('diffusionClosedForm.seed', 'must have N ≤ 4096 nodes (dense O(N³) solve)', seed);
  return tf.tidy(() => {
    const system = tf.sub(tf.eye(n), tf.mul(mu, transitionMatrix(embedding))) as tf.Tensor3D;
    return tf.mul(tf.sub(1, mu), solve(system, seed)) as tf.Tensor3D;
  });
}

/**
 * Solves `A X = B` for each batch by Gauss–Jordan elimination in tfjs ops.
 * I − μP (μ < 1, P row-stochastic) is strictly diagonally dominant by rows,
 * so elimination without pivoting is stable.
 */
function solve(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const n = a.shape[1];
  let augmented = tf.concat([a, b], 2);
  for (let k = 0; k < n; k++) {
    const next = tf.tidy(() => {
      const pivotRow = tf.slice(augmented, [0, k, 0], [-1, 1, -1]);
      const normalised = tf.div(pivotRow, tf.slice(pivotRow, [0, 0, k], [-1, 1, 1]));
      const factors = tf.slice(augmented, [0, 0, k], [-1, n, 1]);
      const isPivot = tf.reshape(tf.oneHot(k, n), [1, n, 1]);
      const eliminated = tf.sub(augmented, tf.mul(factors, normalised));
      return tf.add(tf.mul(eliminated, tf.sub(1, isPivot)), tf.mul(normalised, isPivot)) as tf.Tensor3D;
    });
    if (k > 0) augmented.dispose();
    augmented = next;
  }
  const solution = tf.slice(augmented, [0, 0, n], [-1, n, -1]) as tf.Tensor3D;
  augmented.dispose();
  return solution;
}
