/**
 * The sequential core of SPN: for every direction, the linear recurrence
 * `h_t = a_t + Σ_k g_{k,t} ⊙ h_{t−1}[· + k − 1]` along the direction, each step
 * one short batched op sequence over all rows, channels, batch entries and
 * grouped directions, with a hand-written adjoint (reverse) scan as gradient.
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs';
import type { SpnDirection } from './directions.js';
import { blockIndices, gatherSteps, scanGroups, scatterSteps, type ScanGroup, type ScanShape } from './frames.js';

/** Neighbours per target pixel: 1 (one-way) or 3 (three-way: rows r−1, r, r+1). */
export type ScanTaps = 1 | 3;

/**
 * `h` `[N, R, C]` shifted across rows: `out[:, r] = h[:, r + offset]`, zero off
 * the rows. (Pad and slice: cheaper per step than a convolution on wasm.)
 */
function shiftRows(h: tf.Tensor3D, offset: -1 | 1): tf.Tensor3D {
  const [n, rows, c] = h.shape;
  return tf.slice(tf.pad(h, [[0, 0], [1, 1], [0, 0]]), [0, 1 + offset, 0], [n, rows, c]);
}

/**
 * One step `[N, R, C]`: `base + Σ_k gates[k] ⊙ shift(prev, offsets[k])`, with
 * offsets (−1, 0, +1) for the forward recurrence and (+1, 0, −1) for its adjoint.
 */
function step(base: tf.Tensor3D, gates: tf.Tensor3D[], prev: tf.Tensor3D, adjoint: boolean): tf.Tensor3D {
  if (gates.length === 1) return tf.add(base, tf.mul(gates[0]!, prev));
  const sign = adjoint ? -1 : 1;
  return tf.addN([base, tf.mul(gates[0]!, shiftRows(prev, (-1 * sign) as -1 | 1)), tf.mul(gates[1]!, prev), tf.mul(gates[2]!, shiftRows(prev, sign as -1 | 1))]) as tf.Tensor3D;
}

/** Gathers each tap's gates per step: `[tap][t]`, optionally moved to the row each gate reads from. */
function gatherGates(gData: Float32Array, indices: Int32Array, group: ScanGroup, shape: ScanShape, taps: ScanTaps, atSources: boolean): tf.Tensor3D[][] {
  const c = shape.channels;
  // At the source row, the gate of tap k (which reads row r + k − 1) sits at
  // row r + k − 1: reading it there means reading row r − (k − 1).
  return Array.from({ length: taps }, (_, k) => gatherSteps(gData, indices, group, shape, { block: taps * c, offset: k * c, rowShift: atSources && taps === 3 ? 1 - k : 0 }));
}

/** Forward pass: the states of every direction, `[D, B, H, W, C]`. */
function scanForward(aData: Float32Array, gData: Float32Array, groups: ScanGroup[], shape: ScanShape, taps: ScanTaps): Float32Array {
  const out = new Float32Array(shape.directions * shape.batch * shape.height * shape.width * shape.channels);
  for (const group of groups) {
    tf.tidy(() => {
      const nhwd = blockIndices(group, shape, 'nhwd');
      const inputs = gatherSteps(aData, nhwd, group, shape, { block: shape.channels });
      const gates = gatherGates(gData, nhwd, group, shape, taps, false);
      const states: tf.Tensor3D[] = [inputs[0]!];
      for (let t = 1; t < group.steps; t++) {
        states.push(tf.tidy(() => step(inputs[t]!, gates.map((tap) => tap[t]!), states[t - 1]!, false)));
      }
      scatterSteps(tf.stack(states).dataSync() as Float32Array, out, blockIndices(group, shape, 'dnhw'), shape, { block: shape.channels });
    });
  }
  return out;
}

/**
 * Backward pass from `dy` and the states `h` (both `[D, B, H, W, C]`):
 * `λ_{L−1} = dy_{L−1}`, `λ_{t−1} = dy_{t−1} + Σ_k shift_kᵀ(g_{k,t} ⊙ λ_t)`, then
 * `∂a = λ` and `∂g_{k,t} = λ_t ⊙ shift_k(h_{t−1})` for all steps at once.
 * Returns `[∂a, ∂gates]` in the inputs' layouts.
 */
function scanBackward(dyData: Float32Array, gData: Float32Array, hData: Float32Array, groups: ScanGroup[], shape: ScanShape, taps: ScanTaps): [Float32Array, Float32Array] {
  const c = shape.channels;
  const dA = new Float32Array(dyData.length);
  const dG = new Float32Array(gData.length);
  for (const group of groups) {
    tf.tidy(() => {
      const nhwd = blockIndices(group, shape, 'nhwd');
      const dnhw = blockIndices(group, shape, 'dnhw');
      const seeds = gatherSteps(dyData, dnhw, group, shape, { block: c });
      // shift_kᵀ(g ⊙ λ)[r] = g[r − (k − 1)] λ[r − (k − 1)]: gates taken at their source rows.
      const gates = gatherGates(gData, nhwd, group, shape, taps, true);
      const lambdas = new Array<tf.Tensor3D>(group.steps);
      lambdas[group.steps - 1] = seeds[group.steps - 1]!;
      for (let t = group.steps - 1; t >= 1; t--) {
        lambdas[t - 1] = tf.tidy(() => step(seeds[t - 1]!, gates.map((tap) => tap[t]!), lambdas[t]!, true));
      }
      const lambda = tf.stack(lambdas) as tf.Tensor4D;
      scatterSteps(lambda.dataSync() as Float32Array, dA, nhwd, shape, { block: c });
      const states = gatherSteps(hData, dnhw, group, shape, { block: c });
      const [steps, count, rows] = lambda.shape;
      const previous = tf.reshape(tf.stack([tf.zeros([count, rows, c]), ...states.slice(0, steps - 1)]), [steps * count, rows, c]) as tf.Tensor3D;
      const flat = tf.reshape(lambda, [steps * count, rows, c]);
      const neighbours = taps === 1 ? [previous] : [shiftRows(previous, -1), previous, shiftRows(previous, 1)];
      neighbours.forEach((neighbour, k) => {
        scatterSteps(tf.mul(flat, neighbour).dataSync() as Float32Array, dG, nhwd, shape, { block: taps * c, offset: k * c });
      });
    });
  }
  return [dA, dG];
}

/**
 * Propagates every direction of `directions` with its own input and gates:
 * `h_0 = a_0`, `h_t = a_t + Σ_k g_{k,t} ⊙ h_{t−1}[· + k − 1]` along the
 * direction (steps = columns or rows in the direction's order; the shift runs
 * across the step, zero outside the image). Directions with equal step and row
 * counts share one loop. Differentiable in `a` and `gates` through a custom
 * gradient: one reverse (adjoint) scan with the same per-step cost.
 * @param a - `[B, H, W, D, C]`, the input term of every step, per direction
 * @param gates - `[B, H, W, D, taps·C]` (channel blocks g1, g2, g3 for three taps)
 * @param directions - the D directions
 * @param taps - neighbours per pixel
 * @returns `[D, B, H, W, C]`
 */
export function scanDirections(a: tf.Tensor5D, gates: tf.Tensor5D, directions: readonly SpnDirection[], taps: ScanTaps): tf.Tensor5D {
  const [batch, height, width, count, channels] = a.shape;
  const shape: ScanShape = { batch, height, width, directions: count, channels };
  const groups = scanGroups(directions, shape);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [aIn, gIn, save] = args as [tf.Tensor5D, tf.Tensor5D, tf.GradSaveFunc];
    const states = scanForward(aIn.dataSync() as Float32Array, gIn.dataSync() as Float32Array, groups, shape, taps);
    const value = tf.tensor5d(states, [count, batch, height, width, channels]);
    save([gIn, value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor5D, saved: tf.Tensor[]) => {
        const [dA, dG] = scanBackward(dy.dataSync() as Float32Array, saved[0]!.dataSync() as Float32Array, saved[1]!.dataSync() as Float32Array, groups, shape, taps);
        return [tf.tensor5d(dA, a.shape), tf.tensor5d(dG, gates.shape)];
      },
    };
  });
  return op(a, gates) as tf.Tensor5D;
}
