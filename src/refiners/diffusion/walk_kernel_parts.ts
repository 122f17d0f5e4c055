/**
 * Emitters shared by the walk's kernel builders: 4-lane loads and stores
 * with a scalar variant for row tails, row bounds, transposed stores.
 * @module
 * @internal
 */
import type { FunctionBuilder } from '../../core/wasm/assembler.js';

/** Pushes 4 floats from `address` (or one float splatted, for row tails). */
export function load(f: FunctionBuilder, address: (f: FunctionBuilder) => void, scalar: boolean): void {
  address(f);
  if (scalar) f.loadF32().op('f32x4.splat');
  else f.loadV128();
}

/** Stores the v128 in `local` to `address` (only lane 0 for row tails). */
export function store(f: FunctionBuilder, address: (f: FunctionBuilder) => void, local: string, scalar: boolean): void {
  address(f);
  f.get(local);
  if (scalar) f.lane(0).storeF32();
  else f.storeV128();
}

/** Sets `row` = base + r·n·4 and the byte ends of the vector part and of the row. */
export function rowBounds(f: FunctionBuilder): void {
  f.get('n').i32(-4).op('i32.and').i32(2).op('i32.shl').set('vec_end');
  f.get('n').i32(2).op('i32.shl').set('end');
  f.get('r').get('n').op('i32.mul').i32(2).op('i32.shl').set('row_off');
}

/**
 * Stores `lanes` lanes of the v128 in `value` transposed: lane l goes to
 * `base + t + l·stride` (locals `t` and `stride` in bytes), so a row segment
 * of a `[rows, n]` tile becomes a column segment of its `[n, rows]` transpose.
 */
export function storeTransposed(f: FunctionBuilder, base: string, value: string, lanes: number): void {
  for (let lane = 0; lane < lanes; lane++) {
    f.get(base).get('t').op('i32.add');
    if (lane > 0) f.get('stride').i32(lane).op('i32.mul').op('i32.add');
    f.get(value).lane(lane).storeF32();
  }
}
