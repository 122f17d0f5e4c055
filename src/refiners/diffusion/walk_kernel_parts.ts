/**
 * Emitters shared by the walk's kernel builders: 4-lane loads and stores
 * with a scalar variant for row tails, transposed stores, 4×4 transposes.
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

/** f32 lanes `[x_i, y_i, x_j, y_j]`-style shuffles, as byte indices. */
const lanes = (picks: number[]): number[] => picks.flatMap((lane) => [0, 1, 2, 3].map((b) => lane * 4 + b));
const UNPACK_LOW = lanes([0, 4, 1, 5]);
const UNPACK_HIGH = lanes([2, 6, 3, 7]);
const LOW_HALVES = lanes([0, 1, 4, 5]);
const HIGH_HALVES = lanes([2, 3, 6, 7]);

/**
 * Transposes four v128 locals (rows of a 4×4 block) into four others
 * (its columns) with eight shuffles; declares the `tr0…tr3` scratch locals.
 */
export function transpose4(f: FunctionBuilder, rows: readonly string[], columns: readonly string[]): void {
  for (const name of ['tr0', 'tr1', 'tr2', 'tr3']) f.local(name, 'v128');
  f.get(rows[0]!).get(rows[1]!).shuffle(UNPACK_LOW).set('tr0'); // a0 b0 a1 b1
  f.get(rows[0]!).get(rows[1]!).shuffle(UNPACK_HIGH).set('tr1'); // a2 b2 a3 b3
  f.get(rows[2]!).get(rows[3]!).shuffle(UNPACK_LOW).set('tr2'); // c0 d0 c1 d1
  f.get(rows[2]!).get(rows[3]!).shuffle(UNPACK_HIGH).set('tr3'); // c2 d2 c3 d3
  f.get('tr0').get('tr2').shuffle(LOW_HALVES).set(columns[0]!);
  f.get('tr0').get('tr2').shuffle(HIGH_HALVES).set(columns[1]!);
  f.get('tr1').get('tr3').shuffle(LOW_HALVES).set(columns[2]!);
  f.get('tr1').get('tr3').shuffle(HIGH_HALVES).set(columns[3]!);
}

/**
 * Stores four column vectors of a transposed 4×4 block: column l at
 * `base + t + l·stride` (locals `t`, `stride` in bytes).
 */
export function storeColumns(f: FunctionBuilder, base: string, columns: readonly string[]): void {
  columns.forEach((column, l) => {
    f.get(base).get('t').op('i32.add');
    if (l > 0) f.get('stride').i32(l).op('i32.mul').op('i32.add');
    f.get(column).storeV128();
  });
}
