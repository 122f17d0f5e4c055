/**
 * The permutohedral lattice build (`permutohedral.ts`, steps 1–3, and the
 * neighbour look-ups of the blur chains) as a WebAssembly kernel, unrolled
 * for the feature dimension d.
 *
 * - `build`: per point, the simplex (elevation, nearest remainder-0 point,
 *   ranking, barycentric weights) mirroring the TypeScript arithmetic
 *   operation by operation — float32 where that code rounds to float32,
 *   float64 where it computes in doubles — then the d+1 vertex keys inserted
 *   into an open-addressing hash table (linear probing, murmur-mixed linear
 *   hash), vertices numbered in insertion order. The table doubles when half
 *   full.
 * - `neighbours`: for every vertex, the index of its neighbour along one
 *   lattice direction (key + (d+1)·e_j − 1), or −1.
 *
 * Same keys inserted in the same order give the same vertex numbers, so the
 * lattice is the TypeScript one bit for bit (tested), whatever the table's
 * layout.
 * @module
 * @internal
 */
import { assembleModule, FunctionBuilder } from '../../core/wasm/assembler.js';
import { instantiateWithOwnMemory } from '../../core/wasm/instantiate.js';
import { KernelCache } from '../../core/wasm/kernel_cache.js';
import { simplexScales } from './lattice_simplices.js';

const PAGE_BYTES = 65536;
/** Barycentric scratch (d + 2 floats, d ≤ 14) at byte 0; the table's state after it. */
const SCRATCH_BYTES = 64;
/** Byte addresses of the table's state: vertex count, slot mask. */
const FILLED_AT = 64;
const MASK_AT = 68;
const HEADER_BYTES = 80;
/** Largest d with a WebAssembly kernel (the barycentric scratch holds d + 2 floats). */
const MAX_DIMS = 14;

/** Odd 32-bit multipliers of the linear key hash, one per coordinate. */
const MULTIPLIERS = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f, 0x165667b1, 0xd3a2646d, 0xfd7046c5, 0xb55a4f09, 0x8ebc6af1, 0xb12c4c3b, 0xe7037ed1, 0x9b5a0a87, 0xa0761d65, 0xd6e8feb9].map((m) => m | 0);

/** Murmur3's finaliser on the i32 local `h` (in place). */
function mix(f: FunctionBuilder, h: string): void {
  f.get(h).get(h).i32(16).op('i32.shr_u').op('i32.xor').i32(0x85ebca6b | 0).op('i32.mul').set(h);
  f.get(h).get(h).i32(13).op('i32.shr_u').op('i32.xor').i32(0xc2b2ae35 | 0).op('i32.mul').set(h);
  f.get(h).get(h).i32(16).op('i32.shr_u').op('i32.xor').set(h);
}

/**
 * Probes the table for the key in locals `key0…` with linear hash `hash`:
 * sets `found` to the 1-based vertex, or to 0 when the probe reaches an empty
 * slot (left in `slot`).
 */
function probe(f: FunctionBuilder, d: number): void {
  f.get('hash').set('slot');
  mix(f, 'slot');
  f.get('slot').get('mask').op('i32.and').set('slot');
  f.block((f) => {
    f.loop((f) => {
      f.get('slots').get('slot').i32(2).op('i32.shl').op('i32.add').loadI32().tee('found');
      f.op('i32.eqz').brIf(1); // empty slot: not in the table
      // Same hash and same key: found (vertex `found` − 1's hash and key).
      f.get('found').i32(4 * d).op('i32.mul').get('keys').op('i32.add').i32(4 * d).op('i32.sub').set('at');
      f.get('hashes').get('found').i32(2).op('i32.shl').op('i32.add').i32(4).op('i32.sub').loadI32().get('hash').op('i32.eq');
      for (let i = 0; i < d; i++) f.get('at').loadI32(4 * i).get(`key${i}`).op('i32.eq').op('i32.and');
      f.brIf(1);
      f.get('slot').i32(1).op('i32.add').get('mask').op('i32.and').set('slot');
      f.br(0);
    });
  });
}

/**
 * `build(features, weights, offsets, hashes, keys, slots, points)` for
 * dimension d (byte addresses; the table's state at {@link FILLED_AT} and
 * {@link MASK_AT} must be set, the slots zero up to the mask).
 */
function buildLattice(d: number): FunctionBuilder {
  const d1 = d + 1;
  const f = new FunctionBuilder([['features', 'i32'], ['weights', 'i32'], ['offsets', 'i32'], ['hashes', 'i32'], ['keys', 'i32'], ['slots', 'i32'], ['points', 'i32']]);
  const all = Array.from({ length: d1 }, (_, i) => i);
  const coords = all.slice(0, d);
  for (const name of ['k', 'sum', 'count', 'shift', 'at', 'r', 'hash', 'slot', 'found', 'filled', 'mask', 'v']) f.local(name, 'i32');
  for (const i of all) f.local(`rem${i}`, 'i32').local(`rank${i}`, 'i32').local(`e${i}`, 'f32').local(`res${i}`, 'f64');
  for (const i of coords) f.local(`key${i}`, 'i32');
  f.local('sm', 'f32').local('cf', 'f32').local('v_f', 'f32');
  const scale = simplexScales(d);
  const invD1 = Math.fround(1 / d1);
  // Barycentric value at scratch byte 4·index, read and written through float64 like a Float32Array's `+=`.
  const accumulate = (index: (f: FunctionBuilder) => void, op: 'f64.add' | 'f64.sub'): void => {
    index(f);
    f.i32(2).op('i32.shl').set('at');
    f.get('at').get('at').loadF32().op('f64.promote_f32').get('v_f').op('f64.promote_f32').op(op).op('f32.demote_f64').storeF32();
  };
  f.i32(FILLED_AT).loadI32().set('filled');
  f.i32(MASK_AT).loadI32().set('mask');
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
    }
    // Barycentric coordinates in the scratch (p. 10 of Adams et al.), then the weights.
    for (let i = 0; i <= d + 1; i++) f.i32(4 * i).f32(0).storeF32();
    for (const i of all) {
      f.get(`e${i}`).op('f64.promote_f32').get(`rem${i}`).op('f64.convert_i32_s').op('f64.sub').f64(invD1).op('f64.mul').op('f32.demote_f64').set('v_f');
      accumulate((f) => void f.i32(d).get(`rank${i}`).op('i32.sub'), 'f64.add');
      accumulate((f) => void f.i32(d1).get(`rank${i}`).op('i32.sub'), 'f64.sub');
    }
    f.i32(0).i32(0).loadF32().op('f64.promote_f32').f64(1).i32(0).loadF32(4 * (d + 1)).op('f64.promote_f32').op('f64.add').op('f64.add').op('f32.demote_f64').storeF32();
    for (const i of all) f.get('weights').i32(0).loadF32(4 * i).storeF32(4 * i);
    // A half-full table doubles: clear the bigger slot range and re-insert every vertex.
    f.get('filled').i32(d1).op('i32.add').i32(1).op('i32.shl').get('mask').op('i32.gt_u');
    f.ifElse((f) => {
      f.get('mask').i32(1).op('i32.shl').i32(1).op('i32.or').set('mask');
      f.i32(0).set('v');
      f.loopWhile((f) => f.get('v').get('mask').op('i32.le_u'), (f) => {
        f.get('slots').get('v').i32(2).op('i32.shl').op('i32.add').i32(0).storeI32();
        f.get('v').i32(1).op('i32.add').set('v');
      });
      f.i32(0).set('v');
      f.loopWhile((f) => f.get('v').get('filled').op('i32.lt_u'), (f) => {
        f.get('hashes').get('v').i32(2).op('i32.shl').op('i32.add').loadI32().set('slot');
        mix(f, 'slot');
        f.get('slot').get('mask').op('i32.and').set('slot');
        f.loopWhile((f) => f.get('slots').get('slot').i32(2).op('i32.shl').op('i32.add').loadI32(), (f) => {
          f.get('slot').i32(1).op('i32.add').get('mask').op('i32.and').set('slot');
        });
        f.get('slots').get('slot').i32(2).op('i32.shl').op('i32.add').get('v').i32(1).op('i32.add').storeI32();
        f.get('v').i32(1).op('i32.add').set('v');
      });
    });
    // The d+1 vertices: key_r = rem0 + (r if rank ≤ d − r else r − d1), found or inserted.
    f.i32(0).set('r');
    f.loopWhile((f) => f.get('r').i32(d1).op('i32.lt_u'), (f) => {
      f.i32(0).set('hash');
      for (const i of coords) {
        f.get(`rem${i}`).get('r').get('r').i32(d1).op('i32.sub').get(`rank${i}`).i32(d).get('r').op('i32.sub').op('i32.le_s').op('select').op('i32.add').tee(`key${i}`);
        f.i32(MULTIPLIERS[i]!).op('i32.mul').get('hash').op('i32.add').set('hash');
      }
      probe(f, d);
      f.get('found').op('i32.eqz').ifElse((f) => {
        f.get('filled').i32(1).op('i32.add').tee('filled').set('found');
        f.get('slots').get('slot').i32(2).op('i32.shl').op('i32.add').get('found').storeI32();
        f.get('hashes').get('found').i32(2).op('i32.shl').op('i32.add').i32(4).op('i32.sub').get('hash').storeI32();
        f.get('found').i32(4 * d).op('i32.mul').get('keys').op('i32.add').i32(4 * d).op('i32.sub').set('at');
        for (const i of coords) f.get('at').get(`key${i}`).storeI32(4 * i);
      });
      f.get('offsets').get('r').i32(2).op('i32.shl').op('i32.add').get('found').storeI32();
      f.get('r').i32(1).op('i32.add').set('r');
    });
    f.get('features').i32(4 * d).op('i32.add').set('features');
    f.get('weights').i32(4 * d1).op('i32.add').set('weights');
    f.get('offsets').i32(4 * d1).op('i32.add').set('offsets');
    f.get('k').i32(1).op('i32.add').set('k');
  });
  f.i32(FILLED_AT).get('filled').storeI32();
  f.i32(MASK_AT).get('mask').storeI32();
  return f;
}

/**
 * `neighbours(hashes, keys, slots, direction, shiftHash, out)` for dimension
 * d: for every vertex v, `out[v]` = the index of the vertex with key
 * `key(v) + (d+1)·e_direction − 1` (all −1 but +d at the direction; none for
 * direction d), or −1.
 */
function buildNeighbours(d: number): FunctionBuilder {
  const f = new FunctionBuilder([['hashes', 'i32'], ['keys', 'i32'], ['slots', 'i32'], ['direction', 'i32'], ['shift_hash', 'i32'], ['out', 'i32']]);
  const coords = Array.from({ length: d }, (_, i) => i);
  for (const name of ['v', 'count', 'mask', 'hash', 'slot', 'found', 'at', 'from']) f.local(name, 'i32');
  for (const i of coords) f.local(`key${i}`, 'i32');
  f.i32(FILLED_AT).loadI32().set('count');
  f.i32(MASK_AT).loadI32().set('mask');
  f.i32(0).set('v');
  f.loopWhile((f) => f.get('v').get('count').op('i32.lt_u'), (f) => {
    f.get('hashes').get('v').i32(2).op('i32.shl').op('i32.add').loadI32().get('shift_hash').op('i32.add').set('hash');
    f.get('v').i32(4 * d).op('i32.mul').get('keys').op('i32.add').set('from');
    for (const i of coords) f.get('from').loadI32(4 * i).i32(d).i32(-1).get('direction').i32(i).op('i32.eq').op('select').op('i32.add').set(`key${i}`);
    probe(f, d);
    f.get('out').get('v').i32(2).op('i32.shl').op('i32.add').get('found').i32(1).op('i32.sub').storeI32();
    f.get('v').i32(1).op('i32.add').set('v');
  });
  return f;
}

/**
 * The kernel module's bytes for dimension d (it imports its memory as `env.memory`).
 * @param d - feature dimension (1 … 14)
 */
export function assembleLatticeKernel(d: number): Uint8Array<ArrayBuffer> {
  return assembleModule({ build: buildLattice(d), neighbours: buildNeighbours(d) });
}

/** The assembled kernel and its memory. */
interface LatticeKernel {
  readonly build: (features: number, weights: number, offsets: number, hashes: number, keys: number, slots: number, points: number) => void;
  readonly neighbours: (hashes: number, keys: number, slots: number, direction: number, shiftHash: number, out: number) => void;
  readonly memory: WebAssembly.Memory;
}

/** Lattice kernel instances by feature dimension. */
export const latticeKernelCache = new KernelCache<number, LatticeKernel>();

function latticeKernel(d: number): LatticeKernel | null {
  if (!(d >= 1 && d <= MAX_DIMS)) return null;
  return latticeKernelCache.get(d, () => {
    const instance = instantiateWithOwnMemory(assembleLatticeKernel(d));
    return instance === null ? null : { build: instance.exports['build'] as LatticeKernel['build'], neighbours: instance.exports['neighbours'] as LatticeKernel['neighbours'], memory: instance.memory };
  });
}

/**
 * Whether the WebAssembly lattice kernel runs here for dimension d.
 * @param d - feature dimension
 */
export function latticeWasmAvailable(d: number): boolean {
  return latticeKernel(d) !== null;
}

/** A lattice built by {@link buildLatticeWasm}. */
export interface WasmLattice {
  /** `[N, d+1]` 1-based vertex rows. */
  readonly offsets: Int32Array;
  /** `[N, d+1]` barycentric weights. */
  readonly weights: Float32Array;
  /** Number of vertices. */
  readonly vertexCount: number;
  /**
   * Fills `out[v]` with the neighbour of every vertex v along lattice direction
   * `direction` (0 … d), or −1; returns how many have one. Valid until the
   * kernel's next build.
   */
  neighbours(direction: number, out: Int32Array): number;
}

function nextPowerOfTwo(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}

/**
 * Builds the lattice's vertices and per-point simplices in WebAssembly, or
 * null when the kernel cannot run (or its memory cannot grow, or it traps on
 * coordinates beyond the i32 range).
 * @param features - `[N, d]` feature vectors, divided by their standard deviations
 * @param pointCount - N
 * @param d - feature dimension
 */
export function buildLatticeWasm(features: Float32Array, pointCount: number, d: number): WasmLattice | null {
  const kernel = latticeKernel(d);
  if (kernel === null) return null;
  const d1 = d + 1;
  const maxVertices = pointCount * d1;
  const maxSlots = nextPowerOfTwo(Math.max(2 * maxVertices, 4 * d1));
  const at = { features: HEADER_BYTES, weights: 0, offsets: 0, hashes: 0, keys: 0, slots: 0, out: 0, end: 0 };
  at.weights = at.features + 4 * pointCount * d;
  at.offsets = at.weights + 4 * pointCount * d1;
  at.hashes = at.offsets + 4 * pointCount * d1;
  at.keys = at.hashes + 4 * maxVertices;
  at.slots = at.keys + 4 * maxVertices * d;
  at.out = at.slots + 4 * maxSlots;
  at.end = at.out + 4 * maxVertices;
  const missing = Math.ceil((at.end - kernel.memory.buffer.byteLength) / PAGE_BYTES);
  try {
    if (missing > 0) kernel.memory.grow(missing);
  } catch {
    return null;
  }
  const memory = kernel.memory;
  const initialSlots = nextPowerOfTwo(Math.max(2 * pointCount, 4 * d1));
  new Float32Array(memory.buffer, at.features, pointCount * d).set(features.subarray(0, pointCount * d));
  new Int32Array(memory.buffer, at.slots, initialSlots).fill(0);
  new Int32Array(memory.buffer, FILLED_AT, 2).set([0, initialSlots - 1]);
  try {
    kernel.build(at.features, at.weights, at.offsets, at.hashes, at.keys, at.slots, pointCount);
  } catch {
    return null; // a trap: a coordinate beyond the i32 range (absurd features); TypeScript copes
  } finally {
    // A large memory is not kept for the next build; this lattice keeps its kernel until it is dropped.
    latticeKernelCache.release(d);
  }
  const vertexCount = new Int32Array(memory.buffer, FILLED_AT, 1)[0]!;
  const neighbourShiftHashes = Array.from({ length: d1 }, (_, direction) => {
    let h = 0;
    for (let i = 0; i < d; i++) h = (h + Math.imul(i === direction ? d : -1, MULTIPLIERS[i]!)) | 0;
    return h;
  });
  return {
    offsets: new Int32Array(memory.buffer, at.offsets, pointCount * d1).slice(),
    weights: new Float32Array(memory.buffer, at.weights, pointCount * d1).slice(),
    vertexCount,
    neighbours(direction, out) {
      kernel.neighbours(at.hashes, at.keys, at.slots, direction, neighbourShiftHashes[direction]!, at.out);
      const found = new Int32Array(memory.buffer, at.out, vertexCount);
      out.set(found);
      let linked = 0;
      for (let v = 0; v < vertexCount; v++) if (found[v]! >= 0) linked++;
      return linked;
    },
  };
}
