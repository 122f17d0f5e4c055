/**
 * Finite-difference gradient checks that work in float32: the loss is
 * projected on a fixed random tensor, and derivatives are compared along
 * random directions and on a few chosen entries (five-point central stencil).
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** Options of {@link checkGradients}. */
export interface GradCheckOptions {
  /**
   * Step of the central difference (length of the perturbation), one for all
   * inputs or one per input (use 1 for inputs the function is linear in).
   * @defaultValue 5e-2
   */
  epsilon?: number | number[];
  /** Random directions checked per input. @defaultValue 3 */
  directions?: number;
  /** Single entries checked per input. @defaultValue 4 */
  entries?: number;
  /** Relative tolerance on |analytic − numeric| / max(|analytic|, |numeric|, scale). @defaultValue 1e-3 */
  rtol?: number;
  /** Seed of the projection, the directions and the entries. @defaultValue 7 */
  seed?: number;
}

/** One compared derivative. */
export interface GradCheckEntry {
  /** Input index. */
  input: number;
  /** `direction k` or `entry i`. */
  what: string;
  /** Derivative from tfjs's gradient. */
  analytic: number;
  /** Derivative from finite differences. */
  numeric: number;
  /** |analytic − numeric| over the larger magnitude (or the noise floor). */
  relError: number;
}

/** Result of {@link checkGradients}. */
export interface GradCheckResult {
  /** Largest relative error seen. */
  maxRelError: number;
  /** Every comparison made. */
  entries: GradCheckEntry[];
}

/** Deterministic PRNG (mulberry32) so checks are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Compares tfjs gradients of `sum(f(...xs) ⊙ R)` (R a fixed random tensor)
 * with five-point central finite differences, and throws when the worst relative error
 * exceeds `rtol`.
 * @param f - the function under test (returns one tensor)
 * @param xs - its inputs (float32)
 * @param options - step, directions, tolerance, seed
 */
export function checkGradients(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], options: GradCheckOptions = {}): GradCheckResult {
  const stepOf = (index: number): number => (Array.isArray(options.epsilon) ? options.epsilon[index] : options.epsilon) ?? 5e-2;
  const rtol = options.rtol ?? 1e-3;
  const random = rng(options.seed ?? 7);
  const projection = tf.tidy(() => {
    const out = f(...xs);
    return tf.tensor(Array.from({ length: out.size }, () => random() * 2 - 1), out.shape, 'float32');
  });
  const weights = projection.dataSync();
  const loss = (...inputs: tf.Tensor[]): tf.Scalar => tf.sum(tf.mul(f(...inputs), projection));
  const outputAt = (inputs: tf.Tensor[]): Float32Array => tf.tidy(() => f(...inputs).dataSync() as Float32Array);
  const grads = tf.grads(loss)(xs);
  const gradData = grads.map((g) => g.dataSync().slice());
  tf.dispose(grads);
  const entries: GradCheckEntry[] = [];
  // Float32 outputs carry ~1e-7 relative noise; derivatives far below that
  // noise (divided by 2ε) are compared against this floor instead of zero.
  const reference = outputAt(xs);
  let outputScale = 0;
  for (let i = 0; i < reference.length; i++) outputScale += Math.abs(reference[i]! * weights[i]!);
  xs.forEach((x, index) => {
    const eps = stepOf(index);
    const floor = Math.max(1e-6, (outputScale * 1e-6) / eps);
    const base = x.dataSync();
    const outputWith = (direction: Float32Array, sign: number): Float32Array => {
      const values = Float32Array.from(base, (v, i) => v + sign * eps * direction[i]!);
      const moved = tf.tensor(values, x.shape, 'float32');
      try {
        return outputAt(xs.map((other, j) => (j === index ? moved : other)));
      } finally {
        moved.dispose();
      }
    };
    const compare = (direction: Float32Array, what: string): void => {
      let analytic = 0;
      for (let i = 0; i < direction.length; i++) analytic += gradData[index]![i]! * direction[i]!;
      // Difference the outputs before projecting (in float64): far less
      // cancellation than differencing two float32 loss sums.
      // Five-point stencil: truncation error O(ε⁴), so ε can be large enough
      // to stay clear of float32 round-off.
      const plus2 = outputWith(direction, 2);
      const plus = outputWith(direction, 1);
      const minus = outputWith(direction, -1);
      const minus2 = outputWith(direction, -2);
      let delta = 0;
      for (let i = 0; i < plus.length; i++) {
        delta += (8 * (plus[i]! - minus[i]!) - (plus2[i]! - minus2[i]!)) * weights[i]!;
      }
      const numeric = delta / (12 * eps);
      const relError = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), floor);
      entries.push({ input: index, what, analytic, numeric, relError });
    };
    for (let k = 0; k < (options.directions ?? 3); k++) {
      // Unit-norm directions: the step's size, not the input's size, sets the
      // balance between truncation and round-off.
      const direction = Float32Array.from({ length: base.length }, () => random() * 2 - 1);
      const norm = Math.hypot(...direction);
      compare(direction.map((v) => v / norm), `direction ${k}`);
    }
    for (let k = 0; k < Math.min(options.entries ?? 4, base.length); k++) {
      const at = Math.floor(random() * base.length);
      const unit = new Float32Array(base.length);
      unit[at] = 1;
      compare(unit, `entry ${at}`);
    }
  });
  projection.dispose();
  const maxRelError = Math.max(0, ...entries.map((e) => e.relError));
  if (!(maxRelError <= rtol)) {
    const worst = entries.reduce((a, b) => (b.relError > a.relError ? b : a));
    throw new Error(
      `checkGradients: relative error ${maxRelError.toExponential(2)} > ${rtol} at input ${worst.input}, ${worst.what}: ` +
        `analytic ${worst.analytic}, numeric ${worst.numeric}`,
    );
  }
  return { maxRelError, entries };
}
