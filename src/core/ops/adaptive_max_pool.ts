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
    return tf.maxPool(aligned, ratio, ratio, 'valid');
  });
}
