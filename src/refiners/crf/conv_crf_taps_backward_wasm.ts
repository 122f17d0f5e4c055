/**
 * The gradient of the ConvCrf's window kernel A = Σ_k w_k·K̃_k with respect
 * to one kernel's weight and features, as WebAssembly SIMD kernels on the
 * frame layout (`conv_crf_frame.ts`; 4 positions per v128). With H = w·∂A,
 * K_t(p) = exp(−½|f(p) − f(p + s_t)|²) and u the per-position normaliser:
 *
 * ```text
 * symmetric K̃ = u(p)·K·u(p+s), u = n^-½   ∂n(p) = −½u³·Σ_t [H_t(p)·K_t(p)·u(p+s) + H_t(p−s)·K_t(p−s)·u(p−s)]
 *                                         ∂K_t(p) = H_t(p)·u(p)·u(p+s) + ∂n(p)
 * after     K̃ = K·u(p), u = 1/n          ∂n(p) = −u²·Σ_t H_t(p)·K_t(p),  ∂K = H·u(p) + ∂n(p)
 * none      K̃ = K                        ∂K = H
 * ∂w  = Σ ∂A ⊙ K̃
 * ∂f(p) = Σ_t [g_t(p)·(f(p) − f(p+s)) + g_t(p−s)·(f(p) − f(p−s))],  g = −∂K·K
 * ```
 *
 * Every scatter to a neighbour (p's role as the neighbour p + s of p − s) is
 * written as a gather from p − s, so each position is written once. Taps are 0
 * off the grid and the planes' margins are 0, so no bound is checked.
 *
 * - `tapNorms(upstream, taps, count, planeBytes, scales, shifts, norms, parts, positions, weight, mode)`:
 *   ∂n into `norms`, and per position Σ_t ∂A·K̃ into `parts` (summed in
 *   float64 by the caller).
 * - `tapGrads(…, norms, positions, weight, mode)`: `taps` ← g = −∂K·K, in place.
 * - `featureGrads(grads, count, planeBytes, features, dims, shifts, out, positions)`: ∂f, D planes.
 *
 * `mode`: 0 symmetric, 1 after, 2 none.
 * @module
 * @internal
 */
import { FunctionBuilder } from '../../core/wasm/assembler.js';
import { declare, forRange, increment, loadShift, positionBytes, sum, V } from './conv_crf_wasm_parts.js';

const SYMMETRIC = 0;
const NONE = 2;

/** Pushes the v128 at `base + p − shift` (locals). */
function loadBefore(f: FunctionBuilder, base: string): void {
  f.get(base).get('shift').op('i32.sub').loadV128();
}

/** Step 1: ∂n and the parts of ∂w. */
export function buildTapNorms(): FunctionBuilder {
  const f = new FunctionBuilder([
    ...['upstream', 'taps', 'count', 'plane_bytes', 'scales', 'shifts', 'norms', 'parts', 'positions'].map((n) => [n, 'i32'] as const),
    ['weight', 'f32'],
    ['mode', 'i32'],
  ]);
  declare(f, 'i32', ['t', 'p', 'end', 'shift', 'plane', 'at', 'up_at', 'u_at']);
  declare(f, 'v128', ['acc', 'dw', 'prod', 'uq', 'up', 'dn']);
  positionBytes(f);
  forRange(f, 'p', 'end', V, (f) => {
    f.f32x4(0).set('acc').f32x4(0).set('dw');
    sum(f, 'scales', 'p');
    f.set('u_at');
    f.i32(0).set('plane');
    forRange(f, 't', 'count', 1, (f) => {
      loadShift(f);
      sum(f, 'upstream', 'plane', 'p');
      f.set('up_at');
      sum(f, 'taps', 'plane', 'p');
      f.set('at');
      f.get('up_at').loadV128().get('at').loadV128().op('f32x4.mul').set('prod');
      f.get('mode').i32(SYMMETRIC).op('i32.eq').ifElse(
        (f) => {
          sum(f, 'u_at', 'shift');
          f.loadV128().set('uq');
          f.get('dw').get('prod').get('uq').op('f32x4.mul').op('f32x4.add').set('dw');
          f.get('acc').get('prod').get('uq').op('f32x4.mul').op('f32x4.add');
          loadBefore(f, 'up_at');
          loadBefore(f, 'at');
          f.op('f32x4.mul');
          loadBefore(f, 'u_at');
          f.op('f32x4.mul').op('f32x4.add').set('acc');
        },
        (f) => {
          f.get('dw').get('prod').op('f32x4.add').set('dw');
          f.get('acc').get('prod').op('f32x4.add').set('acc');
        },
      );
      increment(f, 'plane', 'plane_bytes');
    });
    f.get('u_at').loadV128().set('up');
    f.f32x4(0).set('dn');
    f.get('mode').i32(NONE).op('i32.ne').ifElse((f) => {
      f.get('dw').get('up').op('f32x4.mul').set('dw');
      // −u²·w·acc (after) or −½·u³·w·acc (symmetric).
      f.get('acc').get('up').op('f32x4.mul').get('up').op('f32x4.mul').get('weight').op('f32x4.splat').op('f32x4.mul').op('f32x4.neg').set('dn');
      f.get('mode').i32(SYMMETRIC).op('i32.eq').ifElse((f) => void f.get('dn').get('up').op('f32x4.mul').f32x4(0.5).op('f32x4.mul').set('dn'));
    });
    sum(f, 'norms', 'p');
    f.get('dn').storeV128();
    sum(f, 'parts', 'p');
    f.get('dw').storeV128();
  });
  return f;
}

/** Step 2: taps ← −∂K·K. */
export function buildTapGrads(): FunctionBuilder {
  const f = new FunctionBuilder([
    ...['upstream', 'taps', 'count', 'plane_bytes', 'scales', 'shifts', 'norms', 'positions'].map((n) => [n, 'i32'] as const),
    ['weight', 'f32'],
    ['mode', 'i32'],
  ]);
  declare(f, 'i32', ['t', 'p', 'end', 'shift', 'plane', 'at', 'u_at']);
  declare(f, 'v128', ['w', 'dk']);
  f.get('weight').op('f32x4.splat').set('w');
  positionBytes(f);
  f.i32(0).set('plane');
  forRange(f, 't', 'count', 1, (f) => {
    loadShift(f);
    forRange(f, 'p', 'end', V, (f) => {
      sum(f, 'upstream', 'plane', 'p');
      f.loadV128().get('w').op('f32x4.mul').set('dk');
      f.get('mode').i32(NONE).op('i32.ne').ifElse((f) => {
        sum(f, 'scales', 'p');
        f.tee('u_at').loadV128().get('dk').op('f32x4.mul').set('dk');
        f.get('mode').i32(SYMMETRIC).op('i32.eq').ifElse((f) => {
          f.get('dk');
          sum(f, 'u_at', 'shift');
          f.loadV128().op('f32x4.mul').set('dk');
        });
        f.get('dk');
        sum(f, 'norms', 'p');
        f.loadV128().op('f32x4.add').set('dk');
      });
      sum(f, 'taps', 'plane', 'p');
      f.tee('at').get('at').loadV128().get('dk').op('f32x4.mul').op('f32x4.neg').storeV128();
    });
    increment(f, 'plane', 'plane_bytes');
  });
  return f;
}

/** Step 3: ∂f from g (see the module comment). */
export function buildFeatureGrads(): FunctionBuilder {
  const f = new FunctionBuilder(['grads', 'count', 'plane_bytes', 'features', 'dims', 'shifts', 'out', 'positions'].map((n) => [n, 'i32'] as const));
  declare(f, 'i32', ['d', 't', 'p', 'end', 'shift', 'f_plane', 'o_plane', 'f_at', 'g_at']);
  declare(f, 'v128', ['fp', 'acc']);
  positionBytes(f);
  f.get('features').set('f_plane');
  f.get('out').set('o_plane');
  forRange(f, 'd', 'dims', 1, (f) => {
    forRange(f, 'p', 'end', V, (f) => {
      sum(f, 'f_plane', 'p');
      f.tee('f_at').loadV128().set('fp');
      f.f32x4(0).set('acc');
      sum(f, 'grads', 'p');
      f.set('g_at');
      forRange(f, 't', 'count', 1, (f) => {
        loadShift(f);
        f.get('acc');
        f.get('g_at').loadV128().get('fp');
        sum(f, 'f_at', 'shift');
        f.loadV128().op('f32x4.sub').op('f32x4.mul').op('f32x4.add');
        loadBefore(f, 'g_at');
        f.get('fp');
        loadBefore(f, 'f_at');
        f.op('f32x4.sub').op('f32x4.mul').op('f32x4.add').set('acc');
        increment(f, 'g_at', 'plane_bytes');
      });
      sum(f, 'o_plane', 'p');
      f.get('acc').storeV128();
    });
    increment(f, 'f_plane', 'plane_bytes');
    increment(f, 'o_plane', 'plane_bytes');
  });
  return f;
}
