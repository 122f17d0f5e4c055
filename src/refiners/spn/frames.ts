/**
 * Where each scan step's data lives in NHWC memory, and the block copies that
 * gather it into per-step tensors (and scatter results back).
 *
 * A step of direction d is one column (left/right) or one row (top/bottom)
 * of the image, visited in d's own order; its "rows" r run across it. Every
 * copied block is the C (or taps·C) channels of one pixel, contiguous in
 * NHWC, so the gather is a sequence of memcpys: no transposes or reverses of
 * the (large) gate tensor, which on the wasm backend are slow element-wise
 * kernels, and no `tf.slice`, which on wasm copies its whole input each time.
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs';
import type { SpnDirection } from './directions.js';

/** Sizes shared by every tensor of one propagation call. */
export interface ScanShape {
  /** Batch. */
  batch: number;
  /** Image height. */
  height: number;
  /** Image width. */
  width: number;
  /** Number of directions D in the call (the D axis of `a`/`gates`). */
  directions: number;
  /** Propagated channels C. */
  channels: number;
}

/** Directions scanned together: equal step count L and row count R. */
export interface ScanGroup {
  /** Index of each member on the D axis. */
  members: number[];
  /** The members' directions. */
  directions: SpnDirection[];
  /** Steps L. */
  steps: number;
  /** Rows R across a step. */
  rows: number;
}

/** Steps (L) and rows (R) of a direction's scan. */
export function stepsAndRows(direction: SpnDirection, shape: ScanShape): [number, number] {
  return direction === 'left-to-right' || direction === 'right-to-left' ? [shape.width, shape.height] : [shape.height, shape.width];
}

/**
 * Groups directions with equal (L, R) — both horizontal ones, both vertical
 * ones, or all four when H = W — so one loop of batched ops serves them all.
 */
export function scanGroups(directions: readonly SpnDirection[], shape: ScanShape): ScanGroup[] {
  const groups: ScanGroup[] = [];
  directions.forEach((direction, d) => {
    const [steps, rows] = stepsAndRows(direction, shape);
    let group = groups.find((g) => g.steps === steps && g.rows === rows);
    if (group === undefined) groups.push((group = { members: [], directions: [], steps, rows }));
    group.members.push(d);
    group.directions.push(direction);
  });
  return groups;
}

/**
 * Where direction `direction` is at step t: the flat pixel index
 * ((b·H + h)·W + w) of row r of batch entry b is `first + b·H·W + r·stride`.
 */
export function stepStart(direction: SpnDirection, t: number, shape: ScanShape): { first: number; stride: number } {
  const { height, width } = shape;
  switch (direction) {
    case 'left-to-right':
      return { first: t, stride: width };
    case 'right-to-left':
      return { first: width - 1 - t, stride: width };
    case 'top-to-bottom':
      return { first: t * width, stride: 1 };
    case 'bottom-to-top':
      return { first: (height - 1 - t) * width, stride: 1 };
  }
}

/** Memory layout of a per-direction tensor: `[B, H, W, D, block]` or `[D, B, H, W, block]`. */
export type DirectionLayout = 'nhwd' | 'dnhw';

/**
 * For every step t and every row of the step tensor `[G·B, R]`, the index of
 * the (pixel, direction) block it reads in a tensor of the given layout:
 * `[L · G·B · R]`, computed once per group.
 */
export function blockIndices(group: ScanGroup, shape: ScanShape, layout: DirectionLayout): Int32Array {
  const { batch, height, width, directions } = shape;
  const pixels = batch * height * width;
  const perStep = group.members.length * batch * group.rows;
  const indices = new Int32Array(group.steps * perStep);
  for (let t = 0; t < group.steps; t++) {
    group.directions.forEach((direction, j) => {
      const d = group.members[j]!;
      const { first, stride } = stepStart(direction, t, shape);
      for (let b = 0; b < batch; b++) {
        const row0 = t * perStep + (j * batch + b) * group.rows;
        for (let r = 0; r < group.rows; r++) {
          const pixel = first + b * height * width + r * stride;
          indices[row0 + r] = layout === 'nhwd' ? pixel * directions + d : d * pixels + pixel;
        }
      }
    });
  }
  return indices;
}

/** Which part of each (pixel, direction) block a gather or scatter moves. */
export interface BlockSlice {
  /** Floats per (pixel, direction) in the source/target tensor: C, or taps·C for gates. */
  block: number;
  /** Where the moved part starts in the block (k·C for gate k). @defaultValue 0 */
  offset?: number;
  /** Floats moved per block. @defaultValue C */
  width?: number;
  /** Read row r + rowShift for row r (zero off the rows). @defaultValue 0 */
  rowShift?: number;
}

/**
 * Gathers one group's per-step tensors `[G·B, R, width]`, step 0 first in
 * every direction's own order.
 * @param data - the per-direction tensor's values
 * @param indices - from {@link blockIndices} for the data's layout
 * @param slice - the part of each block to take
 */
export function gatherSteps(data: Float32Array, indices: Int32Array, group: ScanGroup, shape: ScanShape, slice: BlockSlice): tf.Tensor3D[] {
  const { block, offset = 0, width = shape.channels, rowShift = 0 } = slice;
  const { rows, steps } = group;
  const segments = group.members.length * shape.batch;
  const perStep = segments * rows;
  // One allocation for all steps (each step's tensor is uploaded from a view).
  const all = new Float32Array(steps * perStep * width);
  return Array.from({ length: steps }, (_, t) => {
    const out = all.subarray(t * perStep * width, (t + 1) * perStep * width);
    for (let segment = 0; segment < segments; segment++) {
      const row0 = t * perStep + segment * rows;
      for (let r = Math.max(0, -rowShift); r < Math.min(rows, rows - rowShift); r++) {
        const src = indices[row0 + r + rowShift]! * block + offset;
        const dst = (segment * rows + r) * width;
        for (let i = 0; i < width; i++) out[dst + i] = data[src + i]!;
      }
    }
    return tf.tensor3d(out, [segments, rows, width]);
  });
}

/**
 * Writes one group's steps (`values` = the stacked `[L, G·B, R, width]`)
 * back into `out`, the inverse of {@link gatherSteps} (without row shift).
 */
export function scatterSteps(values: Float32Array, out: Float32Array, indices: Int32Array, shape: ScanShape, slice: BlockSlice): void {
  const { block, offset = 0, width = shape.channels } = slice;
  for (let row = 0; row < indices.length; row++) {
    const dst = indices[row]! * block + offset;
    const src = row * width;
    for (let i = 0; i < width; i++) out[dst + i] = values[src + i]!;
  }
}
