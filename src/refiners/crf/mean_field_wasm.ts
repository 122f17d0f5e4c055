/**
 * The mean field of `mean_field.ts` run by WebAssembly SIMD kernels
 * (`mean_field_kernels_wasm.ts`), same semantics, float32 throughout.
 *
 * The kernels own their `WebAssembly.Memory` (the CRF is not a tfjs op, so
 * nothing is shared with a backend): one per kernel module, grown to fit the
 * largest problem seen so far and kept for the next call (touching fresh
 * pages costs more than the copies: ~10 ms for the 40 MB of a 320×320, 21
 * label problem), up to {@link KernelCache}'s retain limit. Each call copies its inputs in once. Layout, every region 16-byte aligned, label rows padded to Mp (a
 * multiple of 4, `rowBytes = 4·Mp`):
 *
 * ```text
 * scratch  2 rows          a = −U + messages, then exp(a − max)
 * unary    [N, Mp]         −U (padding −1e30, so its exp is exactly 0)
 * entries  [N, E] × 12 B   (vertex row byte offset, splat weight, slice weight)
 * stream   L × 4 B         blur chains (vertex row byte offsets, each chain ended by 0)
 * buffers  2 × [R, Mp]     lattice values: the current iteration's and the next's
 * out      [N, M] + slack  Q (first the unpadded input U or p, staged for the padded copy)
 * logits   [N, M] + slack  the last softmax's argument
 * ```
 * @module
 * @internal
 */
import { instantiateWithOwnMemory, reserveMemory } from '../../core/wasm/instantiate.js';
import { KernelCache } from '../../core/wasm/kernel_cache.js';
import type { MeanFieldResult } from './mean_field.js';
import {
  assembleMeanFieldKernels,
  ENTRY_BYTES,
  GATHER,
  SCATTER,
  UNARY_FROM_PROBABILITIES,
  UNARY_FROM_U,
  type KernelWidths,
  type MeanFieldKernelExports,
} from './mean_field_kernels_wasm.js';
import type { LatticeChains } from './permutohedral.js';
import { mergedLayout, unaryValues, writeEntries, type MeanFieldKernel, type MeanFieldUnary, type MergedLayout } from './merged_kernels.js';

const PAGE_BYTES = 65536;
/** Float32's smallest normal number. */
const SMALLEST_NORMAL = 1.1754943508222875e-38;
/** Most v128s a chunk keeps in registers (x86-64 has 16 vector registers). */
const MAX_PIXEL_WIDTH = 8;
const MAX_BLUR_WIDTH = 4;

/** How M labels are laid out in v128 chunks. */
interface LabelLayout {
  /** Labels per padded row, Mp. */
  readonly paddedLabels: number;
  /** Chunk widths of the kernels. */
  readonly widths: KernelWidths;
}

/** M labels → ⌈M/4⌉ v128s, split into equal chunks of at most 8 (the last chunk padded too). */
function labelLayout(labels: number): LabelLayout {
  const vectors = Math.ceil(labels / 4);
  const chunks = Math.ceil(vectors / MAX_PIXEL_WIDTH);
  const pixel = Math.ceil(vectors / chunks);
  const padded = chunks * pixel;
  let blur = Math.min(padded, MAX_BLUR_WIDTH);
  while (padded % blur !== 0) blur--;
  return { paddedLabels: 4 * padded, widths: { pixel, blur } };
}

/** An instantiated kernel module and its memory. */
interface KernelInstance {
  readonly kernel: MeanFieldKernelExports;
  readonly memory: WebAssembly.Memory;
}

/** Mean-field kernel instances by chunk widths (`pixel/blur`). */
export const meanFieldKernelCache = new KernelCache<string, KernelInstance>();

const widthsKey = (widths: KernelWidths): string => `${widths.pixel}/${widths.blur}`;

/** The kernels for these widths, or null when this engine cannot compile them (no SIMD). */
function kernelInstance(widths: KernelWidths): KernelInstance | null {
  return meanFieldKernelCache.get(widthsKey(widths), () => {
    const own = instantiateWithOwnMemory(assembleMeanFieldKernels(widths));
    return own === null ? null : { kernel: own.exports as unknown as MeanFieldKernelExports, memory: own.memory };
  });
}

/** Whether the WebAssembly SIMD mean field can run here. */
export function meanFieldWasmAvailable(): boolean {
  return kernelInstance(labelLayout(4).widths) !== null;
}

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** Byte addresses of the memory regions (see the module comment). */
interface Regions {
  readonly scratch: number;
  readonly unary: number;
  readonly entries: number;
  readonly stream: number;
  readonly streamEnd: number;
  readonly buffers: [number, number];
  readonly out: number;
  readonly logits: number;
  readonly end: number;
}

/** Stream entries: every chain's vertices and its 0. */
function streamLength(kernels: readonly MeanFieldKernel[]): number {
  let length = 0;
  for (const { lattice } of kernels) for (const chains of lattice.chains) length += chains.vertices.length + chains.starts.length - 1;
  return length;
}

function regions(pointCount: number, labels: number, rowBytes: number, kernels: readonly MeanFieldKernel[], layout: MergedLayout): Regions {
  let at = 0;
  const take = (bytes: number): number => {
    const start = at;
    at += align(bytes);
    return start;
  };
  const scratch = take(2 * rowBytes);
  const unary = take(pointCount * rowBytes);
  const entries = take(pointCount * layout.entries * ENTRY_BYTES);
  const streamBytes = 4 * streamLength(kernels);
  const stream = take(streamBytes);
  const buffers: [number, number] = [take(layout.vertexRows * rowBytes), take(layout.vertexRows * rowBytes)];
  const outBytes = pointCount * labels * 4 + rowBytes; // + slack for the last row's padding
  const out = take(outBytes);
  const logits = take(outBytes);
  return { scratch, unary, entries, stream, streamEnd: stream + streamBytes, buffers, out, logits, end: at };
}

/** Copies −U (padded), the entries and the chain stream into the memory. */
function copyInputs(kernel: MeanFieldKernelExports, memory: WebAssembly.Memory, at: Regions, unary: MeanFieldUnary, pointCount: number, labels: number, paddedLabels: number, kernels: readonly MeanFieldKernel[], layout: MergedLayout): void {
  const floats = new Float32Array(memory.buffer);
  const ints = new Int32Array(memory.buffer);
  const rowBytes = paddedLabels * 4;
  // Stage the unpadded input in the output region, then pad (and take the log) in SIMD.
  const values = unary instanceof Float32Array ? unary : unary.probabilities;
  if (values.length !== pointCount * labels) throw new RangeError(`meanField: the unary must hold N·M = ${pointCount * labels} values, got ${values.length}`);
  floats.set(values, at.out / 4);
  if (unary instanceof Float32Array) kernel.unary(UNARY_FROM_U, at.out, at.unary, pointCount, labels * 4, rowBytes, 0, labels);
  else kernel.unary(UNARY_FROM_PROBABILITIES, at.out, at.unary, pointCount, labels * 4, rowBytes, unary.clip, labels);
  // Entry = (row, splat, slice): float views shifted by one and two elements put the weights after the row.
  const splatWeights = new Float32Array(memory.buffer, 4);
  const sliceWeights = new Float32Array(memory.buffer, 8);
  writeEntries(kernels, pointCount, layout, { rows: ints, splatWeights, sliceWeights, start: at.entries / 4, stride: 3, rowScale: rowBytes });
  let dst = at.stream / 4;
  for (let k = 0; k < kernels.length; k++) {
    const base = layout.rowBases[k]!;
    for (const chains of kernels[k]!.lattice.chains) dst = writeChainStream(ints, dst, chains, base, rowBytes);
  }
}

/** Appends one direction's chains to the blur stream at `dst`: byte offsets of merged rows, a 0 after each chain. Returns the new end. */
function writeChainStream(ints: Int32Array, dst: number, chains: LatticeChains, rowBase: number, rowBytes: number): number {
  const { vertices, starts } = chains;
  let next = starts[1]!;
  for (let t = 0, c = 1; t < vertices.length; t++) {
    ints[dst++] = (vertices[t]! + rowBase) * rowBytes;
    if (t + 1 === next) {
      ints[dst++] = 0;
      next = starts[++c]!;
    }
  }
  return dst;
}

/**
 * {@link meanField}'s iterations in WebAssembly; null when the kernels cannot
 * run here (no SIMD) or the memory cannot be allocated.
 * @param unary - U = −log p, `[N, M]`, label fastest, or p and its clip
 * @param pointCount - N
 * @param labels - M
 * @param kernels - the pairwise terms (lattices over the same N points)
 * @param iterations - number of updates (0 returns softmax(−U))
 */
export function meanFieldWasm(unary: MeanFieldUnary, pointCount: number, labels: number, kernels: readonly MeanFieldKernel[], iterations: number): MeanFieldResult | null {
  // The SIMD log takes normal floats: a clip below float32's normal range is logged in TypeScript.
  if (!(unary instanceof Float32Array) && !(unary.clip >= SMALLEST_NORMAL)) unary = unaryValues(unary);
  const { paddedLabels, widths } = labelLayout(labels);
  const instance = kernelInstance(widths);
  if (instance === null) return null;
  const { kernel, memory } = instance;
  const rowBytes = paddedLabels * 4;
  const layout = mergedLayout(kernels);
  const at = regions(pointCount, labels, rowBytes, kernels, layout);
  if (!reserveMemory(memory, at.end)) {
    meanFieldKernelCache.release(widthsKey(widths)); // it may have grown part of the way
    return null;
  }
  copyInputs(kernel, memory, at, unary, pointCount, labels, paddedLabels, kernels, layout);

  const entryBytes = layout.entries * ENTRY_BYTES;
  const pass = (mode: number, source: number, target: number): void =>
    kernel.pixels(mode, at.unary, at.entries, entryBytes, pointCount, rowBytes, source, target, at.scratch, at.out, at.logits, labels * 4);
  if (iterations === 0 || layout.entries === 0) {
    pass(0, 0, 0); // softmax(−U) written out
  } else {
    let [current, next] = at.buffers;
    const values = new Float32Array(memory.buffer);
    const clear = (buffer: number): void => void values.fill(0, buffer / 4, buffer / 4 + layout.vertexRows * paddedLabels);
    clear(current);
    pass(SCATTER, 0, current); // Q⁰ = softmax(−U) splatted
    for (let it = 0; it < iterations; it++) {
      kernel.blur(current, at.stream, at.streamEnd, rowBytes);
      if (it === iterations - 1) {
        pass(GATHER, current, 0);
      } else {
        clear(next);
        pass(GATHER | SCATTER, current, next);
        [current, next] = [next, current];
      }
    }
  }

  const floats = new Float32Array(memory.buffer);
  const size = pointCount * labels;
  const result = { q: floats.slice(at.out / 4, at.out / 4 + size), logits: floats.slice(at.logits / 4, at.logits / 4 + size) };
  meanFieldKernelCache.release(widthsKey(widths));
  return result;
}
