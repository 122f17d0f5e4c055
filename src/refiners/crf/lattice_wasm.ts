/**
 * The per-point geometry of the permutohedral lattice build (elevation,
 * nearest remainder-0 point, ranking, barycentric weights; steps 1–3 of
 * `permutohedral.ts`) as a WebAssembly kernel, unrolled for the feature
 * dimension d. It mirrors the TypeScript arithmetic operation by operation —
 * float32 where that code rounds to float32, float64 where it computes in
 * doubles — so it yields the same lattice bit for bit; the hash inserts stay
 * in TypeScript.
 *
 * Output per point k: the key of its simplex's vertex 0 (the remainder-0
 * point, d coordinates), `byRank` (the coordinate of each rank, d+1) and the
 * d+1 barycentric weights.
 * @module
 * @internal
 */
import { assembleModule, FunctionBuilder } from '../../core/wasm/assembler.js';
import type { PointSimplices } from './lattice_simplices.js';

const PAGE_BYTES = 65536;
/** Bytes before the arrays: the barycentric scratch (d + 2 floats, d ≤ 14). */
const SCRATCH_BYTES = 64;

/** Float32 constants of the elevation for dimension d (as the TypeScript path computes them). */
function elevationScales(d: number): Float32Array {
  const scale = new Float32Array(d);
  const invStdDev = Math.sqrt(2 / 3) * (d + 1);
  for (let i = 0; i < d; i++) scale[i] = (1 / Math.sqrt((i + 2) * (i + 1))) * invStdDev;
  return scale;
}

/**
 * `simplices(features, keys, byRank, weights, points)` for dimension d (byte
 * addresses; features `[N, d]` f32, keys `[N, d]` i32, byRank `[N, d+1]`
 * i32, weights `[N, d+1]` f32).
 */
function buildSimplices(d: number): FunctionBuilder {
  const d1 = d + 1;
  const f = new FunctionBuilder([['features', 'i32'], ['keys', 'i32'], ['by_rank', 'i32'], ['weights', 'i32'], ['points', 'i32']]);
  const all = Array.from({ length: d1 }, (_, i) => i);
  for (const name of ['k', 'sum', 'count', 'shift', 'at']) f.local(name, 'i32');
  for (const i of all) f.local(`rem${i}`, 'i32').local(`rank${i}`, 'i32').local(`e${i}`, 'f32').local(`res${i}`, 'f64');
  f.local('sm', 'f32').local('cf', 'f32').local('v', 'f32');
  const scale = elevationScales(d);
  const invD1 = Math.fround(1 / d1);
  // Barycentric value at scratch byte 4·index, read and written through float64 like a Float32Array's `+=`.
  const accumulate = (index: (f: FunctionBuilder) => void, op: 'f64.add' | 'f64.sub'): void => {
    index(f);
    f.i32(2).op('i32.shl').set('at');
    f.get('at').get('at').loadF32().op('f64.promote_f32').get('v').op('f64.promote_f32').op(op).op('f32.demote_f64').storeF32();
  };
  f.i32(0).set('k');
  f.loopWhile((f) => f.get('k').get('points').op('i32.lt_u'), (f) => {
    // Elevate: e_j = fround(sm − j·cf), sm = fround(sm + cf), from the last coordinate.
    f.f32(0).set('sm');
    for (let j = d; j > 0; j--) {
      f.get('features').loadF32((j - 1) * 4).f32(scale[j - 1]!).op('f32.mul').set('cf');
      f.get('sm').op('f64.promote_f32').f64(j).get('cf').op('f64.promote_f32').op('f64.mul').op('f64.sub').op('f32.demote_f64').set(`e${j}`);
      f.get('sm').op('f64.promote_f32').get('cf').op('f64.promote_f32').op('f64.add').op('f32.demote_f64').set('sm');
    }
    f.get('sm').set('e0');
    // Nearest remainder-0 point, ties to even.
    f.i32(0).set('sum');
    for (const i of all) {
      f.f32(invD1).get(`e${i}`).op('f32.mul').op('f32.nearest').op('i32.trunc_f32_s').tee(`rem${i}`);
      f.get('sum').op('i32.add').set('sum');
      f.get(`rem${i}`).i32(d1).op('i32.mul').set(`rem${i}`);
    }
    // Ranks of the residuals (ties to the lower index), then back onto the plane Σ = 0.
    for (const i of all) f.get(`e${i}`).op('f64.promote_f32').get(`rem${i}`).op('f64.convert_i32_s').op('f64.sub').set(`res${i}`);
    for (const i of all) {
      f.get('sum').set('count');
      for (const j of all) {
        if (j === i) continue;
        f.get('count').get(`res${j}`).get(`res${i}`).op(j < i ? 'f64.ge' : 'f64.gt').op('i32.add').set('count');
      }
      // shift = +d1 below 0, −d1 above d, else 0.
      f.i32(d1).i32(-d1).i32(0).get('count').i32(d).op('i32.gt_s').op('select').get('count').i32(0).op('i32.lt_s').op('select').set('shift');
      f.get('count').get('shift').op('i32.add').set(`rank${i}`);
      f.get(`rem${i}`).get('shift').op('i32.add').set(`rem${i}`);
      f.get('by_rank').get(`rank${i}`).i32(2).op('i32.shl').op('i32.add').i32(i).storeI32();
    }
    // Barycentric coordinates in the scratch (p. 10 of Adams et al.).
    for (let i = 0; i <= d + 1; i++) f.i32(4 * i).f32(0).storeF32();
    for (const i of all) {
      f.get(`e${i}`).op('f64.promote_f32').get(`rem${i}`).op('f64.convert_i32_s').op('f64.sub').f64(invD1).op('f64.mul').op('f32.demote_f64').set('v');
      accumulate((f) => void f.i32(d).get(`rank${i}`).op('i32.sub'), 'f64.add');
      accumulate((f) => void f.i32(d1).get(`rank${i}`).op('i32.sub'), 'f64.sub');
    }
    f.i32(0).i32(0).loadF32().op('f64.promote_f32').f64(1).i32(0).loadF32(4 * (d + 1)).op('f64.promote_f32').op('f64.add').op('f64.add').op('f32.demote_f64').storeF32();
    for (const i of all) f.get('weights').i32(0).loadF32(4 * i).storeF32(4 * i);
    for (let i = 0; i < d; i++) f.get('keys').get(`rem${i}`).storeI32(4 * i);
    f.get('features').i32(4 * d).op('i32.add').set('features');
    f.get('keys').i32(4 * d).op('i32.add').set('keys');
    f.get('by_rank').i32(4 * d1).op('i32.add').set('by_rank');
    f.get('weights').i32(4 * d1).op('i32.add').set('weights');
    f.get('k').i32(1).op('i32.add').set('k');
  });
  return f;
}

interface SimplexKernel {
  readonly simplices: (features: number, keys: number, byRank: number, weights: number, points: number) => void;
  readonly memory: WebAssembly.Memory;
}

const kernels = new Map<number, SimplexKernel | null>();

function simplexKernel(d: number): SimplexKernel | null {
  if (!kernels.has(d)) {
    let kernel: SimplexKernel | null = null;
    try {
      const bytes = assembleModule({ simplices: buildSimplices(d) });
      if (typeof WebAssembly === 'object' && WebAssembly.validate(bytes)) {
        const memory = new WebAssembly.Memory({ initial: 1 });
        const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
        kernel = { simplices: exports['simplices'] as SimplexKernel['simplices'], memory };
      }
    } catch {
      kernel = null; // no WebAssembly, or synchronous compilation refused
    }
    kernels.set(d, kernel);
  }
  return kernels.get(d)!;
}

/**
 * Whether the WebAssembly simplex kernel runs here for dimension d.
 * @param d - feature dimension
 */
export function latticeWasmAvailable(d: number): boolean {
  return d >= 1 && d <= 14 && simplexKernel(d) !== null;
}

/**
 * Every point's simplex in WebAssembly, or null when the kernel cannot run
 * (or its memory cannot grow). `keys` and `byRank` are views of the kernel's
 * memory, valid until its next call; `weights` is an owned copy.
 * @param features - `[N, d]` feature vectors, divided by their standard deviations
 * @param pointCount - N
 * @param d - feature dimension
 */
export function latticeSimplices(features: Float32Array, pointCount: number, d: number): PointSimplices | null {
  const kernel = d >= 1 && d <= 14 ? simplexKernel(d) : null;
  if (kernel === null) return null;
  const d1 = d + 1;
  const at = { features: SCRATCH_BYTES, keys: 0, byRank: 0, weights: 0, end: 0 };
  at.keys = at.features + 4 * pointCount * d;
  at.byRank = at.keys + 4 * pointCount * d;
  at.weights = at.byRank + 4 * pointCount * d1;
  at.end = at.weights + 4 * pointCount * d1;
  const missing = Math.ceil((at.end - kernel.memory.buffer.byteLength) / PAGE_BYTES);
  if (missing > 0) {
    try {
      kernel.memory.grow(missing);
    } catch {
      return null;
    }
  }
  const buffer = kernel.memory.buffer;
  new Float32Array(buffer, at.features, pointCount * d).set(features.subarray(0, pointCount * d));
  try {
    kernel.simplices(at.features, at.keys, at.byRank, at.weights, pointCount);
  } catch {
    return null; // a trap: a coordinate beyond the i32 range (absurd features); TypeScript copes
  }
  return {
    keys: new Int32Array(buffer, at.keys, pointCount * d),
    byRank: new Int32Array(buffer, at.byRank, pointCount * d1),
    weights: new Float32Array(buffer, at.weights, pointCount * d1).slice(),
  };
}
