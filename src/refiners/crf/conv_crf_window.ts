/**
 * The ConvCRF's two window steps as fused, differentiable tfjs ops with
 * hand-written gradients (the arithmetic is in `conv_crf_window_kernels.ts`):
 *
 * - {@link windowKernelTaps}: `A_t = Σ_k w_k · K̃_k,t` from the kernels'
 *   features and weights, `[B, h, w, k²]`;
 * - {@link windowMessages}: `msg = Σ_t A_t ⊙ shift_t(Q)`, `[B, h, w, C]`.
 *
 * They read their inputs with `dataSync` and compute on the CPU, so they
 * suit backends whose tensors live in CPU memory (wasm, cpu); the tfjs-ops
 * path stays for the others and as the reference. What a backward pass needs
 * (the taps, their norms, the inputs' values) is kept in plain arrays by the
 * gradient closures, not in tensors: nothing to leak, and freed with the tape.
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs';
import {
  gaussianTaps,
  gaussianTapsBackward,
  normaliseTaps,
  normaliseTapsBackward,
  windowMessage,
  windowMessageBackward,
  type NormalisedTaps,
  type WindowGrid,
} from './conv_crf_window_kernels.js';
import type { CrfNormalization } from './params.js';

function gridOf(x: tf.Tensor4D, kernelSize: number): WindowGrid {
  const [batch, height, width] = x.shape;
  return { batch, height, width, kernelSize };
}

function float32(x: tf.Tensor): Float32Array {
  return x.dataSync() as Float32Array;
}

/**
 * The merged, normalised, weighted window kernel `A_t(p) = Σ_k w_k·K̃_k,t(p)`,
 * pixel-major `[B, h, w, k²]` (0 on taps outside the grid); differentiable
 * in the features and the weights.
 * @param features - per kernel, `[B, h, w, D_k]` on the grid the messages use
 * @param weights - per kernel, a scalar tensor
 * @param kernelSize - window side k (odd)
 * @param normalization - the kernels' normalisation
 */
export function windowKernelTaps(features: tf.Tensor4D[], weights: tf.Tensor[], kernelSize: number, normalization: CrfNormalization): tf.Tensor4D {
  const grid = gridOf(features[0]!, kernelSize);
  const count = features.length;
  const op = tf.customGrad((...args: unknown[]) => {
    const inputs = args.slice(0, 2 * count) as tf.Tensor[];
    const values = inputs.slice(0, count).map(float32);
    const scales = inputs.slice(count).map((w) => float32(w)[0]!);
    const dims = inputs.slice(0, count).map((f) => f.shape[3]!);
    const raw = values.map((f, k) => gaussianTaps(f, dims[k]!, grid));
    const normalised: NormalisedTaps[] = raw.map((taps) => normaliseTaps(taps, grid, normalization));
    const merged = new Float32Array(raw[0]!.length);
    normalised.forEach(({ values: taps }, k) => {
      const w = scales[k]!;
      for (let i = 0; i < merged.length; i++) merged[i] += w * taps[i]!;
    });
    const value = tf.tensor4d(merged, [grid.batch, grid.height, grid.width, kernelSize * kernelSize]);
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const upstream = float32(dy);
        const dFeatures: tf.Tensor[] = [];
        const dWeights: tf.Tensor[] = [];
        for (let k = 0; k < count; k++) {
          const taps = normalised[k]!.values;
          const w = scales[k]!;
          let dWeight = 0;
          const scaled = new Float32Array(upstream.length);
          for (let i = 0; i < upstream.length; i++) {
            dWeight += upstream[i]! * taps[i]!;
            scaled[i] = w * upstream[i]!;
          }
          const dRaw = normaliseTapsBackward(scaled, raw[k]!, normalised[k]!, grid, normalization);
          dFeatures.push(tf.tensor(gaussianTapsBackward(dRaw, raw[k]!, values[k]!, dims[k]!, grid), inputs[k]!.shape));
          dWeights.push(tf.fill(inputs[count + k]!.shape, dWeight));
        }
        return [...dFeatures, ...dWeights];
      },
    };
  });
  return op(...features, ...weights) as tf.Tensor4D;
}

/**
 * `msg(p) = Σ_t A_t(p)·Q(p + o_t)` (0 outside the grid), `[B, h, w, C]`;
 * differentiable in both inputs.
 * @param taps - A, `[B, h, w, k²]` from {@link windowKernelTaps}
 * @param q - Q, `[B, h, w, C]`
 * @param kernelSize - window side k (odd)
 */
export function windowMessages(taps: tf.Tensor4D, q: tf.Tensor4D, kernelSize: number): tf.Tensor4D {
  const grid = gridOf(q, kernelSize);
  const channels = q.shape[3];
  const op = tf.customGrad((...args: unknown[]) => {
    const weights = float32(args[0] as tf.Tensor);
    const values = float32(args[1] as tf.Tensor);
    const value = tf.tensor4d(windowMessage(weights, values, channels, grid), q.shape);
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const grads = windowMessageBackward(float32(dy), weights, values, channels, grid);
        return [tf.tensor(grads.weights, taps.shape), tf.tensor(grads.values, q.shape)];
      },
    };
  });
  return op(taps, q) as tf.Tensor4D;
}
