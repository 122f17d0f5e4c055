/**
 * The gradient of the ConvCrf's window kernel A = Σ_k w_k·K̃_k with respect
 * to one kernel's weight and features, on the frame layout of
 * `conv_crf_frame.ts` (planes of `slots` floats; tap t of the position in
 * slot i reads slot i + s_t). Runs once per backward pass (the messages'
 * gradients, once per iteration, are WebAssembly), so plain loops suffice.
 *
 * With H = w·∂A and K_t(p) = exp(−½|Δ|²), Δ = f(p) − f(p + s_t):
 *
 * ```text
 * ∂w        = Σ ∂A ⊙ K̃
 * symmetric K̃ = u(p)·K·u(q), u = n^-½:  ∂u(p) = Σ_t H·K·u(q) (p as centre) + Σ H·K·u(p') (p as neighbour q of p')
 *           ∂n = −½u³·∂u,  ∂K = H·u(p)·u(q) + ∂n(p)
 * after     K̃ = K·u(p), u = 1/n:       ∂n(p) = −u(p)²·Σ_t H·K,  ∂K = H·u(p) + ∂n(p)
 * none      ∂K = H
 * ∂f(p) += −∂K·K·Δ,  ∂f(q) −= −∂K·K·Δ
 * ```
 * A tap is 0 exactly where it is off the grid (or underflows, where every
 * derivative through it is 0 as well), so zero taps are skipped.
 * @module
 * @internal
 */
import type { FrameLayout } from './conv_crf_frame.js';
import type { CrfNormalization } from './params.js';

/** One kernel's forward values on the frame, as the kernels left them. */
export interface KernelPlanes {
  /** K, T planes. */
  readonly taps: Float32Array;
  /** u, one plane: n^-½ (symmetric), 1/n (after) or the real mask (none). */
  readonly scales: Float32Array;
  /** f, D planes. */
  readonly features: Float32Array;
  /** D. */
  readonly dims: number;
}

/**
 * ∂L/∂w and ∂L/∂f (D planes, float64) of one kernel.
 * @param upstream - ∂L/∂A, T planes
 * @param planes - the kernel's K, u and f
 * @param weight - w
 * @param layout - the frame
 * @param normalization - the kernels' normalisation
 */
export function tapsBackward(upstream: Float32Array, planes: KernelPlanes, weight: number, layout: FrameLayout, normalization: CrfNormalization): { weight: number; features: Float64Array } {
  const { taps: K, scales: u, features: f, dims } = planes;
  const { taps: count, slots, margin, positions, shifts } = layout;
  const first = margin;
  const last = margin + positions;
  const symmetric = normalization === 'symmetric';
  const after = normalization === 'after';

  // ∂w and, through the normalisation, the per-position ∂n.
  let dWeight = 0;
  const dRoots = new Float64Array(slots);
  const dNorms = new Float64Array(slots);
  for (let t = 0; t < count; t++) {
    const plane = t * slots;
    const s = shifts[t]!;
    for (let i = first; i < last; i++) {
      const k = K[plane + i]!;
      if (k === 0) continue;
      const g = upstream[plane + i]!;
      if (symmetric) {
        dWeight += g * u[i]! * k * u[i + s]!;
        const hk = weight * g * k;
        dRoots[i] += hk * u[i + s]!;
        dRoots[i + s] += hk * u[i]!;
      } else if (after) {
        dWeight += g * k * u[i]!;
        dNorms[i] -= weight * g * k;
      } else {
        dWeight += g * k;
      }
    }
  }
  for (let i = first; i < last; i++) {
    if (symmetric) dNorms[i] = -0.5 * u[i]! ** 3 * dRoots[i]!;
    else if (after) dNorms[i] *= u[i]! * u[i]!;
  }

  // ∂K, then ∂f through the Gaussian (the centre tap's Δ is 0).
  const dFeatures = new Float64Array(dims * slots);
  const centre = (count - 1) / 2;
  for (let t = 0; t < count; t++) {
    if (t === centre) continue;
    const plane = t * slots;
    const s = shifts[t]!;
    for (let i = first; i < last; i++) {
      const k = K[plane + i]!;
      if (k === 0) continue;
      const h = weight * upstream[plane + i]!;
      const dK = symmetric ? h * u[i]! * u[i + s]! + dNorms[i]! : after ? h * u[i]! + dNorms[i]! : h;
      const scale = -dK * k;
      for (let d = 0, a = i, b = i + s; d < dims; d++, a += slots, b += slots) {
        const push = scale * (f[a]! - f[b]!);
        dFeatures[a] += push;
        dFeatures[b] -= push;
      }
    }
  }
  return { weight: dWeight, features: dFeatures };
}
