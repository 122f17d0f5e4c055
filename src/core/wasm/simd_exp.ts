/**
 * A SIMD exp for the run-time assembled WebAssembly kernels (the random
 * walk's and the dense CRF's): four float32 lanes at a time, relative error
 * about 1.6e-7, 0 below −87.3. tfjs-wasm's own `exp` is scalar.
 * @module
 * @internal
 */
import type { FunctionBuilder } from './assembler.js';

// exp(x) = 2ⁿ·exp(r), n = round(x·log2 e), r = x − n·ln 2 (Cody–Waite split),
// exp(r) by a degree-5 minimax polynomial on |r| ≤ ln2/2 (relative error
// 9e-8, 1.6e-7 after float32 rounding). n is rounded with the "magic bias"
// trick (as XNNPACK does): adding 1.5·2²³ + 127 leaves n + 127 in the low
// mantissa bits, so one shift builds 2ⁿ and no float↔int conversion is needed.
const LOG2E = 1.4426950408889634;
const MAGIC_BIAS = 12583039; // 1.5·2²³ + 127
/** ln 2 split in two: 16 significant bits (n·LN2_HI is exact for |n| < 2⁸)… */
export const LN2_HI = 0.693145751953125;
/** …and the rest, ln 2 − LN2_HI. */
export const LN2_LO = 1.4286068203094172e-6;
/** Below this exp underflows float32's normal range; the kernels return 0 there. */
const EXP_LOW = -87.3;
/** Coefficients c5..c1 of exp(r) ≈ 1 + r(c1 + r(c2 + r(c3 + r(c4 + r·c5)))). */
const POLY = [0.008290314642185086, 0.041897930260837664, 0.1666763620199042, 0.4999914952335596, 0.9999997071857711, 1];

/** Loads the exp constants into v128 locals (once per function, outside the loops). */
export function expConstants(f: FunctionBuilder): void {
  const constants: Array<[string, number]> = [
    ['c_low', EXP_LOW],
    ['c_log2e', LOG2E],
    ['c_magic', MAGIC_BIAS],
    ['c_ln2hi', LN2_HI],
    ['c_ln2lo', LN2_LO],
    ...POLY.map((c, i): [string, number] => [`c_p${i}`, c]),
  ];
  for (const [name, value] of constants) f.local(name, 'v128').f32x4(value).set(name);
}

/**
 * exp of the v128 on the stack (4 lanes), for x ≤ 88 (the walk evaluates exp
 * only at x ≤ 0 up to rounding). NaN propagates; x < −87.3 gives 0.
 */
export function emitExp(f: FunctionBuilder): void {
  f.local('ex_x', 'v128').local('ex_n', 'v128').local('ex_r', 'v128').local('ex_s', 'v128');
  f.set('ex_x');
  f.get('ex_x').get('c_log2e').op('f32x4.mul').get('c_magic').op('f32x4.add').set('ex_n');
  f.get('ex_n').i32(23).op('i32x4.shl').set('ex_s'); // 2ⁿ
  f.get('ex_n').get('c_magic').op('f32x4.sub').set('ex_n'); // n as a float
  f.get('ex_x').get('ex_n').get('c_ln2hi').op('f32x4.mul').op('f32x4.sub');
  f.get('ex_n').get('c_ln2lo').op('f32x4.mul').op('f32x4.sub').set('ex_r');
  f.get('c_p0');
  for (let i = 1; i < POLY.length; i++) f.get('ex_r').op('f32x4.mul').get(`c_p${i}`).op('f32x4.add');
  f.get('ex_s').op('f32x4.mul');
  // Lanes below the cut-off held garbage exponents: zero them (a NaN compares false and stays).
  f.get('ex_x').get('c_low').op('f32x4.lt').op('v128.andnot');
}

