/**
 * A SIMD natural logarithm for the run-time assembled WebAssembly kernels
 * (the dense CRF's unary −log p): four float32 lanes at a time, for positive
 * normal floats, absolute error about 1e-7 for |log x| ≤ 1 and relative error
 * about 1e-7 beyond (float32 rounding; the series is truncated at 2e-9).
 * @module
 * @internal
 */
import type { FunctionBuilder } from './assembler.js';
import { LN2_HI, LN2_LO } from './simd_exp.js';

// x = 2ᵉ·m with m in [√½, √2): subtracting the bits of √½ from the bits of x
// leaves e in the exponent field (an arithmetic shift reads it), and x's bits
// minus e·2²³ are m's. Then log m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤
// 0.1716, by its odd series up to s⁹/9, and log x = e·ln 2 + log m with
// ln 2 split in two (e·LN2_HI is exact) so large |e| loses no precision.
const SQRT_HALF_BITS = 0x3f3504f3;
/** 2/9, 2/7, 2/5, 2/3, 2: the series of 2·atanh(s)/s in s². */
const SERIES = [2 / 9, 2 / 7, 2 / 5, 2 / 3, 2];

/** Loads the log constants into v128 locals (once per function, outside the loops). */
export function logConstants(f: FunctionBuilder): void {
  f.local('lc_sqrt_half', 'v128').i32x4(SQRT_HALF_BITS).set('lc_sqrt_half');
  f.local('lc_one', 'v128').f32x4(1).set('lc_one');
  f.local('lc_ln2hi', 'v128').f32x4(LN2_HI).set('lc_ln2hi');
  f.local('lc_ln2lo', 'v128').f32x4(LN2_LO).set('lc_ln2lo');
  SERIES.forEach((c, i) => f.local(`lc_s${i}`, 'v128').f32x4(c).set(`lc_s${i}`));
}

/** Natural log of the v128 on the stack (4 lanes of positive normal floats). */
export function emitLog(f: FunctionBuilder): void {
  for (const name of ['lg_x', 'lg_e', 'lg_s', 'lg_z']) f.local(name, 'v128');
  f.set('lg_x');
  f.get('lg_x').get('lc_sqrt_half').op('i32x4.sub').i32(23).op('i32x4.shr_s').set('lg_e');
  // s = (m − 1)/(m + 1) with m's bits = x's bits − e·2²³.
  f.get('lg_x').get('lg_e').i32(23).op('i32x4.shl').op('i32x4.sub').set('lg_x');
  f.get('lg_x').get('lc_one').op('f32x4.sub').get('lg_x').get('lc_one').op('f32x4.add').op('f32x4.div').set('lg_s');
  f.get('lg_s').get('lg_s').op('f32x4.mul').set('lg_z');
  f.get('lc_s0');
  for (let i = 1; i < SERIES.length; i++) f.get('lg_z').op('f32x4.mul').get(`lc_s${i}`).op('f32x4.add');
  f.get('lg_s').op('f32x4.mul'); // log m
  f.get('lg_e').op('f32x4.convert_i32x4_s').set('lg_e');
  f.get('lg_e').get('lc_ln2lo').op('f32x4.mul').op('f32x4.add');
  f.get('lg_e').get('lc_ln2hi').op('f32x4.mul').op('f32x4.add');
}
