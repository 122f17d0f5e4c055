/**
 * The ConvCRF's two window steps as fused, differentiable tfjs ops with
 * hand-written gradients, run by the WebAssembly SIMD kernels of
 * `conv_crf_window_wasm.ts` on the frame layout of `conv_crf_frame.ts`:
 *
 * - {@link windowKernelTaps}: `A_t = Σ_k w_k · K̃_k,t` from the kernels'
 *   features and weights, as a `[k², slots]` tensor in the frame layout (only
 *   {@link windowMessages} reads it);
 * - {@link windowMessages}: `msg = Σ_t A_t ⊙ shift_t(Q)`, `[B, h, w, C]`.
 *
 * No k² shifted copies of anything are made. The ops read their inputs with
 * `dataSync`, so they suit backends whose tensors live in CPU memory (wasm,
 * cpu; see `implementation.ts`). A stays in the kernels' memory between the
 * iterations of a call and into their backward pass (`WindowInstance.resident`),
 * so it is copied in only when another call has overwritten it. What a backward pass needs besides
 * saved tensors (the features' and Q's values) is kept in plain arrays by the
 * gradient closures: nothing to leak. The taps' gradient recomputes K (cheaper
 * than keeping k² planes per kernel) and runs `conv_crf_taps_backward_wasm.ts`.
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs';
import {
  frameLayout,
  prepareFrame,
  readPlanes,
  readRows,
  releaseFrame,
  writeFeaturePlanes,
  writeRows,
  zeroMargins,
  type FrameLayout,
  type PreparedFrame,
} from './conv_crf_frame.js';
import { MAX_MESSAGE_ROW, type WindowKernelExports } from './conv_crf_window_wasm.js';
import type { CrfNormalization } from './params.js';

const NORM_MODE: Record<CrfNormalization, number> = { symmetric: 0, after: 1, none: 2 };

function float32(x: tf.Tensor): Float32Array {
  return x.dataSync() as Float32Array;
}

/** Leaves one kernel's K (taps region) and u (scales plane) in the frame's memory. */
function kernelTapsInFrame(frame: PreparedFrame, layout: FrameLayout, features: Float32Array, dims: number, normalization: CrfNormalization): void {
  const { instance, at, floats } = frame;
  const origin = 4 * layout.margin; // position 0 of a plane
  writeFeaturePlanes(frame, layout, at.features, features, dims);
  instance.kernel.gaussian(at.features + origin, dims, at.planeBytes, at.taps + origin, at.real + origin, at.planeShifts, layout.taps, layout.positions);
  zeroMargins(frame, layout, at.taps, layout.taps);
  floats.fill(0, at.scales / 4, at.scales / 4 + layout.slots); // the margins are read as neighbours' u
  instance.kernel.norms(at.taps + origin, layout.taps, at.planeBytes, at.real + origin, at.scales + origin, layout.positions, NORM_MODE[normalization]);
}

/**
 * The merged, normalised, weighted window kernel `A_t(p) = Σ_k w_k·K̃_k,t(p)`
 * in the frame layout `[k², slots]`, 0 off the grid; differentiable in the
 * features and the weights.
 * @param features - per kernel, `[B, h, w, D_k]` on the grid the messages use
 * @param weights - per kernel, a scalar tensor
 * @param kernelSize - window side k (odd)
 * @param normalization - the kernels' normalisation
 */
export function windowKernelTaps(features: tf.Tensor4D[], weights: tf.Tensor[], kernelSize: number, normalization: CrfNormalization): tf.Tensor2D {
  const [batch, height, width] = features[0]!.shape;
  const layout = frameLayout(batch, height, width, kernelSize);
  const count = features.length;
  const dims = features.map((f) => f.shape[3]);
  const maxDims = Math.max(...dims);
  const op = tf.customGrad((...args: unknown[]) => {
    const inputs = args.slice(0, 2 * count) as tf.Tensor[];
    const values = inputs.slice(0, count).map(float32);
    const scales = inputs.slice(count).map((w) => float32(w)[0]!);
    const frame = prepareFrame(layout, maxDims, 4);
    const { instance, at, floats } = frame;
    const origin = 4 * layout.margin;
    const weightsStart = at.weights / 4;
    const weightsEnd = weightsStart + layout.taps * layout.slots;
    floats.fill(0, weightsStart, weightsEnd);
    values.forEach((f, k) => {
      kernelTapsInFrame(frame, layout, f, dims[k]!, normalization);
      const symmetric = normalization === 'symmetric' ? 1 : 0;
      instance.kernel.accumulate(at.taps + origin, layout.taps, at.planeBytes, at.scales + origin, at.planeShifts, at.weights + origin, layout.positions, scales[k]!, symmetric);
    });
    const merged = floats.slice(weightsStart, weightsEnd);
    const value = tf.tensor2d(merged, [layout.taps, layout.slots]);
    tapValues.set(value.dataId, { values: merged, key: layout.key });
    instance.resident = { dataId: value.dataId, key: layout.key };
    releaseFrame();
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const back = prepareFrame(layout, maxDims, 4);
        const { instance: inst, at: b, floats } = back;
        // ∂A goes where A was: A is not needed any more in this backward pass.
        floats.set(float32(dy), b.weights / 4);
        zeroMargins(back, layout, b.weights, layout.taps);
        inst.resident = null;
        const dFeatures: tf.Tensor[] = [];
        const dWeights: tf.Tensor[] = [];
        const mode = NORM_MODE[normalization];
        values.forEach((f, k) => {
          const d = dims[k]!;
          const w = scales[k]!;
          kernelTapsInFrame(back, layout, f, d, normalization);
          const [upstream, taps, scalesAt, norms] = [b.weights, b.taps, b.scales, b.norms].map((address) => address + origin) as [number, number, number, number];
          inst.kernel.tapNorms(upstream, taps, layout.taps, b.planeBytes, scalesAt, b.planeShifts, norms, b.parts + origin, layout.positions, w, mode);
          inst.kernel.tapGrads(upstream, taps, layout.taps, b.planeBytes, scalesAt, b.planeShifts, norms, layout.positions, w, mode);
          inst.kernel.featureGrads(taps, layout.taps, b.planeBytes, b.features + origin, d, b.planeShifts, b.featureGrads + origin, layout.positions);
          // ∂w summed in float64 over the per-position parts (padding positions hold 0).
          let dWeight = 0;
          const parts = (b.parts + origin) / 4;
          for (let i = parts; i < parts + layout.positions; i++) dWeight += floats[i]!;
          const gradients = floats.subarray(b.featureGrads / 4, b.featureGrads / 4 + d * layout.slots);
          dFeatures.push(tf.tensor4d(readPlanes(gradients, layout, d), inputs[k]!.shape as [number, number, number, number]));
          dWeights.push(tf.fill(inputs[count + k]!.shape, dWeight));
        });
        releaseFrame();
        return [...dFeatures, ...dWeights];
      },
    };
  });
  return op(...features, ...weights) as tf.Tensor2D;
}

/**
 * A's values by the data id of the tensor {@link windowKernelTaps} returned:
 * the messages' backward pass needs them after the forward pass's tidy has
 * disposed that tensor, and `save()` would copy all k² planes per message on
 * wasm (its clone runs the Identity kernel). The array is the one the tensor
 * was made from (no extra copy); the entry goes with the data id.
 */
const tapValues = new WeakMap<object, { readonly values: Float32Array; readonly key: string }>();

/** Makes the frame's weights region hold the taps with this data id (copied in unless still resident from the call that made them). */
function ensureWeights(frame: PreparedFrame, layout: FrameLayout, dataId: object): void {
  const { instance, at, floats } = frame;
  const resident = instance.resident;
  if (resident !== null && resident.dataId === dataId && resident.key === layout.key) return;
  const taps = tapValues.get(dataId);
  if (taps === undefined || taps.key !== layout.key) throw new Error('windowMessages: the taps must come from windowKernelTaps on the same grid and window');
  floats.set(taps.values, at.weights / 4);
  instance.resident = { dataId, key: layout.key };
}

/**
 * A tensor of a view of the kernels' memory: the wasm backend copies a new
 * tensor's values into its own heap, so the view is safe there and saves a
 * copy; other backends may keep the array itself, so they get a copy.
 */
function tensorFromMemory(view: Float32Array, shape: [number, number]): tf.Tensor2D {
  return tf.tensor2d(tf.getBackend() === 'wasm' ? view : view.slice(), shape);
}

/** The message kernel for rows of `rowBytes`: the whole row in registers where a variant for its width exists. */
function messageKernel(kernel: WindowKernelExports, rowBytes: number): WindowKernelExports['message'] {
  const vectors = rowBytes / 16;
  return vectors >= 2 && vectors <= MAX_MESSAGE_ROW ? kernel[`messageRow${vectors}`] : kernel.message;
}

/**
 * `msg(p) = Σ_t A_t(p)·Q(p + o_t)` (0 outside the grid), `[B, h, w, C]`;
 * differentiable in both inputs.
 * @param taps - A from {@link windowKernelTaps} (same grid and k)
 * @param q - Q, `[B, h, w, C]`
 * @param kernelSize - window side k (odd)
 */
export function windowMessages(taps: tf.Tensor2D, q: tf.Tensor4D, kernelSize: number): tf.Tensor4D {
  const [batch, height, width, channels] = q.shape;
  const layout = frameLayout(batch, height, width, kernelSize);
  const tableBytes = 8 * layout.taps;
  const op = tf.customGrad((...args: unknown[]) => {
    const tapsId = (args[0] as tf.Tensor2D).dataId;
    const values = float32(args[1] as tf.Tensor);
    const frame = prepareFrame(layout, 1, channels);
    const { instance, at } = frame;
    ensureWeights(frame, layout, tapsId);
    const rowOrigin = layout.margin * at.rowBytes;
    writeRows(frame, layout, at.values, values, channels);
    messageKernel(instance.kernel, at.rowBytes)(at.weights + 4 * layout.margin, at.values + rowOrigin, at.out + rowOrigin, at.forwardTable, at.forwardTable + tableBytes, layout.positions, at.rowBytes);
    const value = tf.tensor4d(readRows(frame, layout, at.out, channels), q.shape);
    releaseFrame();
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const back = prepareFrame(layout, 1, channels);
        const { instance: inst, at: b, floats } = back;
        ensureWeights(back, layout, tapsId);
        const origin = layout.margin * b.rowBytes;
        writeRows(back, layout, b.upstream, float32(dy), channels);
        writeRows(back, layout, b.values, values, channels);
        // ∂Q(p) = Σ_t A_t(p − s_t)·G(p − s_t): the message kernel on the gradient table.
        messageKernel(inst.kernel, b.rowBytes)(b.weights + 4 * layout.margin, b.upstream + origin, b.out + origin, b.gradientTable, b.gradientTable + tableBytes, layout.positions, b.rowBytes);
        const dValues = tf.tensor4d(readRows(back, layout, b.out, channels), q.shape);
        // ∂A_t(p) = G(p)·Q(p + s_t), into the taps region; its margins are zeroed (the kernel writes positions only).
        zeroMargins(back, layout, b.taps, layout.taps);
        const planes = b.taps / 4;
        inst.kernel.dots(b.upstream + origin, b.values + origin, b.taps + 4 * layout.margin, b.forwardTable, b.forwardTable + tableBytes, layout.positions, b.rowBytes);
        const dTaps = tensorFromMemory(floats.subarray(planes, planes + layout.taps * layout.slots), [layout.taps, layout.slots]);
        releaseFrame();
        return [dTaps, dValues];
      },
    };
  });
  return op(taps, q) as tf.Tensor4D;
}
