/**
 * Convolution gradients composed from fast forward ops (conv2d, depthwise
 * conv2d, matMul), valid for any stride, dilation and padding. They back both
 * the wasm kernels tfjs lacks and the dilation-capable gradients.
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** Padding as tfjs kernels carry it in their attrs. */
export type ConvPad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** Normalised 2-D convolution geometry for NHWC tensors. */
export interface ConvGeometry {
  strides: [number, number];
  dilations: [number, number];
  pad: ConvPad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function pair(value: number | [number, number] | number[] | undefined, fallback: number): [number, number] {
  if (value === undefined || value === null) return [fallback, fallback];
  if (typeof value === 'number') return [value, value];
  return [value[0] ?? fallback, value[1] ?? value[0] ?? fallback];
}

/** Reads strides/dilations/pad from a kernel's attrs. */
export function geometryFromAttrs(attrs: Record<string, unknown>): ConvGeometry {
  return {
    strides: pair(attrs['strides'] as number | [number, number], 1),
    dilations: pair(attrs['dilations'] as number | [number, number] | undefined, 1),
    pad: attrs['pad'] as ConvPad,
    dimRoundingMode: attrs['dimRoundingMode'] as ConvGeometry['dimRoundingMode'],
  };
}

/** True when every dilation is 1. */
export function isUndilated(geometry: ConvGeometry): boolean {
  return geometry.dilations[0] === 1 && geometry.dilations[1] === 1;
}

function convInfo(xShape: number[], filterShape: number[], g: ConvGeometry, depthwise: boolean): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    g.strides,
    g.dilations,
    g.pad,
    g.dimRoundingMode,
    depthwise,
  );
}

/** Pads (positive) or crops (negative) the two spatial axes of an NHWC tensor. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  let out = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [b, h, w, c] = out.shape;
    const t = Math.max(0, -top);
    const l = Math.max(0, -left);
    out = tf.slice(out, [0, t, l, 0], [b, h - t - Math.max(0, -bottom), w - l - Math.max(0, -right), c]);
  }
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    out = tf.pad(out, [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]]);
  }
  return out;
}

/** Inserts `stride − 1` zeros between output positions (the transposed-conv upsampling). */
function insertZeros(dy: tf.Tensor4D, strides: [number, number]): tf.Tensor4D {
  const [sh, sw] = strides;
  if (sh === 1 && sw === 1) return dy;
  const [b, h, w, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [b, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  const dense = tf.reshape(spread, [b, h * sh, w * sw, c]);
  return tf.slice(dense, [0, 0, 0, 0], [b, (h - 1) * sh + 1, (w - 1) * sw + 1, c]) as tf.Tensor4D;
}

/**
 * dy spread back onto the input grid and padded so that a stride-1, `valid`,
 * dilated correlation with the spatially flipped filter yields dx.
 */
function dyForInputGradient(xShape: number[], dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo, g: ConvGeometry): tf.Tensor4D {
  const spread = insertZeros(dy, g.strides);
  const extentH = (info.filterHeight - 1) * g.dilations[0];
  const extentW = (info.filterWidth - 1) * g.dilations[1];
  const top = extentH - info.padInfo.top;
  const left = extentW - info.padInfo.left;
  const bottom = xShape[1]! + extentH - spread.shape[1] - top;
  const right = xShape[2]! + extentW - spread.shape[2] - left;
  return padOrCrop(spread, top, bottom, left, right);
}

/**
 * `filter` flipped in both spatial axes (`tf.reverse(filter, [0, 1])`): the
 * kh·kw taps are contiguous blocks, so this is one slice per tap and a
 * concat — memory copies — where tfjs-wasm's `Reverse` is a generic loop
 * (78 ms on a 3×3×512×512 filter against 4 ms, 24 calls per ResNet-18
 * training step).
 * @param filter - `[kh, kw, a, b]`
 */
function flipSpatially(filter: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, a, b] = filter.shape;
  const taps = kh * kw;
  if (taps === 1) return filter;
  const blocks = tf.reshape(filter, [taps, a * b]);
  const reversed = tf.concat(Array.from({ length: taps }, (_, t) => tf.slice(blocks, [taps - 1 - t, 0], [1, a * b])), 0);
  return tf.reshape(reversed, [kh, kw, a, b]);
}

/**
 * Gradient of `conv2d(x, filter)` w.r.t. x, for any stride and dilation.
 * @param xShape - shape of x, NHWC
 * @param dy - upstream gradient, NHWC
 * @param filter - `[kh, kw, inC, outC]`
 * @param g - the forward convolution's geometry
 */
export function conv2dInputGradient(xShape: number[], dy: tf.Tensor4D, filter: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(xShape, filter.shape, g, false);
    const padded = dyForInputGradient(xShape, dy, info, g);
    const flipped = flipSpatially(tf.transpose(filter, [0, 1, 3, 2]) as tf.Tensor4D);
    return tf.conv2d(padded, flipped, 1, 'valid', 'NHWC', g.dilations);
  });
}

/** The input windows of every filter tap: tap (i, j) gives x at (o·s + i·d − pad). */
function forEachTap<T>(x: tf.Tensor4D, info: tf.backend_util.Conv2DInfo, g: ConvGeometry, fn: (patch: tf.Tensor4D) => T): T[] {
  const { top, left } = info.padInfo;
  const [sh, sw] = g.strides;
  const [dh, dw] = g.dilations;
  const needH = (info.outHeight - 1) * sh + (info.filterHeight - 1) * dh + 1;
  const needW = (info.outWidth - 1) * sw + (info.filterWidth - 1) * dw + 1;
  const [b, , , c] = x.shape;
  const { outHeight, outWidth } = info;
  // Strided: padded to whole strides and viewed as [b, H/sh, sh, W/sw, sw, c], every tap is a plain
  // slice of one stride phase (tfjs-wasm's StridedSlice costs ~6 ms per call on a stem conv's input).
  const phaseH = Math.ceil(needH / sh) * sh;
  const phaseW = Math.ceil(needW / sw) * sw;
  const padded = padOrCrop(x, top, phaseH - x.shape[1] - top, left, phaseW - x.shape[2] - left);
  const phases = tf.reshape(padded, [b, phaseH / sh, sh, phaseW / sw, sw, c]);
  const results: T[] = [];
  for (let i = 0; i < info.filterHeight; i++) {
    for (let j = 0; j < info.filterWidth; j++) {
      const [rowOffset, colOffset] = [i * dh, j * dw];
      const patch = sh === 1 && sw === 1
        ? tf.slice(padded, [0, rowOffset, colOffset, 0], [b, outHeight, outWidth, c])
        : tf.reshape(tf.slice(phases, [0, Math.floor(rowOffset / sh), rowOffset % sh, Math.floor(colOffset / sw), colOffset % sw, 0], [b, outHeight, 1, outWidth, 1, c]), [b, outHeight, outWidth, c]) as tf.Tensor4D;
      results.push(fn(patch));
    }
  }
  return results;
}

/**
 * Gradient of `conv2d(x, filter)` w.r.t. the filter, for any stride and
 * dilation: one `[outC, M]×[M, inC]` matMul per tap (M = batch·outH·outW).
 * @param x - the forward input, NHWC
 * @param dy - upstream gradient, NHWC
 * @param filterShape - `[kh, kw, inC, outC]`
 * @param g - the forward convolution's geometry
 */
export function conv2dFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(x.shape, filterShape, g, false);
    const rows = dy.shape[0] * dy.shape[1] * dy.shape[2];
    const inC = x.shape[3];
    const outC = dy.shape[3];
    // Explicit transpose: wasm's transposed matMul paths are far slower (DESIGN §4).
    const dyT = tf.transpose(tf.reshape(dy, [rows, outC]));
    const taps = forEachTap(x, info, g, (patch) => tf.matMul(dyT, tf.reshape(patch, [rows, inC])));
    const stacked = tf.transpose(tf.stack(taps), [0, 2, 1]);
    return tf.reshape(stacked, [info.filterHeight, info.filterWidth, inC, outC]);
  });
}

/**
 * Gradient of `depthwiseConv2d(x, filter)` w.r.t. x (filter `[kh, kw, inC, mult]`).
 * @param xShape - shape of x, NHWC
 * @param dy - upstream gradient `[b, oh, ow, inC·mult]`
 * @param filter - the depthwise filter
 * @param g - the forward convolution's geometry
 */
export function depthwiseInputGradient(xShape: number[], dy: tf.Tensor4D, filter: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(xShape, filter.shape, g, true);
    const [kh, kw, inC, mult] = filter.shape;
    const padded = dyForInputGradient(xShape, dy, info, g);
    const flipped = tf.reshape(flipSpatially(filter), [kh, kw, inC * mult, 1]) as tf.Tensor4D;
    const perOutput = tf.depthwiseConv2d(padded, flipped, 1, 'valid', 'NHWC', g.dilations);
    const [b, h, w] = perOutput.shape;
    return tf.sum(tf.reshape(perOutput, [b, h, w, inC, mult]), 4) as tf.Tensor4D;
  });
}

/**
 * Gradient of `depthwiseConv2d(x, filter)` w.r.t. the filter.
 * @param x - the forward input, NHWC
 * @param dy - upstream gradient `[b, oh, ow, inC·mult]`
 * @param filterShape - `[kh, kw, inC, mult]`
 * @param g - the forward convolution's geometry
 */
export function depthwiseFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(x.shape, filterShape, g, true);
    const [kh, kw, inC, mult] = filterShape as [number, number, number, number];
    const rows = dy.shape[0] * dy.shape[1] * dy.shape[2];
    const dyRows = tf.reshape(dy, [rows, inC, mult]);
    const taps = forEachTap(x, info, g, (patch) => tf.sum(tf.mul(tf.reshape(patch, [rows, inC, 1]), dyRows), 0));
    return tf.reshape(tf.stack(taps), [kh, kw, inC, mult]);
  });
}
