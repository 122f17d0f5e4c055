/**
 * Steps 1–3 of the permutohedral lattice build (see `permutohedral.ts`) for
 * every point: elevate the feature onto the hyperplane Σx = 0 of R^(d+1),
 * find the enclosing simplex (nearest remainder-0 point, ranks of the
 * residuals, points pushed off the plane shifted back) and its barycentric
 * weights. Float32 arithmetic mirrors densecrf's where it decides the
 * simplex. The WebAssembly kernel (`lattice_wasm.ts`) computes the same
 * numbers bit for bit; this TypeScript is the fallback and its reference.
 * @module
 * @internal
 */

/** Every point's simplex. */
export interface PointSimplices {
  /** `[N, d]` key of each point's vertex 0 (the remainder-0 point). */
  readonly keys: Int32Array;
  /** `[N, d+1]` the coordinate holding each rank. */
  readonly byRank: Int32Array;
  /** `[N, d+1]` barycentric weights. */
  readonly weights: Float32Array;
}

/**
 * The elevation's per-coordinate scales for dimension d (float32, as densecrf
 * computes them): the lattice's blur then matches a unit Gaussian.
 * @param d - feature dimension
 */
export function simplexScales(d: number): Float32Array {
  const scale = new Float32Array(d);
  const invStdDev = Math.sqrt(2 / 3) * (d + 1);
  for (let i = 0; i < d; i++) scale[i] = (1 / Math.sqrt((i + 2) * (i + 1))) * invStdDev;
  return scale;
}

/** 1.5·2⁵²: adding and subtracting it rounds a double to the nearest integer, ties to even. */
const ROUNDER = 6755399441055744;

/**
 * The simplices in TypeScript.
 * @param features - `[N, d]`, divided by their standard deviations
 * @param pointCount - N
 * @param d - feature dimension
 */
export function simplicesJs(features: Float32Array, pointCount: number, d: number): PointSimplices {
  const d1 = d + 1;
  const keys = new Int32Array(pointCount * d);
  const byRank = new Int32Array(pointCount * d1);
  const weights = new Float32Array(pointCount * d1);
  const scale = simplexScales(d);
  const elevated = new Float32Array(d1);
  const rem0 = new Int32Array(d1);
  const residual = new Float64Array(d1);
  const rank = new Int32Array(d1);
  const barycentric = new Float32Array(d + 2);
  const invD1 = Math.fround(1 / d1);

  for (let k = 0; k < pointCount; k++) {
    const f = k * d;
    // Elevate: y = E·f (Adams et al. 2010, p. 5), accumulated from the last coordinate.
    let sm = 0;
    for (let j = d; j > 0; j--) {
      const cf = Math.fround(features[f + j - 1]! * scale[j - 1]!);
      elevated[j] = sm - j * cf;
      sm = Math.fround(sm + cf);
    }
    elevated[0] = sm;
    // Nearest remainder-0 point, rounding half to even like SSE: adding and
    // subtracting 1.5·2⁵² rounds a double to an integer in the FPU's mode.
    let sum = 0;
    for (let i = 0; i <= d; i++) {
      const r = Math.fround(invD1 * elevated[i]!) + ROUNDER - ROUNDER;
      rem0[i] = r * d1;
      sum += r;
    }
    // Rank of each residual coordinate: which simplex of the cell we are in
    // (ties go to the lower index). Counted without branches: the
    // comparisons are unpredictable.
    for (let i = 0; i <= d; i++) residual[i] = elevated[i]! - rem0[i]!;
    for (let i = 0; i <= d; i++) {
      const di = residual[i]!;
      let count = 0;
      for (let j = 0; j < i; j++) count += +(residual[j]! >= di);
      for (let j = i + 1; j <= d; j++) count += +(residual[j]! > di);
      rank[i] = count;
    }
    // Rounding may leave the plane Σ = 0; shift ranks (and points) back.
    for (let i = 0; i <= d; i++) {
      rank[i] += sum;
      if (rank[i]! < 0) {
        rank[i] += d1;
        rem0[i] += d1;
      } else if (rank[i]! > d) {
        rank[i] -= d1;
        rem0[i] -= d1;
      }
      byRank[k * d1 + rank[i]!] = i;
    }
    // Barycentric coordinates (p. 10).
    for (let i = 0; i <= d + 1; i++) barycentric[i] = 0;
    for (let i = 0; i <= d; i++) {
      const v = Math.fround((elevated[i]! - rem0[i]!) * invD1);
      barycentric[d - rank[i]!] += v;
      barycentric[d - rank[i]! + 1] -= v;
    }
    barycentric[0] += 1 + barycentric[d + 1]!;
    for (let i = 0; i < d; i++) keys[f + i] = rem0[i]!;
    for (let r = 0; r <= d; r++) weights[k * d1 + r] = barycentric[r]!;
  }
  return { keys, byRank, weights };
}
