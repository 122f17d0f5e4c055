/**
 * An exact O(N²) float64 mean field of the dense CRF (no lattice), written
 * from the model's definition: the reference the lattice and ConvCrf are
 * checked against on tiny images.
 */

/** Normalisation of the exact kernel (as the library's `CrfNormalization`). */
export type ExactNormalization = 'symmetric' | 'after' | 'none';

/** One exact Gaussian term: features `[N, dims]` and its Potts weight. */
export interface ExactKernel {
  features: Float64Array;
  dims: number;
  compat: number;
}

/** Features of a term: (x/sxy, y/sxy) or (x/sxy, y/sxy, rgb/srgb), x the column, y the row. */
export function exactFeatures(height: number, width: number, sxy: number, rgb?: ArrayLike<number>, srgb?: number): { features: Float64Array; dims: number } {
  const dims = rgb === undefined ? 2 : 5;
  const features = new Float64Array(height * width * dims);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      features[i * dims] = x / sxy;
      features[i * dims + 1] = y / sxy;
      if (rgb !== undefined) for (let c = 0; c < 3; c++) features[i * dims + 2 + c] = rgb[i * 3 + c]! / srgb!;
    }
  }
  return { features, dims };
}

/** K̃·Q of one term, exactly, self term included. */
export function exactMessage(kernel: ExactKernel, q: Float64Array, n: number, labels: number, normalization: ExactNormalization): Float64Array {
  const { features, dims } = kernel;
  const k = new Float64Array(n * n);
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let d2 = 0;
      for (let c = 0; c < dims; c++) d2 += (features[i * dims + c]! - features[j * dims + c]!) ** 2;
      k[i * n + j] = Math.exp(-0.5 * d2);
      norm[i] += k[i * n + j]!;
    }
  }
  const out = new Float64Array(n * labels);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const w = normalization === 'symmetric' ? k[i * n + j]! / Math.sqrt(norm[i]! * norm[j]!) : normalization === 'after' ? k[i * n + j]! / norm[i]! : k[i * n + j]!;
      for (let m = 0; m < labels; m++) out[i * labels + m] += w * q[j * labels + m]!;
    }
  }
  return out;
}

/** Row-wise softmax of `[n, labels]`. */
export function softmaxRows(logits: Float64Array, labels: number): Float64Array {
  const q = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i += labels) {
    let max = -Infinity;
    for (let m = 0; m < labels; m++) max = Math.max(max, logits[i + m]!);
    let sum = 0;
    for (let m = 0; m < labels; m++) sum += (q[i + m] = Math.exp(logits[i + m]! - max));
    for (let m = 0; m < labels; m++) q[i + m]! /= sum;
  }
  return q;
}

/** Unary U = −log(clip(p, clip, 1)). */
export function exactUnary(probabilities: ArrayLike<number>, clip = 1e-5): Float64Array {
  return Float64Array.from({ length: probabilities.length }, (_, i) => -Math.log(Math.min(1, Math.max(probabilities[i]!, clip))));
}

/**
 * Q⁰ = softmax(−U); Qᵗ⁺¹ = softmax(−U + Σ_k w_k K̃_k Qᵗ). Returns the final Q
 * and the last softmax argument.
 */
export function exactMeanField(unary: Float64Array, n: number, labels: number, kernels: ExactKernel[], normalization: ExactNormalization, iterations: number): { q: Float64Array; logits: Float64Array } {
  let logits = unary.map((u) => -u);
  let q = softmaxRows(logits, labels);
  for (let it = 0; it < iterations; it++) {
    const next = unary.map((u) => -u);
    for (const kernel of kernels) {
      const message = exactMessage(kernel, q, n, labels, normalization);
      for (let i = 0; i < next.length; i++) next[i] += kernel.compat * message[i]!;
    }
    logits = next;
    q = softmaxRows(logits, labels);
  }
  return { q, logits };
}

/** Share of pixels whose argmax agrees, and the mean/max |ΔQ| over all entries. */
export function compareMarginals(a: ArrayLike<number>, b: ArrayLike<number>, labels: number): { agreement: number; meanAbs: number; maxAbs: number } {
  const n = a.length / labels;
  let agree = 0;
  let sum = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    let ia = 0;
    let ib = 0;
    for (let m = 1; m < labels; m++) {
      if (a[i * labels + m]! > a[i * labels + ia]!) ia = m;
      if (b[i * labels + m]! > b[i * labels + ib]!) ib = m;
    }
    if (ia === ib) agree++;
    for (let m = 0; m < labels; m++) {
      const d = Math.abs(a[i * labels + m]! - b[i * labels + m]!);
      sum += d;
      max = Math.max(max, d);
    }
  }
  return { agreement: agree / n, meanAbs: sum / a.length, maxAbs: max };
}

/** Mean of `values` (`[H, W, C]`) over s×s cells; partial cells at the bottom/right average only their pixels. */
export function poolCells(values: ArrayLike<number>, height: number, width: number, channels: number, s: number): Float64Array {
  const h = Math.ceil(height / s);
  const w = Math.ceil(width / s);
  const out = new Float64Array(h * w * channels);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      let count = 0;
      for (let y = i * s; y < Math.min(height, (i + 1) * s); y++) {
        for (let x = j * s; x < Math.min(width, (j + 1) * s); x++, count++) {
          for (let c = 0; c < channels; c++) out[(i * w + j) * channels + c] += values[(y * width + x) * channels + c]!;
        }
      }
      for (let c = 0; c < channels; c++) out[(i * w + j) * channels + c] /= count;
    }
  }
  return out;
}

/** Bilinear ×s with half-pixel centres and clamped edges, cropped to `[height, width]`. */
export function upsampleCells(values: Float64Array, h: number, w: number, channels: number, s: number, height: number, width: number): Float64Array {
  const out = new Float64Array(height * width * channels);
  const source = (dst: number, n: number): [number, number, number] => {
    const at = Math.min(Math.max((dst + 0.5) / s - 0.5, 0), n - 1);
    const low = Math.floor(at);
    return [low, Math.min(low + 1, n - 1), at - low];
  };
  for (let y = 0; y < height; y++) {
    const [y0, y1, fy] = source(y, h);
    for (let x = 0; x < width; x++) {
      const [x0, x1, fx] = source(x, w);
      for (let c = 0; c < channels; c++) {
        const v = (yy: number, xx: number): number => values[(yy * w + xx) * channels + c]!;
        out[(y * width + x) * channels + c] = (1 - fy) * ((1 - fx) * v(y0, x0) + fx * v(y0, x1)) + fy * ((1 - fx) * v(y1, x0) + fx * v(y1, x1));
      }
    }
  }
  return out;
}

/**
 * ConvCRF's downsampled mean field with a window covering the whole pooled
 * grid: Q pooled by s, exact messages on the pooled grid (features from the
 * pooled positions and colours), messages upsampled back, unary at full size.
 */
export function exactPooledMeanField(
  unary: Float64Array,
  height: number,
  width: number,
  labels: number,
  rgb: ArrayLike<number>,
  terms: Array<{ sxy: number; srgb?: number; compat: number }>,
  s: number,
  normalization: ExactNormalization,
  iterations: number,
): { q: Float64Array; logits: Float64Array } {
  const h = Math.ceil(height / s);
  const w = Math.ceil(width / s);
  const grid = new Float64Array(height * width * 2);
  for (let y = 0, i = 0; y < height; y++) for (let x = 0; x < width; x++, i++) grid.set([x, y], i * 2);
  const positions = poolCells(grid, height, width, 2, s);
  const colours = poolCells(rgb, height, width, 3, s);
  const kernels: ExactKernel[] = terms.map((t) => {
    const dims = t.srgb === undefined ? 2 : 5;
    const features = new Float64Array(h * w * dims);
    for (let i = 0; i < h * w; i++) {
      features[i * dims] = positions[i * 2]! / t.sxy;
      features[i * dims + 1] = positions[i * 2 + 1]! / t.sxy;
      if (dims === 5) for (let c = 0; c < 3; c++) features[i * dims + 2 + c] = colours[i * 3 + c]! / t.srgb!;
    }
    return { features, dims, compat: t.compat };
  });
  let logits = unary.map((u) => -u);
  let q = softmaxRows(logits, labels);
  for (let it = 0; it < iterations; it++) {
    const pooled = poolCells(q, height, width, labels, s);
    const message = new Float64Array(h * w * labels);
    for (const kernel of kernels) {
      const m = exactMessage(kernel, pooled, h * w, labels, normalization);
      for (let i = 0; i < message.length; i++) message[i] += kernel.compat * m[i]!;
    }
    const full = upsampleCells(message, h, w, labels, s, height, width);
    logits = unary.map((u, i) => -u + full[i]!);
    q = softmaxRows(logits, labels);
  }
  return { q, logits };
}
