/**
 * SPN spatial propagation as functional ops (DESIGN §5, Liu et al., NIPS 2017):
 * {@link spnPropagate} (one direction) and {@link spn} (four directions,
 * max-merged, repeated). NHWC in, NHWC out, differentiable.
 *
 * By default (`implementation: 'auto'`) WebAssembly SIMD kernels
 * (`scan_fused.ts`) normalise and border-mask the gates, scan every direction
 * and merge them in one call per direction and batch entry. The tfjs-ops path
 * — gates normalised and masked with element-wise ops in their NHWC layout,
 * then the sequential part (`scan.ts`) walking every direction in its own
 * step order — is the reference, and runs below 4 channels or where the
 * kernels cannot compile.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '../../core/errors.js';
import { isHorizontal, isReversed, SPN_DIRECTIONS, SPN_MODES, SPN_NORMALIZATIONS, type SpnDirection, type SpnMode, type SpnNormalize } from './directions.js';
import { scanDirections, type ScanTaps } from './scan.js';
import { propagateFused, scanFusedAvailable } from './scan_fused.js';

/**
 * What runs the propagation: `auto` the WebAssembly SIMD kernels where they
 * compile and C ≥ 4, else tfjs ops; `wasm` the kernels (a ConfigError where
 * they cannot run); `ops` tfjs ops everywhere (the reference).
 */
export type SpnImplementation = 'auto' | 'wasm' | 'ops';

/** The implementations, for validation. */
export const SPN_IMPLEMENTATIONS: readonly SpnImplementation[] = ['auto', 'wasm', 'ops'];

/** Options of {@link spnPropagate}. */
export interface SpnPropagateOptions {
  /** The direction to propagate in. */
  direction: SpnDirection;
  /**
   * Three-way (gates `3C`) or one-way (gates `C`).
   * @defaultValue 'three-way'
   */
  mode?: SpnMode;
  /**
   * Gate normalisation, see {@link SpnNormalize}.
   * @defaultValue 'when-needed'
   */
  normalization?: SpnNormalize;
  /**
   * What runs the propagation, see {@link SpnImplementation}.
   * @defaultValue 'auto'
   */
  implementation?: SpnImplementation;
}

/** Options of {@link spn}. */
export interface SpnOptions {
  /**
   * How many times the four-direction, max-merged pass runs (same gates).
   * @defaultValue 2
   */
  passes?: number;
  /**
   * Three-way (gates `12C`) or one-way (gates `4C`).
   * @defaultValue 'three-way'
   */
  mode?: SpnMode;
  /**
   * Gate normalisation, see {@link SpnNormalize}.
   * @defaultValue 'when-needed'
   */
  normalization?: SpnNormalize;
  /**
   * What runs the propagation, see {@link SpnImplementation}.
   * @defaultValue 'auto'
   */
  implementation?: SpnImplementation;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], argument: string): T {
  if (!allowed.includes(value as T)) throw new ConfigError(argument, `must be one of ${allowed.map((v) => `'${v}'`).join(', ')}`, value);
  return value as T;
}

/** Whether the WebAssembly kernels run this call. */
function useKernels(implementation: unknown, channels: number, taps: ScanTaps, normalize: SpnNormalize): boolean {
  const chosen = oneOf(implementation ?? 'auto', SPN_IMPLEMENTATIONS, 'options.implementation');
  if (chosen === 'ops') return false;
  const available = scanFusedAvailable(channels, taps, normalize);
  if (chosen === 'wasm' && !available) {
    throw new ConfigError('options.implementation', `'wasm' needs WebAssembly SIMD and at least 4 channels (use 'auto' or 'ops'); C is`, channels);
  }
  return available;
}

/** Checks `x` and `gates`: gate channels must be `directions · taps · C`. */
function validateShapes(x: tf.Tensor, gates: tf.Tensor, taps: ScanTaps, directions: number, mode: SpnMode): void {
  if (!(x instanceof tf.Tensor) || x.rank !== 4) throw new ShapeError('x', 'must be a rank-4 tensor [B, H, W, C]', x);
  if (!(gates instanceof tf.Tensor) || gates.rank !== 4) throw new ShapeError('gates', 'must be a rank-4 tensor [B, H, W, G]', gates);
  const [b, h, w, c] = x.shape as [number, number, number, number];
  if (gates.shape[0] !== b || gates.shape[1] !== h || gates.shape[2] !== w) {
    throw new ShapeError('gates', `must have the batch and size of x [${b}, ${h}, ${w}, ·]`, gates);
  }
  const factor = directions * taps;
  if (gates.shape[3] !== factor * c) {
    const count = factor === 1 ? 'C' : `${factor}·C`;
    throw new ShapeError('gates', `must have ${count} = ${factor * c} channels (${mode}${directions > 1 ? `, ${directions} directions` : ''}, C = ${c})`, gates);
  }
  if (x.dtype !== 'float32' || gates.dtype !== 'float32') throw new ShapeError(x.dtype !== 'float32' ? 'x' : 'gates', 'must be float32', x.dtype !== 'float32' ? x.dtype : gates.dtype);
}

/**
 * Which gates exist, `[1, H, W, D, taps, 1]`: none on a direction's first
 * column/row (their neighbours lie outside the image, so h = x there), no g1
 * where row/column − 1 is outside, no g3 where + 1 is.
 */
function borderMask(height: number, width: number, directions: readonly SpnDirection[], taps: ScanTaps): tf.Tensor {
  const count = directions.length;
  const mask = new Float32Array(height * width * count * taps).fill(1);
  for (let h = 0; h < height; h++) {
    for (let w = 0; w < width; w++) {
      directions.forEach((direction, d) => {
        const [step, row, steps, rows] = isHorizontal(direction) ? [w, h, width, height] : [h, w, height, width];
        const base = ((h * width + w) * count + d) * taps;
        if (step === (isReversed(direction) ? steps - 1 : 0)) mask.fill(0, base, base + taps);
        if (taps === 3 && row === 0) mask[base] = 0;
        if (taps === 3 && row === rows - 1) mask[base + 2] = 0;
      });
    }
  }
  return tf.tensor(mask, [1, height, width, count, taps, 1]);
}

/**
 * Stability normalisation over the taps, on the full gate maps, before the
 * border gates are zeroed (as pytorch_spn does).
 * @param gates - `[B, H, W, D, taps, C]`
 */
function normalizeGates(gates: tf.Tensor, normalize: SpnNormalize): tf.Tensor {
  if (normalize === 'none') return gates;
  const sum = tf.sum(tf.abs(gates), 4, true);
  // S + 1 − sign(S): S where S > 0, else 1, and differentiable (tf.where on tf.greater is not).
  const divisor = normalize === 'when-needed' ? tf.maximum(sum, 1) : tf.add(sum, tf.sub(1, tf.sign(sum)));
  return tf.div(gates, divisor);
}

/** Gates ready for every pass: `gates` `[B, H, W, D, taps·C]` and `keep = 1 − Σ_k g_k` `[B, H, W, D, C]`. */
interface PreparedGates {
  gates: tf.Tensor5D;
  keep: tf.Tensor5D;
}

function prepareGates(gates: tf.Tensor4D, directions: readonly SpnDirection[], taps: ScanTaps, normalize: SpnNormalize): PreparedGates {
  const [b, h, w, channels] = gates.shape;
  const count = directions.length;
  const c = channels / (count * taps);
  const split = tf.reshape(gates, [b, h, w, count, taps, c]);
  const masked = tf.mul(normalizeGates(split, normalize), borderMask(h, w, directions, taps));
  return {
    gates: tf.reshape(masked, [b, h, w, count, taps * c]) as tf.Tensor5D,
    keep: tf.sub(1, tf.sum(masked, 4)) as tf.Tensor5D,
  };
}

/** One propagation of `x` in every direction of `prepared`: D tensors `[B, H, W, C]`. */
function propagateAll(x: tf.Tensor4D, prepared: PreparedGates, directions: readonly SpnDirection[], taps: ScanTaps): tf.Tensor4D[] {
  const [b, h, w, c] = x.shape;
  // (1 − Σg) ⊙ x, per direction: the zeroed border gates are left out of Σg.
  const a = tf.mul(tf.reshape(x, [b, h, w, 1, c]), prepared.keep) as tf.Tensor5D;
  const out = scanDirections(a, prepared.gates, directions, taps);
  return directions.length === 1 ? [tf.reshape(out, [b, h, w, c]) as tf.Tensor4D] : (tf.unstack(out) as tf.Tensor4D[]);
}

/**
 * Propagates `x` in one direction with per-pixel, per-channel gates read at
 * the target pixel (DESIGN §5). For left-to-right, three-way:
 *
 * `h[i, 0] = x[i, 0]`;
 * `h[i, t] = (1 − g1 − g2 − g3) x[i, t] + g1 h[i−1, t−1] + g2 h[i, t−1] + g3 h[i+1, t−1]`,
 *
 * with gates of out-of-image neighbours set to 0 (and left out of 1 − Σg).
 * Right-to-left mirrors it (h[i, t] reads column t+1); top-to-bottom reads
 * row r−1 at columns j−1, j, j+1 (g1, g2, g3), bottom-to-top row r+1. One-way
 * keeps only the neighbour in the same row (gate g). Cost O(HWC); the W (or H)
 * steps are sequential, each one batched op sequence over all rows, channels
 * and the batch.
 * @param x - `[B, H, W, C]`
 * @param gates - `[B, H, W, 3C]` (three-way: chunks g1, g2, g3 of C channels) or `[B, H, W, C]` (one-way)
 * @param options - direction, mode, normalisation
 * @returns `[B, H, W, C]`
 * @throws ShapeError naming `x` or `gates` on a wrong rank, size or channel count
 * @throws ConfigError naming a bad option
 */
export function spnPropagate(x: tf.Tensor4D, gates: tf.Tensor4D, options: SpnPropagateOptions): tf.Tensor4D {
  const direction = oneOf((options as SpnPropagateOptions | undefined)?.direction, SPN_DIRECTIONS, 'options.direction');
  const mode = oneOf(options.mode ?? 'three-way', SPN_MODES, 'options.mode');
  const normalize = gateNormalization(options);
  const taps: ScanTaps = mode === 'three-way' ? 3 : 1;
  validateShapes(x, gates, taps, 1, mode);
  if (useKernels(options.implementation, x.shape[3], taps, normalize)) return propagateFused(x, gates, [direction], taps, normalize);
  return tf.tidy(() => propagateAll(x, prepareGates(gates, [direction], taps, normalize), [direction], taps)[0]!);
}

/** The gate normalisation option; its pre-rename name is an error that names the new one. */
function gateNormalization(options: { normalization?: SpnNormalize }): SpnNormalize {
  if ('normalize' in options) throw new ConfigError('options.normalize', "was renamed: use 'normalization'", (options as { normalize: unknown }).normalize);
  return oneOf(options.normalization ?? 'when-needed', SPN_NORMALIZATIONS, 'options.normalization');
}

/**
 * The SPN module: propagates `x` in all four directions, merges them by
 * element-wise max, and repeats that pass `passes` times with the same gates
 * (the reference module runs it twice).
 * @param x - `[B, H, W, C]`
 * @param gates - `[B, H, W, 12C]` (three-way) or `[B, H, W, 4C]` (one-way), chunks of C channels in the order
 *   `[L→R g1 g2 g3, R→L g1 g2 g3, T→B …, B→T …]` ({@link SPN_DIRECTIONS})
 * @param options - passes, mode, normalisation
 * @returns `[B, H, W, C]`
 * @throws ShapeError naming `x` or `gates`; ConfigError naming a bad option
 */
export function spn(x: tf.Tensor4D, gates: tf.Tensor4D, options: SpnOptions = {}): tf.Tensor4D {
  const passes = options.passes ?? 2;
  if (!Number.isInteger(passes) || passes < 1) throw new ConfigError('options.passes', 'must be an integer >= 1', passes);
  const mode = oneOf(options.mode ?? 'three-way', SPN_MODES, 'options.mode');
  const normalize = gateNormalization(options);
  const taps: ScanTaps = mode === 'three-way' ? 3 : 1;
  validateShapes(x, gates, taps, SPN_DIRECTIONS.length, mode);
  if (useKernels(options.implementation, x.shape[3], taps, normalize)) {
    return tf.tidy(() => {
      let h = x;
      for (let pass = 0; pass < passes; pass++) {
        h = propagateFused(h, gates, SPN_DIRECTIONS, taps, normalize);
      }
      return h;
    });
  }
  return tf.tidy(() => {
    const prepared = prepareGates(gates, SPN_DIRECTIONS, taps, normalize);
    let h = x;
    for (let pass = 0; pass < passes; pass++) {
      // Pairwise maximum: a tie passes the gradient to one branch only.
      h = propagateAll(h, prepared, SPN_DIRECTIONS, taps).reduce((m, d) => tf.maximum(m, d));
    }
    return h;
  });
}
