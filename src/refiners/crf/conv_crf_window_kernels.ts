/**
 * The ConvCRF's window arithmetic as plain loops over float32 arrays,
 * forward and backward, without materialising k² shifted copies of anything
 * (the tfjs-ops path in `conv_crf_ops.ts` builds one shifted tensor per
 * window offset, and on wasm those slices were 40 % of a call).
 *
 * Layout: the (pooled) grid `[B, h, w]` flattened pixel by pixel, so pixel
 * `p = (b·h + y)·w + x`; per-pixel vectors follow it (`[N, D]` features,
 * `[N, C]` probabilities and messages) and the window taps are pixel-major
 * `[N, T]`, T = k². Tap `t = (dy + r)·k + (dx + r)` (dy outer, dx inner, the
 * order of the ops path) reads the neighbour `q = p + dy·w + dx`; a tap whose
 * neighbour leaves the grid (or the batch item) has weight 0. A Gaussian tap
 * is never 0 inside the grid unless its exponent underflows, and then its
 * value and every derivative through it are 0 too, so "K ≠ 0" stands for
 * "inside" throughout.
 * @module
 * @internal
 */
import type { CrfNormalization } from './params.js';

/** The pooled grid and the window the kernels work on. */
export interface WindowGrid {
  /** Batch items B. */
  readonly batch: number;
  /** Grid rows h. */
  readonly height: number;
  /** Grid columns w. */
  readonly width: number;
  /** Window side k (odd). */
  readonly kernelSize: number;
}

/** Pixels of the grid, `B·h·w`. */
export function gridPixels(grid: WindowGrid): number {
  return grid.batch * grid.height * grid.width;
}

/**
 * Calls `visit(p, t, q)` for every pixel p and every tap t whose neighbour q
 * lies inside the same batch item, pixel by pixel, taps in order. For the
 * passes that run once per call; the per-iteration ones write the same loops
 * out (a callback per tap measured several times slower there).
 */
function forEachInsideTap(grid: WindowGrid, visit: (p: number, t: number, q: number) => void): void {
  const { batch, height: h, width: w, kernelSize: k } = grid;
  const r = (k - 1) / 2;
  for (let b = 0, p = 0; b < batch; b++) {
    for (let y = 0; y < h; y++) {
      const dyLow = Math.max(-r, -y);
      const dyHigh = Math.min(r, h - 1 - y);
      for (let x = 0; x < w; x++, p++) {
        const dxLow = Math.max(-r, -x);
        const dxHigh = Math.min(r, w - 1 - x);
        for (let dy = dyLow; dy <= dyHigh; dy++) {
          const rowTap = (dy + r) * k + r;
          const rowNeighbour = p + dy * w;
          for (let dx = dxLow; dx <= dxHigh; dx++) visit(p, rowTap + dx, rowNeighbour + dx);
        }
      }
    }
  }
}

/**
 * Unnormalised Gaussian taps `K_t(p) = exp(−½|f(p) − f(q)|²)` (1 at the
 * centre, 0 outside the grid), `[N, T]`. Each pair is evaluated once: tap t
 * at p and the mirrored tap T−1−t at q hold the same value.
 * @param features - `[N, D]`
 * @param dims - D
 * @param grid - the grid and window
 */
export function gaussianTaps(features: Float32Array, dims: number, grid: WindowGrid): Float32Array {
  const { batch, height: h, width: w, kernelSize: k } = grid;
  const r = (k - 1) / 2;
  const taps = k * k;
  const out = new Float32Array(gridPixels(grid) * taps);
  for (let b = 0, p = 0; b < batch; b++) {
    for (let y = 0; y < h; y++) {
      const dyHigh = Math.min(r, h - 1 - y);
      for (let x = 0; x < w; x++, p++) {
        out[p * taps + (taps - 1) / 2] = 1;
        const dxLow = Math.max(-r, -x);
        const dxHigh = Math.min(r, w - 1 - x);
        // The later half of the window: the rest of this row (dx > 0), then the rows below.
        for (let dy = 0; dy <= dyHigh; dy++) {
          const tapRow = (dy + r) * k + r;
          const neighbourRow = p + dy * w;
          for (let dx = dy === 0 ? 1 : dxLow; dx <= dxHigh; dx++) {
            const q = neighbourRow + dx;
            let distance = 0;
            for (let d = 0, i = p * dims, j = q * dims; d < dims; d++, i++, j++) {
              const diff = features[i]! - features[j]!;
              distance += diff * diff;
            }
            const value = Math.exp(-0.5 * distance);
            const t = tapRow + dx;
            out[p * taps + t] = value;
            out[q * taps + (taps - 1 - t)] = value;
          }
        }
      }
    }
  }
  return out;
}

/** Normalised taps and what their backward pass needs. */
export interface NormalisedTaps {
  /** K̃, `[N, T]`. */
  readonly values: Float32Array;
  /** n = Σ_t K_t per pixel, `[N]` (unused by `none`). */
  readonly norms: Float32Array;
}

/**
 * K̃ from K with n(p) = Σ_t K_t(p): `symmetric` n(p)^-½·K·n(q)^-½, `after`
 * K/n(p), `none` K (a copy is not made: `values` is `taps` itself).
 * @param taps - K, `[N, T]`
 * @param grid - the grid and window
 * @param normalization - the kernel normalisation
 */
export function normaliseTaps(taps: Float32Array, grid: WindowGrid, normalization: CrfNormalization): NormalisedTaps {
  const count = grid.kernelSize * grid.kernelSize;
  const pixels = gridPixels(grid);
  const norms = new Float32Array(pixels);
  for (let p = 0, i = 0; p < pixels; p++) {
    let sum = 0;
    for (let t = 0; t < count; t++, i++) sum += taps[i]!;
    norms[p] = sum;
  }
  if (normalization === 'none') return { values: taps, norms };
  const values = new Float32Array(taps.length);
  if (normalization === 'after') {
    for (let p = 0, i = 0; p < pixels; p++) {
      const inverse = 1 / norms[p]!;
      for (let t = 0; t < count; t++, i++) values[i] = taps[i]! * inverse;
    }
  } else {
    const roots = norms.map((n) => 1 / Math.sqrt(n));
    forEachInsideTap(grid, (p, t, q) => {
      const i = p * count + t;
      values[i] = roots[p]! * taps[i]! * roots[q]!;
    });
  }
  return { values, norms };
}

/**
 * ∂L/∂K from ∂L/∂K̃ (`upstream`, `[N, T]`) through the normalisation; n
 * depends on every tap of its pixel, so each tap also receives ∂L/∂n(p).
 * @param upstream - ∂L/∂K̃
 * @param taps - K
 * @param normalised - from {@link normaliseTaps}
 * @param grid - the grid and window
 * @param normalization - the kernel normalisation
 */
export function normaliseTapsBackward(upstream: Float32Array, taps: Float32Array, normalised: NormalisedTaps, grid: WindowGrid, normalization: CrfNormalization): Float32Array {
  if (normalization === 'none') return upstream;
  const count = grid.kernelSize * grid.kernelSize;
  const pixels = gridPixels(grid);
  const { norms } = normalised;
  const out = new Float32Array(taps.length);
  if (normalization === 'after') {
    for (let p = 0, i = 0; p < pixels; p++) {
      const n = norms[p]!;
      let dot = 0;
      for (let t = 0; t < count; t++) dot += upstream[i + t]! * taps[i + t]!;
      const dNorm = -dot / (n * n);
      for (let t = 0; t < count; t++, i++) out[i] = upstream[i]! / n + dNorm;
    }
    return out;
  }
  // symmetric: K̃ = u(p)·K·u(q), u = n^-½; ∂u(p) collects p's role as centre and as neighbour.
  const roots = norms.map((n) => 1 / Math.sqrt(n));
  const dRoots = new Float64Array(pixels);
  forEachInsideTap(grid, (p, t, q) => {
    const i = p * count + t;
    const product = upstream[i]! * taps[i]!;
    dRoots[p] += product * roots[q]!;
    dRoots[q] += product * roots[p]!;
  });
  // ∂n = ∂u · (−½ n^-3/2) = ∂u · (−½ u³).
  const dNorms = new Float64Array(pixels);
  for (let p = 0; p < pixels; p++) dNorms[p] = -0.5 * roots[p]! ** 3 * dRoots[p]!;
  forEachInsideTap(grid, (p, t, q) => {
    const i = p * count + t;
    out[i] = upstream[i]! * roots[p]! * roots[q]! + dNorms[p]!;
  });
  return out;
}

/**
 * ∂L/∂f from ∂L/∂K through K_t(p) = exp(−½|f(p) − f(q)|²): with Δ = f(p) − f(q),
 * ∂K/∂Δ = −K·Δ, added to f(p) and subtracted from f(q).
 * @param upstream - ∂L/∂K, `[N, T]`
 * @param taps - K
 * @param features - `[N, D]`
 * @param dims - D
 * @param grid - the grid and window
 */
export function gaussianTapsBackward(upstream: Float32Array, taps: Float32Array, features: Float32Array, dims: number, grid: WindowGrid): Float32Array {
  const count = grid.kernelSize * grid.kernelSize;
  const centre = (count - 1) / 2;
  const out = new Float64Array(features.length);
  forEachInsideTap(grid, (p, t, q) => {
    if (t === centre) return;
    const i = p * count + t;
    const scale = -upstream[i]! * taps[i]!;
    if (scale === 0) return;
    for (let d = 0, a = p * dims, b = q * dims; d < dims; d++, a++, b++) {
      const push = scale * (features[a]! - features[b]!);
      out[a] += push;
      out[b] -= push;
    }
  });
  return Float32Array.from(out);
}

/**
 * The message `msg(p, c) = Σ_t A_t(p)·Q(q, c)`, `[N, C]`.
 * @param weights - A, `[N, T]` (0 on taps outside the grid)
 * @param values - Q, `[N, C]`
 * @param channels - C
 * @param grid - the grid and window
 */
export function windowMessage(weights: Float32Array, values: Float32Array, channels: number, grid: WindowGrid): Float32Array {
  const { batch, height: h, width: w, kernelSize: k } = grid;
  const r = (k - 1) / 2;
  const taps = k * k;
  const out = new Float32Array(gridPixels(grid) * channels);
  for (let b = 0, p = 0; b < batch; b++) {
    for (let y = 0; y < h; y++) {
      const dyLow = Math.max(-r, -y);
      const dyHigh = Math.min(r, h - 1 - y);
      for (let x = 0; x < w; x++, p++) {
        const dxLow = Math.max(-r, -x);
        const dxHigh = Math.min(r, w - 1 - x);
        const o = p * channels;
        for (let dy = dyLow; dy <= dyHigh; dy++) {
          const tapRow = p * taps + (dy + r) * k + r;
          const neighbourRow = p + dy * w;
          for (let dx = dxLow; dx <= dxHigh; dx++) {
            const a = weights[tapRow + dx]!;
            const j = (neighbourRow + dx) * channels;
            for (let c = 0; c < channels; c++) out[o + c] += a * values[j + c]!;
          }
        }
      }
    }
  }
  return out;
}

/**
 * The gradients of {@link windowMessage}: `∂A_t(p) = Σ_c G(p, c)·Q(q, c)` and
 * `∂Q(q, c) = Σ over (p, t) reading q of A_t(p)·G(p, c)`.
 * @param upstream - G = ∂L/∂msg, `[N, C]`
 * @param weights - A, `[N, T]`
 * @param values - Q, `[N, C]`
 * @param channels - C
 * @param grid - the grid and window
 */
export function windowMessageBackward(upstream: Float32Array, weights: Float32Array, values: Float32Array, channels: number, grid: WindowGrid): { weights: Float32Array; values: Float32Array } {
  const { batch, height: h, width: w, kernelSize: k } = grid;
  const r = (k - 1) / 2;
  const taps = k * k;
  const dWeights = new Float32Array(weights.length);
  const dValues = new Float32Array(values.length);
  for (let b = 0, p = 0; b < batch; b++) {
    for (let y = 0; y < h; y++) {
      const dyLow = Math.max(-r, -y);
      const dyHigh = Math.min(r, h - 1 - y);
      for (let x = 0; x < w; x++, p++) {
        const dxLow = Math.max(-r, -x);
        const dxHigh = Math.min(r, w - 1 - x);
        const o = p * channels;
        for (let dy = dyLow; dy <= dyHigh; dy++) {
          const tapRow = p * taps + (dy + r) * k + r;
          const neighbourRow = p + dy * w;
          for (let dx = dxLow; dx <= dxHigh; dx++) {
            const a = weights[tapRow + dx]!;
            const j = (neighbourRow + dx) * channels;
            let dot = 0;
            for (let c = 0; c < channels; c++) {
              const g = upstream[o + c]!;
              dot += g * values[j + c]!;
              dValues[j + c] += a * g;
            }
            dWeights[tapRow + dx] = dot;
          }
        }
      }
    }
  }
  return { weights: dWeights, values: dValues };
}
