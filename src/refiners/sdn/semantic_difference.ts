/**
 * The semantic difference convolution (SDN, DESIGN §5) as a differentiable
 * function of its tensors:
 *
 * `Y(p) = Σ_{k ≠ 0} W_kᵀ · ((U(p+k) − U(p)) ⊙ s(V(p+k), V(p)))`
 *
 * over a k×k window (optionally dilated), with out-of-image neighbours
 * excluded (they contribute nothing, rather than a difference to zero
 * padding). The centre tap always multiplies `U(p) − U(p) = 0`, so it is
 * skipped; its weights exist (the kernel has conv2d's `[k, k, C, Cout]`
 * layout) but never receive a gradient.
 *
 * Similarity `s`, decreasing in the guidance difference:
 * - `'diffusivity'` (default): per channel, `s_c = 1/√(1 + ΔV_c²/λ_c²)`, the
 *   Perona–Malik diffusivity. It pairs guidance channel c with feature
 *   channel c, so V must have U's channel count; λ has one entry per channel.
 * - `'embedding'`: one value per neighbour shared by all channels,
 *   `s = exp(−λ‖ΔV‖₁)` (the segmentation-aware mask); V may have any channel
 *   count, λ is a single number.
 *
 * Implementation (fast on wasm): the n = k²−1 shifted copies of U and V are
 * slices of one zero-padded tensor, stacked on a new axis; differences,
 * similarity and the validity mask are a handful of element-wise ops on that
 * stack; the weighted sum over taps and channels is one
 * `[B·H·W, n·C] × [n·C, Cout]` matMul.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../../core/errors.js';

/** How the guidance difference becomes a similarity in (0, 1]. */
export type SimilarityKind = 'diffusivity' | 'embedding';

/** Geometry and similarity of {@link semanticDifferenceConv}. */
export interface SemanticDifferenceOptions {
  /** Odd window size k (the kernel is `[k, k, C, Cout]`). */
  kernelSize: number;
  /** Spacing between taps. @defaultValue 1 */
  dilation?: number;
  /** Similarity form. @defaultValue 'diffusivity' */
  similarity?: SimilarityKind;
}

/** Keeps `λ² ≠ 0` so λ = 0 cannot produce 0/0; below float32 resolution for any usable λ. */
const LAMBDA_FLOOR = 1e-12;

/** One neighbour offset `(dy, dx)` in pixels, with its row in the kernel's k×k taps. */
interface Tap {
  dy: number;
  dx: number;
  index: number;
}

/** The non-centre taps of a k×k window, in the kernel's row-major order. */
function windowTaps(kernelSize: number, dilation: number): Tap[] {
  const half = (kernelSize - 1) / 2;
  const taps: Tap[] = [];
  for (let ky = 0; ky < kernelSize; ky++) {
    for (let kx = 0; kx < kernelSize; kx++) {
      if (ky === half && kx === half) continue;
      taps.push({ dy: (ky - half) * dilation, dx: (kx - half) * dilation, index: ky * kernelSize + kx });
    }
  }
  return taps;
}

/**
 * Validity mask `[1, H, W, n, 1]`: 1 where the neighbour `p + k` lies inside
 * the image. Built in JS (it depends on shapes only, not on data).
 */
function validityMask(height: number, width: number, taps: Tap[]): tf.Tensor5D {
  const n = taps.length;
  const values = new Float32Array(height * width * n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = (y * width + x) * n;
      taps.forEach((tap, t) => {
        const ny = y + tap.dy;
        const nx = x + tap.dx;
        values[base + t] = ny >= 0 && ny < height && nx >= 0 && nx < width ? 1 : 0;
      });
    }
  }
  return tf.tensor5d(values, [1, height, width, n, 1]);
}

/** `[B, H, W, n, C]`: for each tap, the tensor shifted so entry p holds `x(p + k)` (0 outside). */
function shiftedStack(x: tf.Tensor4D, taps: Tap[], reach: number): tf.Tensor5D {
  const [batch, height, width, channels] = x.shape;
  const padded = tf.pad(x, [
    [0, 0],
    [reach, reach],
    [reach, reach],
    [0, 0],
  ]);
  const shifted = taps.map((tap) => tf.slice(padded, [0, reach + tap.dy, reach + tap.dx, 0], [batch, height, width, channels]));
  return tf.stack(shifted, 3) as tf.Tensor5D;
}

/**
 * Checks the arguments of {@link semanticDifferenceConv}, throwing a
 * {@link ShapeError} that names the one at fault (`U`, `V`, `kernel`, `lambda`).
 */
export function checkSemanticDifferenceArgs(u: tf.Tensor, v: tf.Tensor, kernel: tf.Tensor, lambda: tf.Tensor, options: SemanticDifferenceOptions): void {
  const k = options.kernelSize;
  if (!Number.isInteger(k) || k < 3 || k % 2 === 0) throw new ShapeError('kernelSize', 'must be an odd integer >= 3', k);
  const dilation = options.dilation ?? 1;
  if (!Number.isInteger(dilation) || dilation < 1) throw new ShapeError('dilation', 'must be an integer >= 1', dilation);
  if (u.rank !== 4) throw new ShapeError('U', 'must be rank 4 (NHWC)', u);
  if (v.rank !== 4) throw new ShapeError('V', 'must be rank 4 (NHWC)', v);
  const [b, h, w, c] = u.shape;
  if (v.shape[0] !== b || v.shape[1] !== h || v.shape[2] !== w) {
    throw new ShapeError('V', `must have U's batch, height and width [${b}, ${h}, ${w}]`, v);
  }
  const similarity = options.similarity ?? 'diffusivity';
  if (similarity === 'diffusivity' && v.shape[3] !== c) {
    throw new ShapeError('V', `must have U's ${c} channels (the diffusivity similarity is per channel)`, v);
  }
  if (kernel.rank !== 4 || kernel.shape[0] !== k || kernel.shape[1] !== k || kernel.shape[2] !== c) {
    throw new ShapeError('kernel', `must be [${k}, ${k}, ${c}, Cout]`, kernel);
  }
  const lambdaSize = similarity === 'diffusivity' ? c : 1;
  if (lambda.rank !== 1 || lambda.shape[0] !== lambdaSize) {
    throw new ShapeError('lambda', `must be [${lambdaSize}] for the ${similarity} similarity`, lambda);
  }
}

/**
 * Semantic difference convolution `Y = Σ_k W_kᵀ (U(p+k) − U(p)) ⊙ s(V(p+k), V(p))`
 * (see the module page for the similarity forms). Differentiable in U, V,
 * the kernel and λ.
 * @param u - features U `[B, H, W, C]`
 * @param v - guidance V `[B, H, W, C]` (`'embedding'`: `[B, H, W, D]`, any D)
 * @param kernel - W `[k, k, C, Cout]` (conv2d layout; the centre tap is unused)
 * @param lambda - λ: `[C]` for `'diffusivity'`, `[1]` for `'embedding'`
 * @param options - window size, dilation, similarity form
 * @returns Y `[B, H, W, Cout]`
 */
export function semanticDifferenceConv(u: tf.Tensor4D, v: tf.Tensor4D, kernel: tf.Tensor4D, lambda: tf.Tensor1D, options: SemanticDifferenceOptions): tf.Tensor4D {
  checkSemanticDifferenceArgs(u, v, kernel, lambda, options);
  const dilation = options.dilation ?? 1;
  const similarity = options.similarity ?? 'diffusivity';
  return tf.tidy(() => {
    const [batch, height, width, channels] = u.shape;
    const k = options.kernelSize;
    const outChannels = kernel.shape[3];
    const taps = windowTaps(k, dilation);
    const reach = ((k - 1) / 2) * dilation;
    const n = taps.length;

    const centreU = tf.expandDims(u, 3) as tf.Tensor5D;
    const differences = tf.sub(shiftedStack(u, taps, reach), centreU);
    const centreV = tf.expandDims(v, 3) as tf.Tensor5D;
    // (Not tf.squaredDifference: its gradient does not reduce broadcast axes.)
    const guidanceDifferences = tf.sub(shiftedStack(v, taps, reach), centreV);
    let sim: tf.Tensor;
    if (similarity === 'diffusivity') {
      const inverseLambdaSq = tf.reciprocal(tf.add(tf.square(lambda), LAMBDA_FLOOR));
      sim = tf.rsqrt(tf.add(tf.mul(tf.square(guidanceDifferences), inverseLambdaSq), 1));
    } else {
      const l1 = tf.sum(tf.abs(guidanceDifferences), 4, true);
      sim = tf.exp(tf.mul(tf.neg(lambda), l1));
    }
    // Masking the similarity (not the difference) keeps the mask on the
    // smaller tensor in the embedding form; either way an out-of-image
    // neighbour contributes exactly 0.
    const gated = tf.mul(differences, tf.mul(sim, validityMask(height, width, taps)));

    const rows = tf.reshape(gated, [batch * height * width, n * channels]);
    const taps2d = tf.reshape(kernel, [k * k, channels * outChannels]);
    const centre = (k * k - 1) / 2;
    const used = tf.concat([tf.slice(taps2d, [0, 0], [centre, -1]), tf.slice(taps2d, [centre + 1, 0], [-1, -1])], 0);
    const weights = tf.reshape(used, [n * channels, outChannels]);
    return tf.reshape(tf.matMul(rows, weights), [batch, height, width, outChannels]) as tf.Tensor4D;
  });
}
