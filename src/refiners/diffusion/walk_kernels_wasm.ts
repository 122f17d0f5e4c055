/**
 * Fused SIMD kernels for the blocked random walk on the wasm backend. They
 * run in a small WebAssembly module (built by {@link assembleModule}) that
 * imports tfjs-wasm's own memory, so they read and write tensors in place,
 * with no copies: tfjs-wasm's elementwise `exp` is scalar (≈ 10 ns/element
 * measured), while these kernels evaluate exp with a SIMD polynomial.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { assembleModule, FunctionBuilder } from '../../core/wasm/assembler.js';
import { emitExp, expConstants } from '../../core/wasm/simd_exp.js';
import { buildScaleAdd, buildTileExp } from './walk_forward_kernels.js';
import { load, store, storeColumns, storeTransposed, transpose4 } from './walk_kernel_parts.js';

/**
 * `combine(s, a, c, lseRows, lseCols, rows, n)`: the backward tile. With
 * `P = exp(s − lseRows[r])` (rows of P) and `Q = exp(s − lseCols[j])` (the
 * same entries of Pᵀ, as S is symmetric), in place `a ← P∘a + Q∘c` and
 * `s ← Q`. `combineTransposed(…, combT, pT)` also writes `(P∘a + Q∘c)ᵀ` and
 * `Pᵀ` `[n, rows]`, the operands of the mirrored tile's products.
 */
function buildCombine(transposed: boolean): FunctionBuilder {
  const params: Array<[string, 'i32']> = [['s', 'i32'], ['a', 'i32'], ['c', 'i32'], ['lse_rows', 'i32'], ['lse_cols', 'i32'], ['rows', 'i32'], ['n', 'i32']];
  if (transposed) params.push(['comb_t', 'i32'], ['p_t', 'i32']);
  const f = new FunctionBuilder(params);
  for (const name of ['r', 'rr', 'j', 'vec_end', 'end', 'row_off', 't', 'stride', 'row_bytes', 'quads']) f.local(name, 'i32');
  for (const name of ['row_lse', 'sv', 'pv', 'qv', 'out', 'lc']) f.local(name, 'v128');
  expConstants(f);
  f.get('n').i32(-4).op('i32.and').i32(2).op('i32.shl').set('vec_end');
  f.get('n').i32(2).op('i32.shl').set('end');
  f.get('n').i32(2).op('i32.shl').set('row_bytes');
  f.get('rows').i32(2).op('i32.shl').set('stride');
  const at = (base: string, rowOff = 'row_off') => (f: FunctionBuilder): void => void f.get(base).get(rowOff).op('i32.add').get('j').op('i32.add');
  // P, Q and G for 4 entries (or one, splatted) of row `rowOff` at column byte j; leaves G in `out`, P in `pv`.
  const entry = (scalar: boolean, rowOff: string, rowLse: string, pv: string, out: string): void => {
    load(f, at('s', rowOff), scalar);
    f.set('sv');
    f.get('sv').get(rowLse).op('f32x4.sub');
    emitExp(f);
    f.set(pv);
    f.get('sv');
    load(f, (f) => void f.get('lse_cols').get('j').op('i32.add'), scalar);
    f.op('f32x4.sub');
    emitExp(f);
    f.set('qv');
    f.get(pv);
    load(f, at('a', rowOff), scalar);
    f.op('f32x4.mul').get('qv');
    load(f, at('c', rowOff), scalar);
    f.op('f32x4.mul').op('f32x4.add').set(out);
    store(f, at('a', rowOff), out, scalar);
    store(f, at('s', rowOff), 'qv', scalar);
  };
  // Row rr from column byte j on, one lane per transposed store.
  const rowRest = (): void => {
    f.get('lse_rows').get('rr').i32(2).op('i32.shl').op('i32.add').loadF32().op('f32x4.splat').set('row_lse');
    for (const scalar of [false, true]) {
      f.loopWhile((f) => f.get('j').get(scalar ? 'end' : 'vec_end').op('i32.lt_u'), (f) => {
        entry(scalar, 'row_off', 'row_lse', 'pv', 'out');
        if (transposed) {
          // t = (j/4)·rows·4 + rr·4 bytes: column j/4, row rr.
          f.get('j').get('rows').op('i32.mul').get('rr').i32(2).op('i32.shl').op('i32.add').set('t');
          storeTransposed(f, 'comb_t', 'out', scalar ? 1 : 4);
          storeTransposed(f, 'p_t', 'pv', scalar ? 1 : 4);
        }
        f.get('j').i32(scalar ? 4 : 16).op('i32.add').set('j');
      });
    }
  };
  f.i32(0).set('r');
  if (transposed) {
    // Four rows at a time: their 4×4 blocks of G and P are transposed in
    // registers and stored as whole vectors (lane-wise stores cost more
    // than the two exps).
    const quad = [0, 1, 2, 3];
    for (const q of quad) f.local(`ro${q}`, 'i32').local(`rl${q}`, 'v128').local(`g${q}`, 'v128').local(`p${q}`, 'v128').local(`gt${q}`, 'v128').local(`pt${q}`, 'v128');
    f.get('rows').i32(-4).op('i32.and').set('quads');
    f.loopWhile((f) => f.get('r').get('quads').op('i32.lt_u'), (f) => {
      for (const q of quad) {
        f.get('r').i32(q).op('i32.add').get('row_bytes').op('i32.mul').set(`ro${q}`);
        f.get('lse_rows').get('r').i32(q).op('i32.add').i32(2).op('i32.shl').op('i32.add').loadF32().op('f32x4.splat').set(`rl${q}`);
      }
      f.i32(0).set('j');
      f.loopWhile((f) => f.get('j').get('vec_end').op('i32.lt_u'), (f) => {
        for (const q of quad) entry(false, `ro${q}`, `rl${q}`, `p${q}`, `g${q}`);
        f.get('j').get('rows').op('i32.mul').get('r').i32(2).op('i32.shl').op('i32.add').set('t');
        transpose4(f, quad.map((q) => `g${q}`), quad.map((q) => `gt${q}`));
        storeColumns(f, 'comb_t', quad.map((q) => `gt${q}`));
        transpose4(f, quad.map((q) => `p${q}`), quad.map((q) => `pt${q}`));
        storeColumns(f, 'p_t', quad.map((q) => `pt${q}`));
        f.get('j').i32(16).op('i32.add').set('j');
      });
      // The quad's column tails, row by row.
      for (const q of quad) {
        f.get('r').i32(q).op('i32.add').set('rr');
        f.get(`ro${q}`).set('row_off');
        f.get('vec_end').set('j');
        rowRest();
      }
      f.get('r').i32(4).op('i32.add').set('r');
    });
  }
  // The remaining rows (all of them without transposes), whole.
  f.loopWhile((f) => f.get('r').get('rows').op('i32.lt_u'), (f) => {
    f.get('r').set('rr');
    f.get('r').get('row_bytes').op('i32.mul').set('row_off');
    f.i32(0).set('j');
    rowRest();
    f.get('r').i32(1).op('i32.add').set('r');
  });
  return f;
}

/** The assembled module's exports. */
interface KernelExports {
  combine(s: number, a: number, c: number, lseRows: number, lseCols: number, rows: number, n: number): void;
  combineTransposed(s: number, a: number, c: number, lseRows: number, lseCols: number, rows: number, n: number, combT: number, pT: number): void;
  tileExp(s: number, mRows: number, mCols: number, lRows: number, lCols: number, aRows: number, aCols: number, rows: number, n: number): void;
  tileExpMirrored(s: number, mRows: number, mCols: number, lRows: number, lCols: number, aRows: number, aCols: number, rows: number, n: number, fT: number): void;
  scaleAdd(u: number, alpha: number, prod: number, rows: number, k: number): void;
}

/**
 * The running state of the tiled forward's online softmax, per node (all
 * `[N]` or `[N, K]`, owned by the forward and updated in place).
 */
export interface OnlineSoftmaxState {
  /** Running `Σ_j exp(S_ij − m_i)·y_j` `[N, K]`. */
  u: tf.Tensor2D;
  /** Running row maximum m_i `[N]` (−∞ before the first tile). */
  m: tf.Tensor1D;
  /** Running `Σ_j exp(S_ij − m_i)` `[N]`. */
  l: tf.Tensor1D;
  /** The last tile's rescaling factors `exp(m_old − m_new)` `[N]`. */
  alpha: tf.Tensor1D;
}

/** The part of tfjs-wasm's backend the kernels use. */
interface WasmBackendLike {
  wasm?: { asm?: { memory?: unknown } };
  getMemoryOffset?(dataId: object): number;
  makeOutput?(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

/** Fused kernels bound to one tfjs-wasm backend instance. */
export interface WalkKernels {
  /**
   * The backward tile `[rows, cols]` at rows `rowStart…`, columns
   * `colStart…` of S: in place `a ← P∘a + Q∘c`, `s ← Q` (see
   * `buildCombine`); `lse` is the log-sum-exp of every row `[N]`.
   */
  combine(s: tf.Tensor2D, a: tf.Tensor2D, c: tf.Tensor2D, lse: tf.Tensor1D, rowStart: number, colStart: number): void;
  /**
   * {@link WalkKernels.combine}, and returns `[(P∘a + Q∘c)ᵀ, Pᵀ]`
   * (`[cols, rows]` each) for the mirrored tile.
   */
  combineTransposed(s: tf.Tensor2D, a: tf.Tensor2D, c: tf.Tensor2D, lse: tf.Tensor1D, rowStart: number, colStart: number): [tf.Tensor2D, tf.Tensor2D];
  /** A fresh {@link OnlineSoftmaxState} for N nodes and K classes. */
  onlineState(n: number, k: number): OnlineSoftmaxState;
  /**
   * Folds the tile `s` (rows `rowStart…`, columns `colStart…` of S) into
   * the running maxima and sums (see `buildTileExp`): in place
   * `s ← exp(s − m_rows)`; off the diagonal (`rowStart ≠ colStart`) also
   * returns `exp(s − m_cols)ᵀ` `[cols, rows]`, the mirrored tile's rows of P.
   */
  tileExp(s: tf.Tensor2D, state: OnlineSoftmaxState, rowStart: number, colStart: number): tf.Tensor2D | undefined;
  /** `u[rows] ← alpha[rows]·u[rows] + prod` for the rows `rowStart…` of `prod` `[rows, K]`. */
  scaleAdd(state: OnlineSoftmaxState, rowStart: number, prod: tf.Tensor2D): void;
}

const cache = new WeakMap<object, WalkKernels | null>();
let moduleBytes: Uint8Array<ArrayBuffer> | undefined;

/** The kernel module's bytes (assembled once). */
function walkKernelModule(): Uint8Array<ArrayBuffer> {
  moduleBytes ??= assembleModule({
    combine: buildCombine(false),
    combineTransposed: buildCombine(true),
    tileExp: buildTileExp(false),
    tileExpMirrored: buildTileExp(true),
    scaleAdd: buildScaleAdd(),
  });
  return moduleBytes;
}

/**
 * The fused kernels for the active backend, or null when it is not tfjs-wasm
 * with an accessible, non-shared memory (other backends use tfjs ops).
 */
export function walkKernels(): WalkKernels | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as WasmBackendLike;
  if (cache.has(backend)) return cache.get(backend)!;
  let kernels: WalkKernels | null = null;
  try {
    const memory = backend.wasm?.asm?.memory;
    if (memory instanceof WebAssembly.Memory && typeof backend.getMemoryOffset === 'function' && typeof backend.makeOutput === 'function') {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(walkKernelModule()), { env: { memory } });
      kernels = bindKernels(instance.exports as unknown as KernelExports, backend as Required<WasmBackendLike>);
    }
  } catch {
    kernels = null; // no SIMD, or a shared (threaded) memory: fall back to tfjs ops
  }
  cache.set(backend, kernels);
  return kernels;
}

/** The tile's `[rows, cols]`, after checking that the operands agree and `lse` covers it. */
function checkTile(s: tf.Tensor2D, a: tf.Tensor2D, c: tf.Tensor2D, lse: tf.Tensor1D, rowStart: number, colStart: number): [number, number] {
  const [rows, cols] = s.shape;
  if (a.shape.some((size, i) => size !== s.shape[i]) || c.shape.some((size, i) => size !== s.shape[i])) throw new Error('walk kernel: s, a and c must have one shape');
  if (rowStart < 0 || colStart < 0 || rowStart + rows > lse.size || colStart + cols > lse.size) throw new Error('walk kernel: lse must hold every row of the tile');
  return [rows, cols];
}

function bindKernels(exports: KernelExports, backend: Required<WasmBackendLike>): WalkKernels {
  const pointer = (t: tf.Tensor): number => {
    if (t.dtype !== 'float32') throw new Error(`walk kernel: expected float32, got ${t.dtype}`);
    return backend.getMemoryOffset(t.dataId);
  };
  return {
    combine(s, a, c, lse, rowStart, colStart) {
      const [rows, cols] = checkTile(s, a, c, lse, rowStart, colStart);
      const lsePointer = pointer(lse);
      exports.combine(pointer(s), pointer(a), pointer(c), lsePointer + 4 * rowStart, lsePointer + 4 * colStart, rows, cols);
    },
    combineTransposed(s, a, c, lse, rowStart, colStart) {
      const [rows, cols] = checkTile(s, a, c, lse, rowStart, colStart);
      const outputs = [0, 1].map(() => tf.engine().makeTensorFromTensorInfo(backend.makeOutput([cols, rows], 'float32')) as tf.Tensor2D) as [tf.Tensor2D, tf.Tensor2D];
      const lsePointer = pointer(lse);
      exports.combineTransposed(pointer(s), pointer(a), pointer(c), lsePointer + 4 * rowStart, lsePointer + 4 * colStart, rows, cols, pointer(outputs[0]), pointer(outputs[1]));
      return outputs;
    },
    onlineState(n, k) {
      // Fresh buffers (tfjs-wasm's Fill writes a new one) that only the forward holds, so updating them in place is safe.
      return {
        u: tf.zeros([n, k]) as tf.Tensor2D,
        m: tf.fill([n], -Infinity) as tf.Tensor1D,
        l: tf.zeros([n]) as tf.Tensor1D,
        alpha: tf.zeros([n]) as tf.Tensor1D,
      };
    },
    tileExp(s, state, rowStart, colStart) {
      const [rows, cols] = s.shape;
      const n = state.m.size;
      if (rowStart < 0 || colStart < 0 || rowStart + rows > n || colStart + cols > n) throw new Error('walk kernel: the tile must lie inside the state');
      const at = (t: tf.Tensor, start: number): number => pointer(t) + 4 * start;
      const args = [pointer(s), at(state.m, rowStart), at(state.m, colStart), at(state.l, rowStart), at(state.l, colStart), at(state.alpha, rowStart), at(state.alpha, colStart), rows, cols] as const;
      if (rowStart === colStart) {
        if (rows !== cols) throw new Error('walk kernel: a diagonal tile must be square');
        exports.tileExp(...args);
        return undefined;
      }
      if (rowStart < colStart + cols && colStart < rowStart + rows) throw new Error('walk kernel: an off-diagonal tile must not overlap the diagonal');
      const mirrored = tf.engine().makeTensorFromTensorInfo(backend.makeOutput([cols, rows], 'float32')) as tf.Tensor2D;
      exports.tileExpMirrored(...args, pointer(mirrored));
      return mirrored;
    },
    scaleAdd(state, rowStart, prod) {
      const [rows, k] = prod.shape;
      if (state.u.shape[1] !== k || rowStart < 0 || rowStart + rows > state.u.shape[0]) throw new Error('walk kernel: prod must fit the state');
      exports.scaleAdd(pointer(state.u) + 4 * rowStart * k, pointer(state.alpha) + 4 * rowStart, pointer(prod), rows, k);
    },
  };
}
