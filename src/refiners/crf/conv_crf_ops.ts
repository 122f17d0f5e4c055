/**
 * The convolutional CRF (Teichmann & Cipolla 2018) as differentiable tfjs
 * ops: the dense CRF's mean field with each Gaussian kernel truncated to a
 * k×k window, optionally on a grid downsampled by `s` (ConvCRF's "blur").
 *
 * ```text
 * −U  = log(clip(softmax(scores), clip, 1))                 (at the image size)
 * A_o = Σ_k w_k · K̃_k,o                                    (o: window offsets)
 * msg = Σ_o A_o ⊙ shift_o(pool_s(Q))                        (upsampled back by s)
 * Q ← softmax(−U + msg · C)
 * ```
 *
 * K_k,o(p) = exp(−½|f_k(p) − f_k(p+o)|²) (0 where p+o leaves the grid; the
 * self term o = 0 included), n_k = Σ_o K_k,o, and K̃ is K normalised like the
 * dense CRF: symmetric n^-½(p)·K·n^-½(p+o), after K/n(p), none K. With a window
 * covering the whole image and s = 1 this is exactly the dense CRF's mean
 * field with an exact Gaussian. Features: (x/sxy, y/sxy) and (x/sxy, y/sxy,
 * 255·RGB/srgb), x the column and y the row in pixels of the input image.
 *
 * The two window steps (A and the messages) run either as the tfjs ops of
 * this file — k² shifted copies, the reference — or as the fused kernels of
 * `conv_crf_window.ts`, as `convCrfImplementation` decides; everything
 * around them is shared.
 * @module
 * @internal
 */
import * as tf from '@tensorflow/tfjs';
import { windowKernelsAvailable } from './conv_crf_frame.js';
import { windowKernelTaps, windowMessages } from './conv_crf_window.js';
import { convCrfImplementation, type ConvCrfImplementation } from './implementation.js';
import type { CrfNormalization, ResolvedKernel } from './params.js';

/** Static configuration of {@link convCrfMeanField}. */
export interface ConvCrfConfig {
  /** Mean-field iterations. */
  readonly iterations: number;
  /** Window side k (odd). */
  readonly kernelSize: number;
  /** Message grid stride s ≥ 1. */
  readonly downsample: number;
  /** The pairwise terms (their `compat` is not used: weights come as tensors). */
  readonly kernels: readonly ResolvedKernel[];
  /** Kernel normalisation. */
  readonly normalization: CrfNormalization;
  /** Unary clip. */
  readonly clip: number;
  /** Fused window kernels or the tfjs-ops reference; by default as {@link convCrfImplementation} decides. */
  readonly implementation?: ConvCrfImplementation;
}

/** `[B, h, w, C]` ↔ `[B, w, h, C]`. */
function transposed(x: tf.Tensor4D): tf.Tensor4D {
  return tf.transpose(x, [0, 2, 1, 3]);
}

/**
 * x(p + o) for every window offset o = (dy, dx), dy outer and dx inner, zero
 * outside the grid, each in the *transposed* layout `[B, w, h, C]`. Slicing
 * NHWC with an offset along W is ~6× slower than along H on wasm, so each
 * row shift is transposed once and the column shifts become row slices.
 */
function windowShifts(x: tf.Tensor4D, r: number): tf.Tensor4D[] {
  const [, h, w] = x.shape;
  const padded = padBy(x, r);
  const shifts: tf.Tensor4D[] = [];
  for (let dy = -r; dy <= r; dy++) {
    const rows = transposed(tf.slice(padded, [0, r + dy, 0, 0], [-1, h, -1, -1]));
    for (let dx = -r; dx <= r; dx++) shifts.push(tf.slice(rows, [0, r + dx, 0, 0], [-1, w, -1, -1]));
  }
  return shifts;
}

function padBy(x: tf.Tensor4D, r: number): tf.Tensor4D {
  return r === 0 ? x : tf.pad(x, [[0, 0], [r, r], [r, r], [0, 0]]);
}

/**
 * Exclude-padding average pooling by `s` (partial cells at the bottom/right
 * average only their pixels), `[B, H, W, C]` → `[B, ⌈H/s⌉, ⌈W/s⌉, C]`.
 */
function poolBy(x: tf.Tensor4D, s: number): tf.Tensor4D {
  if (s === 1) return x;
  const [, height, width] = x.shape;
  const padH = Math.ceil(height / s) * s - height;
  const padW = Math.ceil(width / s) * s - width;
  if (padH === 0 && padW === 0) return tf.avgPool(x, s, s, 'valid');
  const paddings: Array<[number, number]> = [[0, 0], [0, padH], [0, padW], [0, 0]];
  const sums = tf.avgPool(tf.pad(x, paddings), s, s, 'valid');
  const counts = tf.avgPool(tf.pad(tf.ones([1, height, width, 1]), paddings) as tf.Tensor4D, s, s, 'valid');
  return tf.div(sums, counts);
}

/**
 * The `[n·s, n]` matrix M of linear upsampling by s with half-pixel centres
 * and edge clamping, or its transpose `[n, n·s]`: output j = i·s + φ reads x
 * at i + δ, δ = (2φ + 1 − s)/2s, that is (1 − |δ|)·x[i] + |δ|·x[i ± 1], the
 * neighbour clamped to the edge.
 */
function upsampleMatrix(n: number, s: number, transposed: boolean): tf.Tensor2D {
  const values = new Float32Array(n * n * s);
  const add = (j: number, i: number, weight: number): void => void (values[transposed ? i * n * s + j : j * n + i] += weight);
  for (let i = 0; i < n; i++) {
    for (let phase = 0; phase < s; phase++) {
      const j = i * s + phase;
      const delta = (2 * phase + 1 - s) / (2 * s);
      add(j, i, 1 - Math.abs(delta));
      if (delta !== 0) add(j, Math.min(n - 1, Math.max(0, delta < 0 ? i - 1 : i + 1)), Math.abs(delta));
    }
  }
  return tf.tensor2d(values, transposed ? [n, n * s] : [n * s, n]);
}

/**
 * `M·x` along the rows of `[B, n, F]` (`left`), or `x·Mᵀ` along the columns
 * of `[R, n]`, with M from {@link upsampleMatrix}; the gradient is the same
 * product with the transposed matrix (tfjs's own matMul gradient would run
 * transposed-operand products, slow on wasm).
 */
function upsampleProduct(x: tf.Tensor, n: number, s: number, left: boolean): tf.Tensor {
  const product = (values: tf.Tensor, transposed: boolean): tf.Tensor =>
    left ? tf.matMul(tf.expandDims(upsampleMatrix(n, s, transposed), 0) as tf.Tensor3D, values as tf.Tensor3D) : tf.matMul(values as tf.Tensor2D, upsampleMatrix(n, s, !transposed));
  const op = tf.customGrad((...args: unknown[]) => ({
    value: product(args[0] as tf.Tensor, false),
    gradFunc: (dy: tf.Tensor) => product(dy, true),
  }));
  return op(x);
}

/**
 * Linear upsampling by an integer factor along `axis` (1 or 2) with
 * half-pixel centres and edge clamping — `tf.image.resizeBilinear` with
 * `halfPixelCenters: true`, whose gradient tfjs does not implement — as
 * matMuls with {@link upsampleMatrix}: rows as one product per batch item
 * on `[h, w·C]`, columns as one 2-D product on `[B·h·C, w]` (columns moved
 * last by a transpose, cheap on wasm, where 64 small batched products took
 * 10× longer). Interleaving s shifted phases with `tf.stack` was the
 * alternative: on wasm its gradient (`Unpack`) took two thirds of a
 * downsampled training step.
 */
function upsampleAxis(x: tf.Tensor4D, s: number, axis: 1 | 2): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  if (axis === 1) {
    const up = upsampleProduct(tf.reshape(x, [batch, height, width * channels]), height, s, true);
    return tf.reshape(up, [batch, height * s, width, channels]);
  }
  const columnsLast = tf.reshape(tf.transpose(x, [0, 1, 3, 2]), [batch * height * channels, width]);
  const up = tf.reshape(upsampleProduct(columnsLast, width, s, false), [batch, height, channels, width * s]);
  return tf.transpose(up, [0, 1, 3, 2]) as tf.Tensor4D;
}

/** Inverse of {@link poolBy} for messages: linear ×s (cell centres aligned), cropped to `[H, W]`. */
function unpoolBy(x: tf.Tensor4D, s: number, height: number, width: number): tf.Tensor4D {
  if (s === 1) return x;
  const up = upsampleAxis(upsampleAxis(x, s, 1), s, 2);
  return up.shape[1] === height && up.shape[2] === width ? up : tf.slice(up, [0, 0, 0, 0], [-1, height, width, -1]);
}

/**
 * (column, row) of every pixel, `[B, H, W, 2]`, written directly: a constant,
 * and building it from range, tile and concat took 20 % of a fused call on wasm.
 */
function pixelPositions(batch: number, height: number, width: number): tf.Tensor4D {
  const values = new Float32Array(batch * height * width * 2);
  for (let b = 0, i = 0; b < batch; b++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i += 2) {
        values[i] = x;
        values[i + 1] = y;
      }
    }
  }
  return tf.tensor4d(values, [batch, height, width, 2]);
}

/** Per-kernel features on the pooled grid: `[B, h, w, 2 or 5]`. */
function kernelFeatures(kernel: ResolvedKernel, positions: tf.Tensor4D, colours: tf.Tensor4D): tf.Tensor4D {
  const xy = tf.div(positions, kernel.sxy);
  if (kernel.kind === 'pos') return xy as tf.Tensor4D;
  return tf.concat([xy, tf.mul(colours, 255 / kernel.srgb!)], 3) as tf.Tensor4D;
}

/**
 * The merged, normalised, weighted window kernel: one tap A_o per offset,
 * `[B, w, h, 1]` (transposed layout, like {@link windowShifts}).
 * @param features - per kernel, `[B, h, w, D_k]`
 * @param weights - per kernel, a scalar tensor
 */
function windowKernel(features: tf.Tensor4D[], weights: tf.Tensor[], config: ConvCrfConfig): tf.Tensor4D[] {
  const r = (config.kernelSize - 1) / 2;
  const [batch, h, w] = features[0]!.shape;
  const inside = windowShifts(tf.ones([batch, h, w, 1]) as tf.Tensor4D, r);
  const perKernel = features.map((f, k) => {
    const centre = transposed(f);
    const kernel = windowShifts(f, r).map((neighbour, o) =>
      tf.mul(tf.exp(tf.mul(tf.sum(tf.square(tf.sub(centre, neighbour)), 3, true), -0.5)), inside[o]!),
    );
    const norm = kernel.length === 1 ? kernel[0]! : tf.addN(kernel);
    let normalised: tf.Tensor[];
    if (config.normalization === 'symmetric') {
      const inverseRoot = tf.rsqrt(norm) as tf.Tensor4D;
      const neighbourRoots = windowShifts(transposed(inverseRoot), r);
      normalised = kernel.map((tap, o) => tf.mul(tf.mul(tap, inverseRoot), neighbourRoots[o]!));
    } else if (config.normalization === 'after') {
      normalised = kernel.map((tap) => tf.div(tap, norm));
    } else {
      normalised = kernel;
    }
    return normalised.map((tap) => tf.mul(tap, weights[k]!));
  });
  return perKernel[0]!.map((tap, o) => (perKernel.length === 1 ? tap : tf.addN(perKernel.map((taps) => taps[o]!)))) as tf.Tensor4D[];
}

/**
 * ConvCRF mean field. Returns the last iteration's logits at the image size
 * `[B, H, W, M]` (the unary's logits when there are no iterations or kernels).
 * @param scores - logits `[B, h, w, M]` (resized bilinearly to the image)
 * @param image - RGB in [0, 1], `[B, H, W, 3]`
 * @param kernelWeights - one scalar tensor per kernel in `config.kernels`
 * @param compatibility - `[M, M]`: pairwise_l = Σ_l' C[l', l]·(K̃Q)_l'
 * @param config - static settings
 */
export function convCrfMeanField(scores: tf.Tensor4D, image: tf.Tensor4D, kernelWeights: tf.Tensor[], compatibility: tf.Tensor2D, config: ConvCrfConfig): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, height, width] = image.shape;
    const labels = scores.shape[3];
    const resized = scores.shape[1] === height && scores.shape[2] === width ? scores : tf.image.resizeBilinear(scores, [height, width], false, false);
    const negUnary = tf.maximum(tf.logSoftmax(resized), Math.log(config.clip)) as tf.Tensor4D;
    if (config.iterations === 0 || config.kernels.length === 0) return negUnary;

    const s = config.downsample;
    const positions = poolBy(pixelPositions(batch, height, width), s);
    const colours = poolBy(image, s);
    const features = config.kernels.map((k) => kernelFeatures(k, positions, colours));
    const k = config.kernelSize;
    const r = (k - 1) / 2;
    let messageOf: (pooled: tf.Tensor4D) => tf.Tensor4D;
    if (convCrfImplementation(tf.getBackend(), windowKernelsAvailable, config.implementation) === 'fused') {
      const taps = windowKernelTaps(features, kernelWeights, k, config.normalization);
      messageOf = (pooled) => windowMessages(taps, pooled, k);
    } else {
      const taps = windowKernel(features, kernelWeights, config);
      messageOf = (pooled) => {
        const neighbours = windowShifts(pooled, r);
        const terms = taps.map((tap, o) => tf.mul(tap, neighbours[o]!));
        return transposed((terms.length === 1 ? terms[0] : tf.addN(terms)) as tf.Tensor4D);
      };
    }

    let logits = negUnary;
    let q = tf.softmax(negUnary) as tf.Tensor4D;
    for (let it = 0; it < config.iterations; it++) {
      const full = unpoolBy(messageOf(poolBy(q, s)), s, height, width);
      const pairwise = tf.reshape(tf.matMul(tf.reshape(full, [-1, labels]), compatibility), [batch, height, width, labels]);
      logits = tf.add(negUnary, pairwise) as tf.Tensor4D;
      q = tf.softmax(logits) as tf.Tensor4D;
    }
    return logits;
  });
}
