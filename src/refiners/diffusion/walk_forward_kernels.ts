/**
 * Kernel builders for the walk's tiled forward (see `walk_forward_tiles.ts`):
 * an online softmax over square tiles of S that serves both mirrored tiles.
 * @module
 * @internal
 */
import { FunctionBuilder } from '../../core/wasm/assembler.js';
import { emitExp, expConstants } from '../../core/wasm/simd_exp.js';
import { load, store, storeColumns, storeTransposed, transpose4 } from './walk_kernel_parts.js';

/** Leaves exp of the f32 on the stack as an f32 (through lane 0 of the SIMD exp). */
function scalarExp(f: FunctionBuilder): void {
  f.op('f32x4.splat');
  emitExp(f);
  f.lane(0);
}

/**
 * Raises a running max to `value` (stack: the new candidate max, f32) at
 * `at + offset`: `m ← max(m, value)`, `alpha ← exp(m_old − m)` written to
 * `alphaAt`, and the running sum at `sumAt` scaled by alpha.
 */
function raiseMax(f: FunctionBuilder, mAt: (f: FunctionBuilder) => void, alphaAt: (f: FunctionBuilder) => void, sumAt: (f: FunctionBuilder) => void): void {
  f.set('cand');
  mAt(f);
  f.loadF32().set('old');
  f.get('old').get('cand').op('f32.max').set('nw');
  mAt(f);
  f.get('nw').storeF32();
  f.get('old').get('nw').op('f32.sub');
  scalarExp(f);
  f.set('alpha');
  alphaAt(f);
  f.get('alpha').storeF32();
  sumAt(f);
  sumAt(f);
  f.loadF32().get('alpha').op('f32.mul').storeF32();
}

/**
 * `tileExp(s, mRows, mCols, lRows, lCols, aRows, aCols, rows, n[, fT])`:
 * one tile `s` `[rows, n]` of S = ΨΨᵀ at rows I, columns J. Raises the
 * running row maxima `mRows` (and, mirrored, the column maxima `mCols`) to
 * the tile's, writes the factors `exp(m_old − m_new)` to `aRows` / `aCols`
 * and scales the running sums `lRows` / `lCols` by them; then in place
 * `s ← exp(s − mRows)` with its row sums added to `lRows`, and, mirrored,
 * `fT ← exp(s − mCols)ᵀ` `[n, rows]` (rows of P for the nodes of J) with
 * its sums added to `lCols`. `aCols` is scratch for the column maxima first.
 * @param mirrored - false for a diagonal tile (I = J: rows only)
 */
export function buildTileExp(mirrored: boolean): FunctionBuilder {
  const params: Array<[string, 'i32']> = [['s', 'i32'], ['m_rows', 'i32'], ['m_cols', 'i32'], ['l_rows', 'i32'], ['l_cols', 'i32'], ['a_rows', 'i32'], ['a_cols', 'i32'], ['rows', 'i32'], ['n', 'i32']];
  if (mirrored) params.push(['f_t', 'i32']);
  const f = new FunctionBuilder(params);
  for (const name of ['r', 'rr', 'j', 'vec_end', 'end', 'row_off', 't', 'stride', 'r4']) f.local(name, 'i32');
  for (const name of ['mx', 'sv', 'e', 'fv', 'acc', 'mr']) f.local(name, 'v128');
  for (const name of ['m', 'cand', 'old', 'nw', 'alpha', 'l']) f.local(name, 'f32');
  expConstants(f);
  const tileAt = (f: FunctionBuilder): void => void f.get('s').get('row_off').op('i32.add').get('j').op('i32.add');
  const colAt = (base: string) => (f: FunctionBuilder): void => void f.get(base).get('j').op('i32.add');
  const rowAt = (base: string) => (f: FunctionBuilder): void => void f.get(base).get('r4').op('i32.add');
  f.get('n').i32(-4).op('i32.and').i32(2).op('i32.shl').set('vec_end');
  f.get('n').i32(2).op('i32.shl').set('end');
  f.get('rows').i32(2).op('i32.shl').set('stride');

  // Pass 1: row maxima (and column maxima into the aCols scratch).
  if (mirrored) {
    f.i32(0).set('j');
    f.loopWhile((f) => f.get('j').get('end').op('i32.lt_u'), (f) => {
      colAt('a_cols')(f);
      f.f32(-Infinity).storeF32();
      f.get('j').i32(4).op('i32.add').set('j');
    });
  }
  f.i32(0).set('r');
  f.loopWhile((f) => f.get('r').get('rows').op('i32.lt_u'), (f) => {
    f.get('r').get('n').op('i32.mul').i32(2).op('i32.shl').set('row_off');
    f.get('r').i32(2).op('i32.shl').set('r4');
    f.f32x4(-Infinity).set('mx');
    f.i32(0).set('j');
    f.loopWhile((f) => f.get('j').get('vec_end').op('i32.lt_u'), (f) => {
      tileAt(f);
      f.loadV128().set('sv');
      f.get('mx').get('sv').op('f32x4.pmax').set('mx');
      if (mirrored) {
        colAt('a_cols')(f);
        colAt('a_cols')(f);
        f.loadV128().get('sv').op('f32x4.pmax').storeV128();
      }
      f.get('j').i32(16).op('i32.add').set('j');
    });
    f.reduceLanes('mx', 'f32.max');
    f.set('m');
    f.loopWhile((f) => f.get('j').get('end').op('i32.lt_u'), (f) => {
      tileAt(f);
      f.loadF32().set('cand');
      f.get('m').get('cand').op('f32.max').set('m');
      if (mirrored) {
        colAt('a_cols')(f);
        colAt('a_cols')(f);
        f.loadF32().get('cand').op('f32.max').storeF32();
      }
      f.get('j').i32(4).op('i32.add').set('j');
    });
    f.get('m');
    raiseMax(f, rowAt('m_rows'), rowAt('a_rows'), rowAt('l_rows'));
    f.get('r').i32(1).op('i32.add').set('r');
  });
  if (mirrored) {
    f.i32(0).set('j');
    f.loopWhile((f) => f.get('j').get('end').op('i32.lt_u'), (f) => {
      colAt('a_cols')(f);
      f.loadF32();
      raiseMax(f, colAt('m_cols'), colAt('a_cols'), colAt('l_cols'));
      f.get('j').i32(4).op('i32.add').set('j');
    });
  }

  // Pass 2: the exps, their sums, and the transposed column side.
  // One row `rr` from column byte j on, one lane per transposed store.
  const rowRest = (): void => {
    f.get('rr').get('n').op('i32.mul').i32(2).op('i32.shl').set('row_off');
    f.get('rr').i32(2).op('i32.shl').set('r4');
    rowAt('m_rows')(f);
    f.loadF32().op('f32x4.splat').set('mr');
    f.f32x4(0).set('acc');
    f.f32(0).set('l');
    for (const scalar of [false, true]) {
      f.loopWhile((f) => f.get('j').get(scalar ? 'end' : 'vec_end').op('i32.lt_u'), (f) => {
        load(f, tileAt, scalar);
        f.set('sv');
        f.get('sv').get('mr').op('f32x4.sub');
        emitExp(f);
        f.set('e');
        store(f, tileAt, 'e', scalar);
        f.get('acc').get('e').op('f32x4.add').set('acc');
        if (mirrored) {
          f.get('sv');
          load(f, colAt('m_cols'), scalar);
          f.op('f32x4.sub');
          emitExp(f);
          f.set('fv');
          load(f, colAt('l_cols'), scalar);
          f.get('fv').op('f32x4.add').set('e');
          store(f, colAt('l_cols'), 'e', scalar);
          // t = (j/4)·rows·4 + rr·4 bytes: column j/4, row rr of fT.
          f.get('j').get('rows').op('i32.mul').get('r4').op('i32.add').set('t');
          storeTransposed(f, 'f_t', 'fv', scalar ? 1 : 4);
        }
        f.get('j').i32(scalar ? 4 : 16).op('i32.add').set('j');
      });
      if (!scalar) {
        // Fold the vector sum; row tails then add into lane 0 only.
        f.reduceLanes('acc', 'f32.add');
        f.set('l');
        f.f32x4(0).set('acc');
      }
    }
    rowAt('l_rows')(f);
    rowAt('l_rows')(f);
    f.loadF32().get('l').op('f32.add').get('acc').lane(0).op('f32.add').storeF32();
  };
  f.i32(0).set('r');
  if (mirrored) {
    // Four rows at a time: their 4×4 blocks of F are transposed in registers
    // and stored as whole vectors, and l_cols is updated once per block.
    const quad = [0, 1, 2, 3];
    f.local('quads', 'i32').local('mc', 'v128');
    for (const q of quad) f.local(`ro${q}`, 'i32').local(`mr${q}`, 'v128').local(`acc${q}`, 'v128').local(`f${q}`, 'v128').local(`ft${q}`, 'v128');
    f.get('rows').i32(-4).op('i32.and').set('quads');
    f.loopWhile((f) => f.get('r').get('quads').op('i32.lt_u'), (f) => {
      for (const q of quad) {
        f.get('r').i32(q).op('i32.add').get('n').op('i32.mul').i32(2).op('i32.shl').set(`ro${q}`);
        f.get('m_rows').get('r').i32(q).op('i32.add').i32(2).op('i32.shl').op('i32.add').loadF32().op('f32x4.splat').set(`mr${q}`);
        f.f32x4(0).set(`acc${q}`);
      }
      f.i32(0).set('j');
      f.loopWhile((f) => f.get('j').get('vec_end').op('i32.lt_u'), (f) => {
        colAt('m_cols')(f);
        f.loadV128().set('mc');
        for (const q of quad) {
          const at = (f: FunctionBuilder): void => void f.get('s').get(`ro${q}`).op('i32.add').get('j').op('i32.add');
          at(f);
          f.loadV128().set('sv');
          f.get('sv').get(`mr${q}`).op('f32x4.sub');
          emitExp(f);
          f.set('e');
          at(f);
          f.get('e').storeV128();
          f.get(`acc${q}`).get('e').op('f32x4.add').set(`acc${q}`);
          f.get('sv').get('mc').op('f32x4.sub');
          emitExp(f);
          f.set(`f${q}`);
        }
        colAt('l_cols')(f);
        colAt('l_cols')(f);
        f.loadV128();
        for (const q of quad) f.get(`f${q}`).op('f32x4.add');
        f.storeV128();
        f.get('j').get('rows').op('i32.mul').get('r').i32(2).op('i32.shl').op('i32.add').set('t');
        transpose4(f, quad.map((q) => `f${q}`), quad.map((q) => `ft${q}`));
        storeColumns(f, 'f_t', quad.map((q) => `ft${q}`));
        f.get('j').i32(16).op('i32.add').set('j');
      });
      for (const q of quad) {
        f.get('l_rows').get('r').i32(q).op('i32.add').i32(2).op('i32.shl').op('i32.add');
        f.get('l_rows').get('r').i32(q).op('i32.add').i32(2).op('i32.shl').op('i32.add').loadF32();
        f.reduceLanes(`acc${q}`, 'f32.add');
        f.op('f32.add').storeF32();
      }
      // The quad's column tails, row by row.
      for (const q of quad) {
        f.get('r').i32(q).op('i32.add').set('rr');
        f.get('vec_end').set('j');
        rowRest();
      }
      f.get('r').i32(4).op('i32.add').set('r');
    });
  }
  // The remaining rows (all of them on a diagonal tile), whole.
  f.loopWhile((f) => f.get('r').get('rows').op('i32.lt_u'), (f) => {
    f.get('r').set('rr');
    f.i32(0).set('j');
    rowRest();
    f.get('r').i32(1).op('i32.add').set('r');
  });
  return f;
}

/**
 * `scaleAdd(u, alpha, prod, rows, k)`: `u[r] ← alpha[r]·u[r] + prod[r]` for
 * `[rows, k]` row-major u and prod (the running `Σ exp·y` of the online
 * softmax, rescaled when the row maximum rose).
 */
export function buildScaleAdd(): FunctionBuilder {
  const f = new FunctionBuilder([['u', 'i32'], ['alpha', 'i32'], ['prod', 'i32'], ['rows', 'i32'], ['k', 'i32']]);
  for (const name of ['r', 'c', 'row_end']) f.local(name, 'i32');
  f.local('a', 'f32');
  f.i32(0).set('r');
  f.i32(0).set('c');
  f.loopWhile((f) => f.get('r').get('rows').op('i32.lt_u'), (f) => {
    f.get('alpha').get('r').i32(2).op('i32.shl').op('i32.add').loadF32().set('a');
    f.get('c').get('k').i32(2).op('i32.shl').op('i32.add').set('row_end');
    f.loopWhile((f) => f.get('c').get('row_end').op('i32.lt_u'), (f) => {
      f.get('u').get('c').op('i32.add');
      f.get('u').get('c').op('i32.add').loadF32().get('a').op('f32.mul');
      f.get('prod').get('c').op('i32.add').loadF32().op('f32.add');
      f.storeF32();
      f.get('c').i32(4).op('i32.add').set('c');
    });
    f.get('r').i32(1).op('i32.add').set('r');
  });
  return f;
}
