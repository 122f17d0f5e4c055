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
 * Implementation (fast on wasm): for each of the n = k²−1 taps, the shifted
 * U and V are slices of one zero-padded tensor; difference, similarity and
 * validity mask are a handful of element-wise ops; the tap's contribution is
 * one `[B·H·W, C] × [C, Cout]` matMul, and the taps are summed with addN.
 * The gradient is written by hand (a custom gradient that recomputes the
 * per-tap terms) because tfjs's automatic one goes through ops that are
 * very slow on wasm: unstack/strided slices, transposed-operand matMuls and
 * reductions over leading axes.
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
 * Validity mask `[1, H, W, 1]` of one tap: 1 where the neighbour `p + k`
 * lies inside the image. Built in JS (it depends on shapes only).
 */
function tapMask(height: number, width: number, tap: Tap): tf.Tensor4D {
  const values = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    const insideY = y + tap.dy >= 0 && y + tap.dy < height;
    for (let x = 0; x < width; x++) values[y * width + x] = insideY && x + tap.dx >= 0 && x + tap.dx < width ? 1 : 0;
  }
  return tf.tensor4d(values, [1, height, width, 1]);
}

/** Zero-pads H and W by `reach`, so every tap's shift is one slice. */
function padSpatial(x: tf.Tensor4D, reach: number): tf.Tensor4D {
  return tf.pad(x, [
    [0, 0],
    [reach, reach],
    [reach, reach],
    [0, 0],
  ]);
}

/** `x(p + k)` (0 outside the image), read from `padSpatial(x)`. */
function shifted(padded: tf.Tensor4D, shape: readonly number[], reach: number, tap: Tap): tf.Tensor4D {
  return tf.slice(padded, [0, reach + tap.dy, reach + tap.dx, 0], [shape[0]!, shape[1]!, shape[2]!, shape[3]!]);
}

/**
 * `Σ_t shift_{−k_t}(g_t)`, the adjoint of the shifts: each `g_t` is placed
 * at its offset in a padded canvas, the canvases are summed, and the image
 * region is cut out once.
 */
function adjointShiftSum(gs: tf.Tensor[], taps: Tap[], reach: number): tf.Tensor4D {
  const [b, h, w, c] = gs[0]!.shape as [number, number, number, number];
  const placed = gs.map((g, t) => {
    const { dy, dx } = taps[t]!;
    return tf.pad(g as tf.Tensor4D, [
      [0, 0],
      [reach + dy, reach - dy],
      [reach + dx, reach - dx],
      [0, 0],
    ]);
  });
  return tf.slice(tf.addN(placed), [0, reach, reach, 0], [b, h, w, c]);
}

/** Per-tap quantities shared by the forward and the backward pass. */
interface TapTerms {
  /** `U(p+k) − U(p)`. */
  difference: tf.Tensor;
  /** `V(p+k) − V(p)`. */
  guidanceDifference: tf.Tensor;
  /** Similarity with the validity mask applied (`[B, H, W, C]` or `[B, H, W, 1]`). */
  similarity: tf.Tensor;
  /** Diffusivity: `(1 + ΔV²/λ²)^(−1/2)` before masking. Embedding: `‖ΔV‖₁`. */
  auxiliary: tf.Tensor;
}

/** Everything fixed by the shapes and options of one call. */
interface Geometry {
  taps: Tap[];
  reach: number;
  height: number;
  width: number;
  similarity: SimilarityKind;
}

function tapTerms(uPad: tf.Tensor4D, u: tf.Tensor4D, vPad: tf.Tensor4D, v: tf.Tensor4D, lambda: tf.Tensor1D, inverseLambdaSq: tf.Tensor1D, geometry: Geometry, t: number, mask: tf.Tensor4D): TapTerms {
  const tap = geometry.taps[t]!;
  const difference = tf.sub(shifted(uPad, u.shape, geometry.reach, tap), u);
  const guidanceDifference = tf.sub(shifted(vPad, v.shape, geometry.reach, tap), v);
  if (geometry.similarity === 'diffusivity') {
    const auxiliary = tf.rsqrt(tf.add(tf.mul(tf.square(guidanceDifference), inverseLambdaSq), 1));
    return { difference, guidanceDifference, auxiliary, similarity: tf.mul(auxiliary, mask) };
  }
  const auxiliary = tf.sum(tf.abs(guidanceDifference), 3, true);
  return { difference, guidanceDifference, auxiliary, similarity: tf.mul(tf.exp(tf.mul(tf.neg(lambda), auxiliary)), mask) };
}

/**
 * The op on validated inputs, `weights` holding the used taps `[n, C, Cout]`.
 * A custom gradient (recomputing the per-tap terms) keeps the backward pass
 * to plain matMuls, element-wise ops, pads and one column sum.
 */
function sdcCore(u: tf.Tensor4D, v: tf.Tensor4D, weights: tf.Tensor3D, lambda: tf.Tensor1D, geometry: Geometry): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [cu, cv, cw, cl] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor3D, tf.Tensor1D];
    (args[4] as tf.GradSaveFunc)([cu, cv, cw, cl]);
    const [batch, height, width, channels] = cu.shape;
    const rows = batch * height * width;
    const outChannels = cw.shape[2];
    const n = geometry.taps.length;
    const value = tf.tidy(() => {
      const uPad = padSpatial(cu, geometry.reach);
      const vPad = padSpatial(cv, geometry.reach);
      const inverseLambdaSq = tf.reciprocal(tf.add(tf.square(cl), LAMBDA_FLOOR)) as tf.Tensor1D;
      const products = geometry.taps.map((tap, t) =>
        tf.tidy(() => {
          const terms = tapTerms(uPad, cu, vPad, cv, cl, inverseLambdaSq, geometry, t, tapMask(height, width, tap));
          const gated = tf.reshape(tf.mul(terms.difference, terms.similarity), [rows, channels]) as tf.Tensor2D;
          return tf.matMul(gated, tf.reshape(tf.slice(cw, [t, 0, 0], [1, channels, outChannels]), [channels, outChannels]) as tf.Tensor2D);
        }),
      );
      return tf.reshape(n === 1 ? products[0]! : tf.addN(products), [batch, height, width, outChannels]) as tf.Tensor4D;
    });
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [su, sv, sw, sl] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor3D, tf.Tensor1D];
      const dy2 = tf.reshape(dy, [rows, outChannels]) as tf.Tensor2D;
      const dyT = tf.transpose(dy2);
      const uPad = padSpatial(su, geometry.reach);
      const vPad = padSpatial(sv, geometry.reach);
      const inverseLambdaSq = tf.reciprocal(tf.add(tf.square(sl), LAMBDA_FLOOR)) as tf.Tensor1D;
      const dDifference: tf.Tensor[] = [];
      const dGuidance: tf.Tensor[] = [];
      const lambdaTerms: tf.Tensor[] = [];
      const dWeights: tf.Tensor[] = [];
      geometry.taps.forEach((tap, t) => {
        const mask = tapMask(height, width, tap);
        const terms = tapTerms(uPad, su, vPad, sv, sl, inverseLambdaSq, geometry, t, mask);
        const wt = tf.reshape(tf.slice(sw, [t, 0, 0], [1, channels, outChannels]), [channels, outChannels]) as tf.Tensor2D;
        const gated = tf.reshape(tf.mul(terms.difference, terms.similarity), [rows, channels]) as tf.Tensor2D;
        // dW_t = gatedᵀ·dy = (dyᵀ·gated)ᵀ; dGated = dy·W_tᵀ (explicit transposes: fast on wasm).
        dWeights.push(tf.transpose(tf.matMul(dyT, gated)));
        const dGated = tf.reshape(tf.matMul(dy2, tf.transpose(wt)), [batch, height, width, channels]) as tf.Tensor4D;
        dDifference.push(tf.mul(dGated, terms.similarity));
        const dSimilarityRaw = tf.mul(dGated, terms.difference);
        if (geometry.similarity === 'diffusivity') {
          // s = m·r, r = (1 + ΔV²/λ²)^(−1/2): ∂r/∂ΔV = −r³ΔV/λ², ∂r/∂λ = r³ΔV²λ/λ⁴.
          const p = tf.mul(tf.mul(dSimilarityRaw, mask), tf.mul(terms.auxiliary, tf.square(terms.auxiliary)));
          dGuidance.push(tf.neg(tf.mul(tf.mul(p, terms.guidanceDifference), inverseLambdaSq)));
          lambdaTerms.push(tf.mul(p, tf.square(terms.guidanceDifference)));
        } else {
          // s = m·exp(−λ‖ΔV‖₁): ∂s/∂ΔV = −λ s sign(ΔV), ∂s/∂λ = −‖ΔV‖₁ s.
          const q = tf.mul(tf.sum(dSimilarityRaw, 3, true), terms.similarity);
          dGuidance.push(tf.mul(tf.mul(tf.neg(sl), q), tf.sign(terms.guidanceDifference)));
          lambdaTerms.push(tf.mul(q, terms.auxiliary));
        }
      });
      const sumOf = (xs: tf.Tensor[]): tf.Tensor => (xs.length === 1 ? xs[0]! : tf.addN(xs));
      const du = tf.sub(adjointShiftSum(dDifference, geometry.taps, geometry.reach), sumOf(dDifference));
      const dv = tf.sub(adjointShiftSum(dGuidance, geometry.taps, geometry.reach), sumOf(dGuidance));
      const lambdaSum = sumOf(lambdaTerms);
      let dl: tf.Tensor;
      if (geometry.similarity === 'diffusivity') {
        // Column sums as a [1, M] × [M, C] matMul: far faster on wasm than a
        // reduction over the leading axes.
        const columns = tf.reshape(tf.matMul(tf.ones([1, rows]), tf.reshape(lambdaSum, [rows, channels]) as tf.Tensor2D), [channels]);
        dl = tf.mul(columns, tf.mul(sl, tf.square(inverseLambdaSq)));
      } else {
        dl = tf.reshape(tf.neg(tf.sum(lambdaSum)), [1]);
      }
      return [du, dv, tf.stack(dWeights), dl];
    };
    return { value, gradFunc };
  });
  return op(u, v, weights, lambda) as tf.Tensor4D;
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
  const k = options.kernelSize;
  const [, height, width, channels] = u.shape;
  const outChannels = kernel.shape[3];
  const geometry: Geometry = {
    taps: windowTaps(k, dilation),
    reach: ((k - 1) / 2) * dilation,
    height,
    width,
    similarity: options.similarity ?? 'diffusivity',
  };
  return tf.tidy(() => {
    // The used taps [n, C, Cout]: every row of the k×k window but the centre.
    const rows = tf.reshape(kernel, [k * k, channels, outChannels]);
    const centre = (k * k - 1) / 2;
    const weights = tf.concat([tf.slice(rows, [0, 0, 0], [centre, -1, -1]), tf.slice(rows, [centre + 1, 0, 0], [-1, -1, -1])], 0) as tf.Tensor3D;
    return sdcCore(u, v, weights, lambda, geometry);
  });
}
