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
function stepsAndRows(direction: SpnDirection, shape: ScanShape): [number, number] {
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
function stepStart(direction: SpnDirection, t: number, shape: ScanShape): { first: number; stride: number } {
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

/**
 * Calls `visit(pixel, d, dst)` for every block of step t in group order:
 * `pixel` = (b·H + h)·W + w, `d` the direction's index on the D axis, and
 * `dst` the block's offset in the step tensor `[G, B, R, ·]`. `rowShift`
 * reads row r + rowShift instead (skipped off the rows).
 */
function forEachBlock(group: ScanGroup, shape: ScanShape, t: number, rowShift: number, visit: (pixel: number, d: number, dst: number) => void): void {
  const { batch, height, width } = shape;
  const rows = group.rows;
  const from = Math.max(0, -rowShift);
  const to = Math.min(rows, rows - rowShift);
  group.directions.forEach((direction, j) => {
    const d = group.members[j]!;
    const { first, stride } = stepStart(direction, t, shape);
    for (let b = 0; b < batch; b++) {
      const start = first + b * height * width;
      const dst = (j * batch + b) * rows;
      for (let r = from; r < to; r++) visit(start + (r + rowShift) * stride, d, dst + r);
    }
  });
}

/**
 * Copies `width` floats. A plain loop: for the short runs moved here (one
 * pixel's channels) it beats `set(subarray(…))`, which allocates a view per call.
 */
function copyRun(from: Float32Array, fromIndex: number, to: Float32Array, toIndex: number, width: number): void {
  for (let i = 0; i < width; i++) to[toIndex + i] = from[fromIndex + i]!;
}

/** Memory layout of a per-direction tensor: `[B, H, W, D, block]` or `[D, B, H, W, block]`. */
export type DirectionLayout = 'nhwd' | 'dnhw';

/** Block offset of (pixel, d) in a tensor of the given layout. */
function blockIndex(layout: DirectionLayout, pixel: number, d: number, shape: ScanShape): number {
  return layout === 'nhwd' ? pixel * shape.directions + d : d * shape.batch * shape.height * shape.width + pixel;
}

/** Which part of each (pixel, direction) block a gather or scatter moves. */
export interface BlockSlice {
  /** Floats per (pixel, direction) in the NHWD/DNHW tensor: C, or taps·C for gates. */
  block: number;
  /** Where the moved part starts in the block (k·C for gate k). @defaultValue 0 */
  offset?: number;
  /** Floats moved per block. @defaultValue C */
  width?: number;
  /** Read row r + rowShift for row r (zero off the rows). @defaultValue 0 */
  rowShift?: number;
  /** Where the direction axis sits. @defaultValue 'nhwd' */
  layout?: DirectionLayout;
}

/**
 * Gathers one group's per-step tensors `[G·B, R, width]`, step 0 first in
 * every direction's own order.
 * @param data - the per-direction tensor's values
 * @param slice - the part of each block to take
 */
export function gatherSteps(data: Float32Array, group: ScanGroup, shape: ScanShape, slice: BlockSlice): tf.Tensor3D[] {
  const { block, offset = 0, width = shape.channels, rowShift = 0, layout = 'nhwd' } = slice;
  const count = group.members.length * shape.batch;
  return Array.from({ length: group.steps }, (_, t) => {
    const out = new Float32Array(count * group.rows * width);
    forEachBlock(group, shape, t, rowShift, (pixel, d, dst) => {
      copyRun(data, blockIndex(layout, pixel, d, shape) * block + offset, out, dst * width, width);
    });
    return tf.tensor3d(out, [count, group.rows, width]);
  });
}

/**
 * Writes one group's steps (`values` = the stacked `[L, G·B, R, width]`)
 * back into `out`, the inverse of {@link gatherSteps} (without row shift).
 */
export function scatterSteps(values: Float32Array, out: Float32Array, group: ScanGroup, shape: ScanShape, slice: BlockSlice): void {
  const { block, offset = 0, width = shape.channels, layout = 'nhwd' } = slice;
  const perStep = group.members.length * shape.batch * group.rows;
  for (let t = 0; t < group.steps; t++) {
    forEachBlock(group, shape, t, 0, (pixel, d, src) => {
      copyRun(values, (t * perStep + src) * width, out, blockIndex(layout, pixel, d, shape) * block + offset, width);
    });
  }
}
