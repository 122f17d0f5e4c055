/**
 * Every pairwise kernel's splat/slice matrix merged into one per-pixel list,
 * shared by both mean-field implementations (TypeScript and WebAssembly).
 *
 * All kernels' lattice vertices live in one buffer (kernel after kernel, each
 * starting with its zero row 0), so each pixel has one list of (row, splat
 * weight, slice weight) entries — d+1 per kernel — with the normalisation, α
 * and the Potts weight folded into the weights once.
 * @module
 * @internal
 */
import type { CrfNormalization } from './params.js';
import type { LatticeChains, PermutohedralLattice } from './permutohedral.js';

/** One pairwise term of the mean field. */
export interface MeanFieldKernel {
  /** The lattice built from the term's features. */
  readonly lattice: PermutohedralLattice;
  /** Potts weight w. */
  readonly compat: number;
  /** How the kernel is normalised. */
  readonly normalization: CrfNormalization;
}

/** Probabilities whose clipped −log is the unary: U = −log(min(1, max(p, clip))). */
export interface ClippedProbabilities {
  /** p, `[N, M]`, label fastest. */
  readonly probabilities: ArrayLike<number>;
  /** Lower bound applied before the log. */
  readonly clip: number;
}

/**
 * The unary term of the mean field: U itself (`[N, M]`, label fastest), or
 * the probabilities it is computed from (the WebAssembly path takes that log
 * in SIMD).
 */
export type MeanFieldUnary = Float32Array | ClippedProbabilities;

/**
 * U as an array (computed with `Math.log` from probabilities).
 * @param unary - U or the probabilities
 */
export function unaryValues(unary: MeanFieldUnary): Float32Array {
  if (unary instanceof Float32Array) return unary;
  const { probabilities, clip } = unary;
  const values = new Float32Array(probabilities.length);
  for (let i = 0; i < values.length; i++) values[i] = -Math.log(Math.min(1, Math.max(probabilities[i]!, clip)));
  return values;
}

/** Where each kernel's vertices sit in the merged buffer. */
export interface MergedLayout {
  /** Entries per pixel: Σ_k (d_k + 1). */
  readonly entries: number;
  /** First merged row of each kernel (its zero row). */
  readonly rowBases: readonly number[];
  /** Rows of the merged buffer. */
  readonly vertexRows: number;
}

/**
 * The merged buffer's layout for these kernels.
 * @param kernels - the pairwise terms
 */
export function mergedLayout(kernels: readonly MeanFieldKernel[]): MergedLayout {
  const rowBases: number[] = [];
  let rows = 0;
  let entries = 0;
  for (const kernel of kernels) {
    rowBases.push(rows);
    rows += kernel.lattice.vertexCount + 1;
    entries += kernel.lattice.dims + 1;
  }
  return { entries, rowBases, vertexRows: rows };
}

/**
 * Where {@link writeEntries} puts pixel i's entry e: at element
 * `start + (i·entries + e)·stride` of each array (the arrays may be views of
 * one interleaved buffer).
 */
export interface EntryTarget {
  /** Receives the merged vertex row × `rowScale`. */
  readonly rows: Int32Array;
  /** Receives the splat weight (barycentric × pre-normalisation). */
  readonly splatWeights: Float32Array;
  /** Receives the slice weight (barycentric × post-normalisation × α × w). */
  readonly sliceWeights: Float32Array;
  /** Element index of the first entry in each array. */
  readonly start: number;
  /** Elements from one entry to the next. */
  readonly stride: number;
  /** Multiplies the merged row (e.g. values or bytes per row). */
  readonly rowScale: number;
}

/**
 * Writes every pixel's merged entries.
 * @param kernels - the pairwise terms
 * @param pointCount - N
 * @param layout - `mergedLayout(kernels)`
 * @param target - where the entries go
 */
export function writeEntries(kernels: readonly MeanFieldKernel[], pointCount: number, layout: MergedLayout, target: EntryTarget): void {
  const { rows, splatWeights, sliceWeights, stride, rowScale } = target;
  let column = 0;
  for (let k = 0; k < kernels.length; k++) {
    const { lattice, normalization, compat } = kernels[k]!;
    const { offsets, weights, alpha } = lattice;
    const d1 = lattice.dims + 1;
    const rowBase = layout.rowBases[k]!;
    const symmetric = normalization === 'symmetric';
    const after = normalization === 'after';
    const skip = (layout.entries - d1) * stride;
    // n_i = (K·1)_i from the lattice itself, as densecrf computes it.
    const norm = lattice.rowSums();
    let at = target.start + column * stride;
    for (let i = 0, e = 0; i < pointCount; i++, at += skip) {
      const n = norm[i]! + 1e-20;
      const inverse = Math.fround(symmetric ? 1 / Math.sqrt(n) : after ? 1 / n : 1);
      const pre = symmetric ? inverse : 1;
      const post = inverse * alpha * compat;
      for (let r = 0; r < d1; r++, e++, at += stride) {
        const w = weights[e]!;
        rows[at] = (rowBase + offsets[e]!) * rowScale;
        splatWeights[at] = w * pre;
        sliceWeights[at] = w * post;
      }
    }
    column += d1;
  }
}

/** {@link writeEntries} into separate arrays, with the blur chains moved to merged rows. */
export interface MergedKernels extends MergedLayout {
  /** `[N, entries]` merged rows × row stride. */
  readonly rows: Int32Array;
  /** `[N, entries]` splat weights. */
  readonly splatWeights: Float32Array;
  /** `[N, entries]` slice weights. */
  readonly sliceWeights: Float32Array;
  /** Blur chains of every kernel and direction in the order they are applied. */
  readonly chains: LatticeChains[];
}

/**
 * Merges the kernels' lattices over the same `pointCount` points into separate arrays.
 * @param kernels - the pairwise terms
 * @param pointCount - N
 * @param rowStride - values per row of the merged buffer
 */
export function mergeKernels(kernels: readonly MeanFieldKernel[], pointCount: number, rowStride: number): MergedKernels {
  const layout = mergedLayout(kernels);
  const size = pointCount * layout.entries;
  const target = { rows: new Int32Array(size), splatWeights: new Float32Array(size), sliceWeights: new Float32Array(size), start: 0, stride: 1, rowScale: rowStride };
  writeEntries(kernels, pointCount, layout, target);
  const chains = kernels.flatMap((kernel, k) =>
    kernel.lattice.chains.map((chain) => ({ vertices: chain.vertices.map((v) => v + layout.rowBases[k]!), starts: chain.starts })),
  );
  return { ...layout, ...target, chains };
}
