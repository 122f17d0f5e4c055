/**
 * Max-pools a feature map to a target grid (DifNet pools each similarity
 * feature to the seed's size).
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { resizeBilinear, type Size2D } from './resize.js';

/**
 * Max-pools `x` to `size`. Integer ratios use a plain `maxPool` with
 * kernel = stride = ratio (what the reference's stride-8 features give);
 * other larger inputs are first resized bilinearly to the next integer
 * multiple of `size`; smaller inputs are upsampled bilinearly.
 * @param x - `[B, H, W, C]`
 * @param size - `[h, w]`
 */
export function adaptiveMaxPool(x: tf.Tensor4D, size: Size2D): tf.Tensor4D {
  return tf.tidy(() => {
    const [, height, width] = x.shape;
    const [h, w] = size;
    if (height === h && width === w) return x;
    if (height < h || width < w) return resizeBilinear(x, size);
    const ratio: Size2D = [Math.ceil(height / h), Math.ceil(width / w)];
    const aligned = resizeBilinear(x, [h * ratio[0], w * ratio[1]]);
    return blockMaxPool(aligned, ratio);
  });
}

/**
 * The gradient of a max pool over non-overlapping `ratio` blocks: `dy` to
 * the first maximum of each block in row-major order (tfjs's MaxPoolGrad
 * rule), by one pass over x's values.
 */
function blockMaxPoolGradient(x: tf.Tensor4D, dy: tf.Tensor4D, ratio: Size2D): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  const [rh, rw] = ratio;
  const [oh, ow] = [height / rh, width / rw];
  const values = x.dataSync() as Float32Array;
  const upstream = dy.dataSync() as Float32Array;
  const dx = new Float32Array(values.length);
  const best = new Float32Array(channels);
  const at = new Int32Array(channels);
  for (let b = 0; b < batch; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        best.fill(-Infinity);
        at.fill(-1);
        for (let iy = 0; iy < rh; iy++) {
          for (let ix = 0; ix < rw; ix++) {
            const base = ((b * height + oy * rh + iy) * width + ox * rw + ix) * channels;
            for (let c = 0; c < channels; c++) {
              const v = values[base + c]!;
              // Strictly greater: ties keep the first; a NaN is taken where nothing was yet.
              if (v > best[c]! || (at[c] === -1 && !(v <= best[c]!))) {
                best[c] = v;
                at[c] = base + c;
              }
            }
          }
        }
        const out = ((b * oh + oy) * ow + ox) * channels;
        for (let c = 0; c < channels; c++) if (at[c]! >= 0) dx[at[c]!] += upstream[out + c]!;
      }
    }
  }
  return tf.tensor4d(dx, x.shape);
}

/**
 * `maxPool(x, ratio, ratio, 'valid')` for sizes that are whole multiples of
 * `ratio`. On wasm and cpu its gradient is {@link blockMaxPoolGradient}:
 * tfjs-wasm's MaxPoolGrad took 98 ms for one 8×8 pool of [8, 64, 64, 32] in
 * a DifNet training step (a tenth of the step); elsewhere (webgl) tfjs's own.
 */
function blockMaxPool(x: tf.Tensor4D, ratio: Size2D): tf.Tensor4D {
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') return tf.maxPool(x, ratio, ratio, 'valid');
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    save([input]);
    return {
      value: tf.maxPool(input, ratio, ratio, 'valid'),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => blockMaxPoolGradient(saved[0] as tf.Tensor4D, dy, ratio),
    };
  });
  return op(x) as tf.Tensor4D;
}
