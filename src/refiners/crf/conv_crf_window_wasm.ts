/**
 * The ConvCrf's window kernels as WebAssembly SIMD, assembled at run time by
 * {@link assembleModule}. They work on the *frame* layout of
 * `conv_crf_frame.ts`: the pooled grid, every item padded by the window
 * radius r on all sides, flattened, with a margin of zeros before and after,
 * so that every tap of every position is one fixed offset away and no loop
 * checks a bound. Per-position planes (features, taps, norms) hold one
 * float per position; per-position rows (probabilities, messages) hold Cp
 * floats (C padded to a multiple of 4). All addresses and offsets are in
 * bytes; `positions` is a multiple of 4.
 *
 * Exports:
 * - `gaussian(features, dims, planeBytes, taps, real, shifts, count, positions)`:
 *   per tap t, `K_t[p] = real[p]·exp(−½ Σ_d (f_d[p] − f_d[p + shift_t])²)`
 *   (`shifts`: `count` i32 byte offsets within a plane), 0 below
 *   exp(−{@link TAP_CUTOFF_EXPONENT}). Padding positions hold features of
 *   1e15, so a tap reaching them is exactly 0.
 * - `norms(taps, count, planeBytes, real, out, positions, mode)`: n = Σ_t K_t,
 *   then `out = real/√(n + 1 − real)` (mode 0, symmetric), `real/(n + 1 − real)`
 *   (mode 1, after) or `real` (mode 2, none) — 0 on padding, never a division by 0.
 * - `accumulate(taps, count, planeBytes, scales, shifts, target, positions, weight, symmetric)`:
 *   `A_t[p] += weight·K_t[p]·u[p]·(symmetric ? u[p + shift_t] : 1)`.
 * - `message(weights, values, out, table, tableEnd, positions, rowBytes)`:
 *   `out[p] = Σ_e weights[aOff_e + 4p]·values[qOff_e + p·rowBytes]` over the
 *   table's (aOff, qOff) i32 pairs: the forward message with (t·planeBytes,
 *   s_t·rowBytes), the gradient of Q with (t·planeBytes − 4s_t, −s_t·rowBytes).
 *   `messageRow2` … `messageRow8`: the same for rows of exactly that many
 *   v128s, held in registers.
 * - `dots(upstream, values, out, table, tableEnd, positions, rowBytes)`: the
 *   gradient of A, `out[aOff_e + 4p] = Σ_c upstream[p, c]·values[p + s_e, c]`
 *   over the forward table.
 * - `tapNorms`, `tapGrads`, `featureGrads`: the window kernel's gradient
 *   (`conv_crf_taps_backward_wasm.ts`).
 * @module
 * @internal
 */
import { assembleModule, FunctionBuilder } from '../../core/wasm/assembler.js';
import { emitExp, expConstants } from '../../core/wasm/simd_exp.js';
import { buildFeatureGrads, buildTapGrads, buildTapNorms } from './conv_crf_taps_backward_wasm.js';
import { declare, forRange, increment, loadShift, positionBytes, sum, V } from './conv_crf_wasm_parts.js';

/**
 * Taps below exp(−40) ≈ 4e-18 are set to 0, so that their products with
 * probabilities and gradients stay out of float32's subnormal range, where
 * x86 SIMD arithmetic takes a slow path (WebAssembly cannot flush subnormals
 * to zero): the message kernel measured 2× slower on subnormal products. The
 * taps dropped change a message by less than 49·4e-18 of its weight.
 */
export const TAP_CUTOFF_EXPONENT = 40;

function buildGaussian(): FunctionBuilder {
  const f = new FunctionBuilder(['features', 'dims', 'plane_bytes', 'taps', 'real', 'shifts', 'count', 'positions'].map((n) => [n, 'i32'] as const));
  declare(f, 'i32', ['t', 'p', 'd', 'end', 'shift', 'plane', 'out']);
  declare(f, 'v128', ['distance', 'diff', 'minus_half', 'cutoff']);
  expConstants(f);
  f.f32x4(-0.5).set('minus_half').f32x4(2 * TAP_CUTOFF_EXPONENT).set('cutoff');
  positionBytes(f);
  f.get('taps').set('out');
  forRange(f, 't', 'count', 1, (f) => {
    loadShift(f);
    forRange(f, 'p', 'end', V, (f) => {
      f.f32x4(0).set('distance');
      sum(f, 'features', 'p');
      f.set('plane');
      forRange(f, 'd', 'dims', 1, (f) => {
        f.get('plane').loadV128();
        sum(f, 'plane', 'shift');
        f.loadV128().op('f32x4.sub').tee('diff').get('diff').op('f32x4.mul').get('distance').op('f32x4.add').set('distance');
        increment(f, 'plane', 'plane_bytes');
      });
      sum(f, 'out', 'p');
      f.get('distance').get('minus_half').op('f32x4.mul');
      emitExp(f);
      f.get('distance').get('cutoff').op('f32x4.gt').op('v128.andnot');
      sum(f, 'real', 'p');
      f.loadV128().op('f32x4.mul').storeV128();
    });
    increment(f, 'out', 'plane_bytes');
  });
  return f;
}

function buildNorms(): FunctionBuilder {
  const f = new FunctionBuilder(['taps', 'count', 'plane_bytes', 'real', 'out', 'positions', 'mode'].map((n) => [n, 'i32'] as const));
  declare(f, 'i32', ['t', 'p', 'end', 'at']);
  declare(f, 'v128', ['n', 'r', 'one', 'divisor']);
  f.f32x4(1).set('one');
  positionBytes(f);
  forRange(f, 'p', 'end', V, (f) => {
    f.f32x4(0).set('n');
    sum(f, 'taps', 'p');
    f.set('at');
    forRange(f, 't', 'count', 1, (f) => {
      f.get('n').get('at').loadV128().op('f32x4.add').set('n');
      increment(f, 'at', 'plane_bytes');
    });
    sum(f, 'real', 'p');
    f.loadV128().set('r');
    f.get('one').set('divisor');
    f.get('mode').i32(2).op('i32.ne').ifElse((f) => {
      // n + 1 − real: n on real positions, 1 on padding (whose taps are all 0).
      f.get('n').get('one').op('f32x4.add').get('r').op('f32x4.sub').set('divisor');
      f.get('mode').op('i32.eqz').ifElse((f) => void f.get('divisor').op('f32x4.sqrt').set('divisor'));
    });
    sum(f, 'out', 'p');
    f.get('r').get('divisor').op('f32x4.div').storeV128();
  });
  return f;
}

function buildAccumulate(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['taps', 'i32'],
    ['count', 'i32'],
    ['plane_bytes', 'i32'],
    ['scales', 'i32'],
    ['shifts', 'i32'],
    ['target', 'i32'],
    ['positions', 'i32'],
    ['weight', 'f32'],
    ['symmetric', 'i32'],
  ]);
  declare(f, 'i32', ['t', 'p', 'end', 'shift', 'src', 'dst']);
  declare(f, 'v128', ['w', 'v']);
  f.get('weight').op('f32x4.splat').set('w');
  positionBytes(f);
  f.get('taps').set('src');
  f.get('target').set('dst');
  forRange(f, 't', 'count', 1, (f) => {
    loadShift(f);
    forRange(f, 'p', 'end', V, (f) => {
      sum(f, 'src', 'p');
      f.loadV128();
      sum(f, 'scales', 'p');
      f.loadV128().op('f32x4.mul').get('w').op('f32x4.mul').set('v');
      f.get('symmetric').ifElse((f) => {
        f.get('v');
        sum(f, 'scales', 'p', 'shift');
        f.loadV128().op('f32x4.mul').set('v');
      });
      sum(f, 'dst', 'p');
      sum(f, 'dst', 'p');
      f.loadV128().get('v').op('f32x4.add').storeV128();
    });
    increment(f, 'src', 'plane_bytes');
    increment(f, 'dst', 'plane_bytes');
  });
  return f;
}

const TABLE_PARAMS = ['weights', 'values', 'out', 'table', 'table_end', 'positions', 'row_bytes'].map((n) => [n, 'i32'] as const);

/** Per position and channel vector, Σ over the table of splat(weight)·value (see the module comment). */
function buildMessage(): FunctionBuilder {
  const f = new FunctionBuilder(TABLE_PARAMS);
  declare(f, 'i32', ['p', 'c', 'e', 'weight_at', 'value_at', 'end']);
  declare(f, 'v128', ['acc', 'acc2']);
  f.i32(0).set('p');
  f.loopWhile((f) => f.get('p').get('positions').op('i32.lt_u'), (f) => {
    forRange(f, 'c', 'row_bytes', V, (f) => {
      f.f32x4(0).set('acc');
      f.get('weights').get('p').i32(2).op('i32.shl').op('i32.add').set('weight_at');
      f.get('values').get('p').get('row_bytes').op('i32.mul').op('i32.add').get('c').op('i32.add').set('value_at');
      f.get('table').set('e');
      f.loopWhile((f) => f.get('e').get('table_end').op('i32.lt_u'), (f) => {
        f.get('acc');
        f.get('e').loadI32().get('weight_at').op('i32.add').loadF32().op('f32x4.splat');
        f.get('e').loadI32(4).get('value_at').op('i32.add').loadV128();
        f.op('f32x4.mul').op('f32x4.add').set('acc');
        increment(f, 'e', 8);
      });
      f.get('out').get('p').get('row_bytes').op('i32.mul').op('i32.add').get('c').op('i32.add').get('acc').storeV128();
    });
    increment(f, 'p', 1);
  });
  return f;
}

/**
 * {@link buildMessage} for rows of exactly `width` v128s, the whole row in
 * registers: each tap's weight and offsets are loaded once per position
 * instead of once per v128 (K = 21 labels: 6 v128s a row).
 */
function buildMessageRow(width: number): FunctionBuilder {
  const f = new FunctionBuilder(TABLE_PARAMS);
  declare(f, 'i32', ['p', 'e', 'weight_at', 'value_at', 'at']);
  const lanes = Array.from({ length: width }, (_, k) => k);
  declare(f, 'v128', ['a', ...lanes.map((k) => `acc${k}`)]);
  f.i32(0).set('p');
  f.loopWhile((f) => f.get('p').get('positions').op('i32.lt_u'), (f) => {
    for (const k of lanes) f.f32x4(0).set(`acc${k}`);
    f.get('weights').get('p').i32(2).op('i32.shl').op('i32.add').set('weight_at');
    f.get('values').get('p').get('row_bytes').op('i32.mul').op('i32.add').set('value_at');
    f.get('table').set('e');
    f.loopWhile((f) => f.get('e').get('table_end').op('i32.lt_u'), (f) => {
      f.get('e').loadI32().get('weight_at').op('i32.add').loadF32().op('f32x4.splat').set('a');
      f.get('e').loadI32(4).get('value_at').op('i32.add').set('at');
      for (const k of lanes) f.get(`acc${k}`).get('a').get('at').loadV128(k * V).op('f32x4.mul').op('f32x4.add').set(`acc${k}`);
      increment(f, 'e', 8);
    });
    f.get('out').get('p').get('row_bytes').op('i32.mul').op('i32.add').set('at');
    for (const k of lanes) f.get('at').get(`acc${k}`).storeV128(k * V);
    increment(f, 'p', 1);
  });
  return f;
}

/** Widest row {@link buildMessageRow} is assembled for (x86-64 has 16 vector registers). */
export const MAX_MESSAGE_ROW = 8;

/** The gradient of the weights: per position and table entry, Σ_c upstream·value (see the module comment). */
function buildDots(): FunctionBuilder {
  const f = new FunctionBuilder(TABLE_PARAMS);
  declare(f, 'i32', ['p', 'c', 'e', 'row', 'value_at', 'out_at']);
  declare(f, 'v128', ['acc']);
  f.i32(0).set('p');
  f.loopWhile((f) => f.get('p').get('positions').op('i32.lt_u'), (f) => {
    f.get('p').get('row_bytes').op('i32.mul').set('row');
    f.get('table').set('e');
    f.loopWhile((f) => f.get('e').get('table_end').op('i32.lt_u'), (f) => {
      f.get('e').loadI32(4).get('values').op('i32.add').get('row').op('i32.add').set('value_at');
      f.f32x4(0).set('acc');
      forRange(f, 'c', 'row_bytes', V, (f) => {
        f.get('acc');
        sum(f, 'weights', 'row', 'c'); // `weights` holds the upstream rows here
        f.loadV128();
        sum(f, 'value_at', 'c');
        f.loadV128().op('f32x4.mul').op('f32x4.add').set('acc');
      });
      f.get('e').loadI32().get('out').op('i32.add').get('p').i32(2).op('i32.shl').op('i32.add').set('out_at');
      f.get('out_at').reduceLanes('acc', 'f32.add').storeF32();
      increment(f, 'e', 8);
    });
    increment(f, 'p', 1);
  });
  return f;
}

/** The kernels' exports (byte addresses into the module's memory; see the module comment). */
export interface WindowKernelExports {
  /** Gaussian taps of one kernel's features. */
  gaussian(features: number, dims: number, planeBytes: number, taps: number, real: number, shifts: number, count: number, positions: number): void;
  /** Per-position normalisers u. */
  norms(taps: number, count: number, planeBytes: number, real: number, out: number, positions: number, mode: number): void;
  /** A += w·K̃. */
  accumulate(taps: number, count: number, planeBytes: number, scales: number, shifts: number, target: number, positions: number, weight: number, symmetric: number): void;
  /** Messages (or the gradient of Q) over a table, any row width. */
  message(weights: number, values: number, out: number, table: number, tableEnd: number, positions: number, rowBytes: number): void;
  /** `message` for rows of 2 … {@link MAX_MESSAGE_ROW} v128s: `messageRow2` … */
  [name: `messageRow${number}`]: (weights: number, values: number, out: number, table: number, tableEnd: number, positions: number, rowBytes: number) => void;
  /** The gradient of the window weights over the forward table. */
  dots(upstream: number, values: number, out: number, table: number, tableEnd: number, positions: number, rowBytes: number): void;
  /** Backward, step 1: ∂n per position and the per-position parts of ∂w (see `conv_crf_taps_backward_wasm.ts`). */
  tapNorms(upstream: number, taps: number, count: number, planeBytes: number, scales: number, shifts: number, norms: number, parts: number, positions: number, weight: number, mode: number): void;
  /** Backward, step 2: K ← −∂K·K in place. */
  tapGrads(upstream: number, taps: number, count: number, planeBytes: number, scales: number, shifts: number, norms: number, positions: number, weight: number, mode: number): void;
  /** Backward, step 3: ∂f from the step-2 planes. */
  featureGrads(grads: number, count: number, planeBytes: number, features: number, dims: number, shifts: number, out: number, positions: number): void;
}

/** The module's bytes (it imports its memory as `env.memory`). */
export function assembleWindowKernels(): Uint8Array<ArrayBuffer> {
  return assembleModule({
    gaussian: buildGaussian(),
    norms: buildNorms(),
    accumulate: buildAccumulate(),
    message: buildMessage(),
    ...Object.fromEntries(Array.from({ length: MAX_MESSAGE_ROW - 1 }, (_, i) => [`messageRow${i + 2}`, buildMessageRow(i + 2)])),
    dots: buildDots(),
    tapNorms: buildTapNorms(),
    tapGrads: buildTapGrads(),
    featureGrads: buildFeatureGrads(),
  });
}
