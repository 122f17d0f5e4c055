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
import { load, rowBounds, store, storeTransposed } from './walk_kernel_parts.js';

/**
 * `rowExp(s, rows, n, stats)`: for each row of `s` [rows, n], in place
 * `s ← exp(s − max_j s)`, and `stats[r] = (max, Σ exp)`.
 */
function buildRowExp(): FunctionBuilder {
  const f = new FunctionBuilder([['s', 'i32'], ['rows', 'i32'], ['n', 'i32'], ['stats', 'i32']]);
  for (const name of ['r', 'j', 'vec_end', 'end', 'row_off', 'p']) f.local(name, 'i32');
  for (const name of ['mx0', 'mx1', 'shift', 'e', 'sum']) f.local(name, 'v128');
  f.local('m', 'f32').local('l', 'f32');
  expConstants(f);
  const at = (f: FunctionBuilder): void => void f.get('p');
  f.i32(0).set('r');
  f.loopWhile((f) => f.get('r').get('rows').op('i32.lt_u'), (f) => {
    rowBounds(f);
    f.get('s').get('row_off').op('i32.add').set('p');
    f.get('p').get('vec_end').op('i32.add').set('vec_end');
    f.get('p').get('end').op('i32.add').set('end');
    // Row max, with two accumulators (max has a 4-cycle latency).
    f.f32x4(-Infinity).set('mx0').f32x4(-Infinity).set('mx1');
    f.loopWhile((f) => f.get('p').i32(16).op('i32.add').get('vec_end').op('i32.lt_u'), (f) => {
      f.get('mx0').get('p').loadV128().op('f32x4.pmax').set('mx0');
      f.get('mx1').get('p').loadV128(16).op('f32x4.pmax').set('mx1');
      f.get('p').i32(32).op('i32.add').set('p');
    });
    f.loopWhile((f) => f.get('p').get('vec_end').op('i32.lt_u'), (f) => {
      f.get('mx0').get('p').loadV128().op('f32x4.pmax').set('mx0');
      f.get('p').i32(16).op('i32.add').set('p');
    });
    f.get('mx0').get('mx1').op('f32x4.pmax').set('mx0');
    f.get('mx0').lane(0).get('mx0').lane(1).op('f32.max').get('mx0').lane(2).op('f32.max').get('mx0').lane(3).op('f32.max').set('m');
    f.loopWhile((f) => f.get('p').get('end').op('i32.lt_u'), (f) => {
      f.get('m').get('p').loadF32().op('f32.max').set('m');
      f.get('p').i32(4).op('i32.add').set('p');
    });
    // exp(s − max) in place, summed.
    f.get('m').op('f32x4.splat').set('shift');
    f.f32x4(0).set('sum');
    f.get('s').get('row_off').op('i32.add').set('p');
    for (const scalar of [false, true]) {
      f.loopWhile((f) => f.get('p').get(scalar ? 'end' : 'vec_end').op('i32.lt_u'), (f) => {
        load(f, at, scalar);
        f.get('shift').op('f32x4.sub');
        emitExp(f);
        f.set('e');
        store(f, at, 'e', scalar);
        f.get('sum').get('e').op('f32x4.add').set('sum');
        f.get('p').i32(scalar ? 4 : 16).op('i32.add').set('p');
      });
      if (!scalar) {
        // Fold the vector sum to a scalar; row tails then add into lane 0 only.
        f.get('sum').lane(0).get('sum').lane(1).op('f32.add').get('sum').lane(2).op('f32.add').get('sum').lane(3).op('f32.add').set('l');
        f.f32x4(0).set('sum');
      }
    }
    f.get('l').get('sum').lane(0).op('f32.add').set('l');
    f.get('stats').get('r').i32(3).op('i32.shl').op('i32.add').get('m').storeF32();
    f.get('stats').get('r').i32(3).op('i32.shl').op('i32.add').get('l').storeF32(4);
    f.get('r').i32(1).op('i32.add').set('r');
  });
  return f;
}

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
  for (const name of ['r', 'j', 'vec_end', 'end', 'row_off', 't', 'stride']) f.local(name, 'i32');
  for (const name of ['row_lse', 'sv', 'pv', 'qv', 'out']) f.local(name, 'v128');
  expConstants(f);
  const at = (base: string) => (f: FunctionBuilder): void => void f.get(base).get('row_off').op('i32.add').get('j').op('i32.add');
  f.get('rows').i32(2).op('i32.shl').set('stride');
  f.i32(0).set('r');
  f.loopWhile((f) => f.get('r').get('rows').op('i32.lt_u'), (f) => {
    rowBounds(f);
    f.get('lse_rows').get('r').i32(2).op('i32.shl').op('i32.add').loadF32().op('f32x4.splat').set('row_lse');
    f.i32(0).set('j');
    for (const scalar of [false, true]) {
      f.loopWhile((f) => f.get('j').get(scalar ? 'end' : 'vec_end').op('i32.lt_u'), (f) => {
        load(f, at('s'), scalar);
        f.set('sv');
        f.get('sv').get('row_lse').op('f32x4.sub');
        emitExp(f);
        f.set('pv');
        f.get('sv');
        load(f, (f) => void f.get('lse_cols').get('j').op('i32.add'), scalar);
        f.op('f32x4.sub');
        emitExp(f);
        f.set('qv');
        f.get('pv');
        load(f, at('a'), scalar);
        f.op('f32x4.mul').get('qv');
        load(f, at('c'), scalar);
        f.op('f32x4.mul').op('f32x4.add').set('out');
        store(f, at('a'), 'out', scalar);
        store(f, at('s'), 'qv', scalar);
        if (transposed) {
          // t = (j/4)·rows·4 + r·4 bytes: column j/4, row r.
          f.get('j').get('rows').op('i32.mul').get('r').i32(2).op('i32.shl').op('i32.add').set('t');
          storeTransposed(f, 'comb_t', 'out', scalar ? 1 : 4);
          storeTransposed(f, 'p_t', 'pv', scalar ? 1 : 4);
        }
        f.get('j').i32(scalar ? 4 : 16).op('i32.add').set('j');
      });
    }
    f.get('r').i32(1).op('i32.add').set('r');
  });
  return f;
}

/** The assembled module's exports. */
interface KernelExports {
  rowExp(s: number, rows: number, n: number, stats: number): void;
  combine(s: number, a: number, c: number, lseRows: number, lseCols: number, rows: number, n: number): void;
  combineTransposed(s: number, a: number, c: number, lseRows: number, lseCols: number, rows: number, n: number, combT: number, pT: number): void;
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
   * In place `s ← exp(s − rowmax)`; returns `[rows, 2]` (row max, row sum).
   * `s` must be a private, freshly computed 2-D float32 tensor.
   */
  rowExp(s: tf.Tensor2D): tf.Tensor2D;
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
}

const cache = new WeakMap<object, WalkKernels | null>();
let moduleBytes: Uint8Array<ArrayBuffer> | undefined;

/** The kernel module's bytes (assembled once). */
export function walkKernelModule(): Uint8Array<ArrayBuffer> {
  moduleBytes ??= assembleModule({ rowExp: buildRowExp(), combine: buildCombine(false), combineTransposed: buildCombine(true) });
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
    rowExp(s) {
      const [rows, n] = s.shape;
      const info = backend.makeOutput([rows, 2], 'float32');
      const stats = tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor2D;
      exports.rowExp(pointer(s), rows, n, pointer(stats));
      return stats;
    },
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
  };
}
