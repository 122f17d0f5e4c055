/**
 * The permutohedral lattice (Adams, Baek & Davis 2010) as densecrf v2 uses it
 * for Gaussian filtering `out_i = Σ_j exp(−|f_i − f_j|²/2) in_j` in O(N·d²):
 *
 * 1. *elevate* each d-dimensional feature onto the hyperplane Σx = 0 of
 *    R^(d+1), scaled so the lattice's blur matches a unit Gaussian;
 * 2. find the enclosing simplex: round to the nearest remainder-0 lattice
 *    point, rank the residual coordinates, and correct points that rounding
 *    pushed off the plane;
 * 3. compute barycentric weights of the d+1 simplex vertices and store, per
 *    pixel, the vertex indices and weights (this "splat/slice matrix" is built
 *    once and reused every mean-field iteration);
 * 4. filtering = *splat* (scatter pixel values onto vertices with those
 *    weights), *blur* with [½ 1 ½] along each of the d+1 lattice directions,
 *    *slice* (gather back with the same weights), times densecrf's constant
 *    α = 1 / (1 + 2^−d).
 *
 * Steps 1–3 run per point in `lattice_simplices.ts` (TypeScript) or
 * `lattice_wasm.ts` (WebAssembly, the default; the same numbers bit for bit);
 * the hash inserts of the simplex vertices and the blur chains are
 * TypeScript over typed arrays, as is the filtering here (the mean field has
 * its own SIMD kernels). Vertex rows are 1-based in the value buffers so that
 * row 0 can stand for "no vertex" (always zero), as in densecrf.
 *
 * The blur is done in place: along each direction the vertices form chains
 * (neighbour n1 = key + (d+1)·e_j − 1); walking each chain in order while
 * carrying the previous vertex's old value computes the same
 * `new = old + ½(prev + next)` as densecrf's two-buffer pass, but vertices
 * without neighbours in that direction are skipped and no copy is needed.
 * Labels are processed four at a time in locals (plain JS has no SIMD; this
 * halves the loads and stores per value).
 * @module
 * @internal
 */
import { forcedCrfImplementation, type CrfImplementation } from './implementation.js';
import { LatticeHashTable } from './lattice_hash.js';
import { simplicesJs } from './lattice_simplices.js';
import { buildLatticeWasm } from './lattice_wasm.js';

/** A built lattice for N feature points of dimension d. */
export class PermutohedralLattice {
  /** Feature dimension d. */
  readonly dims: number;
  /** Number of feature points (pixels) N. */
  readonly pointCount: number;
  /** Number of lattice vertices. */
  readonly vertexCount: number;
  /** Per point and simplex vertex: the 1-based vertex row (`[N, d+1]`). */
  readonly offsets: Int32Array;
  /** Per point and simplex vertex: the barycentric weight (`[N, d+1]`). */
  readonly weights: Float32Array;
  /** Per lattice direction (d+1 of them): its blur chains. */
  readonly chains: LatticeChains[];
  /** densecrf's output scale α = 1 / (1 + 2^−d). */
  readonly alpha: number;

  /**
   * Builds the lattice for `features` (`[N, d]`, point-major).
   * @param features - feature vectors, already divided by their standard deviations
   * @param pointCount - N
   * @param dims - d ≥ 1
   * @param implementation - force the TypeScript or the WebAssembly build (the same lattice); by
   *   default `SEGREFINE_CRF_KERNEL`, else WebAssembly where it runs
   */
  constructor(features: Float32Array, pointCount: number, dims: number, implementation?: CrfImplementation) {
    const d = dims;
    this.dims = d;
    this.pointCount = pointCount;
    this.alpha = Math.fround(1 / (1 + Math.pow(2, -d)));
    const wasm = (implementation ?? forcedCrfImplementation() ?? 'wasm') === 'wasm' ? buildLatticeWasm(features, pointCount, d) : null;
    if (wasm === null && implementation === 'wasm') throw new Error('PermutohedralLattice: the WebAssembly lattice kernel cannot run here');
    const built = wasm ?? buildLatticeJs(features, pointCount, d);
    this.offsets = built.offsets;
    this.weights = built.weights;
    this.vertexCount = built.vertexCount;
    this.chains = buildChains(built.vertexCount, d, (direction, out) => built.neighbours(direction, out));
  }

  /**
   * Splat → blur → slice of `channels` values per point, times α:
   * `out ≈ Σ_j exp(−|f_i − f_j|²/2) in_j` (self term included).
   * @param input - `[N, channels]`
   * @param channels - values per point
   */
  filter(input: Float32Array, channels: number): Float32Array {
    const values = new Float32Array((this.vertexCount + 1) * channels);
    this.splat(input, channels, values);
    this.blur(values, channels);
    const out = new Float32Array(this.pointCount * channels);
    const d1 = this.dims + 1;
    for (let i = 0; i < this.pointCount; i++) {
      for (let r = 0; r < d1; r++) {
        const row = this.offsets[i * d1 + r]! * channels;
        const w = this.weights[i * d1 + r]! * this.alpha;
        for (let c = 0; c < channels; c++) out[i * channels + c] += w * values[row + c]!;
      }
    }
    return out;
  }

  /**
   * `filter(1, 1)` without the generic channel loops: the kernel's row sums
   * n_i = (K·1)_i, densecrf's normaliser (same float32 rounding, so the same
   * numbers as {@link PermutohedralLattice.filter}).
   */
  rowSums(): Float32Array {
    const { offsets, weights, alpha, pointCount } = this;
    const d1 = this.dims + 1;
    const values = new Float32Array(this.vertexCount + 1);
    for (let e = 0; e < pointCount * d1; e++) values[offsets[e]!] += weights[e]!;
    this.blur(values, 1);
    const sums = new Float32Array(pointCount);
    for (let i = 0, e = 0; i < pointCount; i++) {
      let sum = 0;
      for (let r = 0; r < d1; r++, e++) sum = Math.fround(sum + weights[e]! * alpha * values[offsets[e]!]!);
      sums[i] = sum;
    }
    return sums;
  }

  /**
   * Adds `weights·input` of every point to its simplex vertices in `values`.
   * @param input - `[N, channels]`
   * @param channels - values per point
   * @param values - `[vertexCount + 1, channels]` accumulator (row 0 unused)
   */
  splat(input: Float32Array, channels: number, values: Float32Array): void {
    const d1 = this.dims + 1;
    for (let i = 0; i < this.pointCount; i++) {
      for (let r = 0; r < d1; r++) {
        const row = this.offsets[i * d1 + r]! * channels;
        const w = this.weights[i * d1 + r]!;
        for (let c = 0; c < channels; c++) values[row + c] += w * input[i * channels + c]!;
      }
    }
  }

  /**
   * Blurs `values` in place with [½ 1 ½] along each lattice direction in
   * turn (0 … d, as densecrf's forward filter).
   * @param values - `[vertexCount + 1, channels]`, row 0 zero
   * @param channels - values per vertex
   */
  blur(values: Float32Array, channels: number): void {
    for (const chains of this.chains) blurChains(values, channels, chains);
  }
}

/** The chains of one blur direction: vertex rows, chain after chain. */
export interface LatticeChains {
  /** 1-based vertex rows of every chain of length ≥ 2, concatenated in chain order. */
  readonly vertices: Int32Array;
  /** Start of each chain in `vertices`, plus a final `vertices.length`. */
  readonly starts: Int32Array;
}

/**
 * One direction of the in-place blur (see the module comment):
 * `v ← v + ½(prev + next)` along every chain, missing ends counting as 0.
 * @param values - `[rows, channels]`
 * @param channels - values per vertex
 * @param chains - the direction's chains
 */
export function blurChains(values: Float32Array, channels: number, chains: LatticeChains): void {
  const vertices = chains.vertices;
  const starts = chains.starts;
  const four = channels & ~3;
  for (let k = 0; k + 1 < starts.length; k++) {
    const first = starts[k]!;
    const end = starts[k + 1]!;
    let c = 0;
    for (; c < four; c += 4) {
      let p0 = 0;
      let p1 = 0;
      let p2 = 0;
      let p3 = 0;
      let r = vertices[first]! * channels + c;
      let o0 = values[r]!;
      let o1 = values[r + 1]!;
      let o2 = values[r + 2]!;
      let o3 = values[r + 3]!;
      for (let t = first + 1; t < end; t++) {
        const rn = vertices[t]! * channels + c;
        const n0 = values[rn]!;
        const n1 = values[rn + 1]!;
        const n2 = values[rn + 2]!;
        const n3 = values[rn + 3]!;
        values[r] = o0 + 0.5 * (p0 + n0);
        values[r + 1] = o1 + 0.5 * (p1 + n1);
        values[r + 2] = o2 + 0.5 * (p2 + n2);
        values[r + 3] = o3 + 0.5 * (p3 + n3);
        p0 = o0;
        p1 = o1;
        p2 = o2;
        p3 = o3;
        o0 = n0;
        o1 = n1;
        o2 = n2;
        o3 = n3;
        r = rn;
      }
      values[r] = o0 + 0.5 * p0;
      values[r + 1] = o1 + 0.5 * p1;
      values[r + 2] = o2 + 0.5 * p2;
      values[r + 3] = o3 + 0.5 * p3;
    }
    for (; c < channels; c++) {
      let p = 0;
      let r = vertices[first]! * channels + c;
      let o = values[r]!;
      for (let t = first + 1; t < end; t++) {
        const rn = vertices[t]! * channels + c;
        const n = values[rn]!;
        values[r] = o + 0.5 * (p + n);
        p = o;
        o = n;
        r = rn;
      }
      values[r] = o + 0.5 * p;
    }
  }
}

/** A built lattice's vertices, before its chains. */
interface BuiltLattice {
  readonly offsets: Int32Array;
  readonly weights: Float32Array;
  readonly vertexCount: number;
  /** Fills `out[v]` with v's neighbour along `direction` (or −1); returns how many have one. */
  neighbours(direction: number, out: Int32Array): number;
}

/**
 * Steps 1–3 in TypeScript: the simplices (`lattice_simplices.ts`), then each
 * simplex's d+1 vertices inserted in a hash table. key_r = rem0 +
 * canonical_r(rank): from r − 1 to r every coordinate gains 1 except the one
 * ranked d − r + 1, which loses d; the linear hash follows along.
 */
function buildLatticeJs(features: Float32Array, pointCount: number, d: number): BuiltLattice {
  const d1 = d + 1;
  const { keys, byRank, weights } = simplicesJs(features, pointCount, d);
  const offsets = new Int32Array(pointCount * d1);
  const table = new LatticeHashTable(d, pointCount);
  const key = new Int32Array(d);
  const multipliers = table.multipliers;
  let multiplierSum = 0;
  for (let i = 0; i < d; i++) multiplierSum = (multiplierSum + multipliers[i]!) | 0;
  for (let k = 0; k < pointCount; k++) {
    const base = k * d1;
    let hash = 0;
    for (let i = 0; i < d; i++) {
      const c = keys[k * d + i]!;
      key[i] = c;
      hash = (hash + Math.imul(c, multipliers[i]!)) | 0;
    }
    offsets[base] = table.insert(key, hash) + 1;
    for (let remainder = 1; remainder <= d; remainder++) {
      for (let i = 0; i < d; i++) key[i] += 1;
      hash = (hash + multiplierSum) | 0;
      const down = byRank[base + d - remainder + 1]!;
      if (down < d) {
        key[down] -= d1;
        hash = (hash - Math.imul(d1, multipliers[down]!)) | 0;
      }
      offsets[base + remainder] = table.insert(key, hash) + 1;
    }
  }
  const shift = new Int32Array(d);
  return {
    offsets,
    weights,
    vertexCount: table.size,
    neighbours(direction, out) {
      shift.fill(-1);
      if (direction < d) shift[direction] = d;
      const shiftHash = table.hashOf(shift);
      let linked = 0;
      for (let v = 0; v < table.size; v++) {
        const s = table.findShifted(v, shift, shiftHash);
        out[v] = s;
        if (s >= 0) linked++;
      }
      return linked;
    },
  };
}

/**
 * For each lattice direction j, links every vertex to its neighbour
 * n1 = key + (d+1)·e_j − 1 and lists the resulting chains (length ≥ 2).
 * @param count - number of vertices
 * @param d - feature dimension
 * @param neighbours - the lattice's neighbour look-up (see {@link BuiltLattice})
 */
function buildChains(count: number, d: number, neighbours: (direction: number, out: Int32Array) => number): LatticeChains[] {
  const successor = new Int32Array(count);
  const hasPredecessor = new Uint8Array(count);
  const result: LatticeChains[] = [];
  for (let j = 0; j <= d; j++) {
    const linked = neighbours(j, successor);
    hasPredecessor.fill(0);
    for (let v = 0; v < count; v++) if (successor[v]! >= 0) hasPredecessor[successor[v]!] = 1;
    // Every link adds one vertex to some chain, and every chain has one head.
    let heads = 0;
    for (let v = 0; v < count; v++) if (hasPredecessor[v] === 0 && successor[v]! >= 0) heads++;
    const vertices = new Int32Array(linked + heads);
    const starts = new Int32Array(heads + 1);
    let t = 0;
    let k = 0;
    for (let v = 0; v < count; v++) {
      if (hasPredecessor[v] !== 0 || successor[v]! < 0) continue;
      starts[k++] = t;
      vertices[t++] = v + 1;
      for (let u = successor[v]!; u >= 0; u = successor[u]!) vertices[t++] = u + 1;
    }
    starts[k] = t;
    result.push({ vertices, starts });
  }
  return result;
}
