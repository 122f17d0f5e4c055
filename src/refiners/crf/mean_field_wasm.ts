/**
 * The mean field of `mean_field.ts` run by WebAssembly SIMD kernels
 * (`mean_field_kernels_wasm.ts`), same semantics, float32 throughout.
 *
 * Each call owns a fresh `WebAssembly.Memory` sized to fit (the CRF is not a
 * tfjs op, so nothing is shared with a backend) and copies its inputs in
 * once. Layout, every region 16-byte aligned, label rows padded to Mp (a
 * multiple of 4, `rowBytes = 4·Mp`):
 *
 * ```text
 * scratch  2 rows          a = −U + messages, then exp(a − max)
 * unary    [N, Mp]         −U (padding −1e30, so its exp is exactly 0)
 * entries  [N, E] × 12 B   (vertex row byte offset, splat weight, slice weight)
 * stream   L × 4 B         blur chains (vertex row byte offsets, each chain ended by 0)
 * buffers  2 × [R, Mp]     lattice values: the current iteration's and the next's
 * out      [N, M] + slack  Q
 * logits   [N, M] + slack  the last softmax's argument
 * ```
 * @module
 * @internal
 */
import type { MeanFieldResult } from './mean_field.js';
import { assembleMeanFieldKernels, ENTRY_BYTES, type KernelWidths, type MeanFieldKernelExports, type PixelPass } from './mean_field_kernels_wasm.js';
import { mergedLayout, writeEntries, type MeanFieldKernel, type MergedLayout } from './merged_kernels.js';

const PAGE_BYTES = 65536;
/** The padded labels' −U: exp(−1e30 − max) is 0 and never the max. */
const PADDING_LOGIT = -1e30;
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

const modules = new Map<string, WebAssembly.Module | null>();

/** The compiled kernels for these widths, or null when this engine cannot compile them (no SIMD). */
function kernelModule(widths: KernelWidths): WebAssembly.Module | null {
  const key = `${widths.pixel}/${widths.blur}`;
  if (!modules.has(key)) {
    let compiled: WebAssembly.Module | null = null;
    try {
      const bytes = assembleMeanFieldKernels(widths);
      if (typeof WebAssembly === 'object' && WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
    } catch {
      compiled = null; // no WebAssembly, or synchronous compilation refused
    }
    modules.set(key, compiled);
  }
  return modules.get(key)!;
}

/** Whether the WebAssembly SIMD mean field can run here. */
export function meanFieldWasmAvailable(): boolean {
  return kernelModule(labelLayout(4).widths) !== null;
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
function copyInputs(memory: WebAssembly.Memory, at: Regions, unary: Float32Array, pointCount: number, labels: number, paddedLabels: number, kernels: readonly MeanFieldKernel[], layout: MergedLayout): void {
  const floats = new Float32Array(memory.buffer);
  const ints = new Int32Array(memory.buffer);
  for (let i = 0, src = 0, dst = at.unary / 4; i < pointCount; i++, dst += paddedLabels) {
    for (let m = 0; m < labels; m++) floats[dst + m] = -unary[src++]!;
    for (let m = labels; m < paddedLabels; m++) floats[dst + m] = PADDING_LOGIT;
  }
  const rowBytes = paddedLabels * 4;
  // Entry = (row, splat, slice): float views shifted by one and two elements put the weights after the row.
  const splatWeights = new Float32Array(memory.buffer, 4);
  const sliceWeights = new Float32Array(memory.buffer, 8);
  writeEntries(kernels, pointCount, layout, { rows: ints, splatWeights, sliceWeights, start: at.entries / 4, stride: 3, rowScale: rowBytes });
  let dst = at.stream / 4;
  kernels.forEach(({ lattice }, k) => {
    const base = layout.rowBases[k]!;
    for (const { vertices, starts } of lattice.chains) {
      for (let c = 0; c + 1 < starts.length; c++) {
        for (let t = starts[c]!; t < starts[c + 1]!; t++) ints[dst++] = (vertices[t]! + base) * rowBytes;
        ints[dst++] = 0;
      }
    }
  });
}

/**
 * {@link meanField}'s iterations in WebAssembly; null when the kernels cannot
 * run here (no SIMD) or the memory cannot be allocated.
 * @param unary - U = −log p, `[N, M]`, label fastest
 * @param pointCount - N
 * @param labels - M
 * @param kernels - the pairwise terms (lattices over the same N points)
 * @param iterations - number of updates (0 returns softmax(−U))
 */
export function meanFieldWasm(unary: Float32Array, pointCount: number, labels: number, kernels: readonly MeanFieldKernel[], iterations: number): MeanFieldResult | null {
  const { paddedLabels, widths } = labelLayout(labels);
  const compiled = kernelModule(widths);
  if (compiled === null) return null;
  const rowBytes = paddedLabels * 4;
  const layout = mergedLayout(kernels);
  const at = regions(pointCount, labels, rowBytes, kernels, layout);
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: Math.ceil(at.end / PAGE_BYTES) });
  } catch {
    return null; // beyond the engine's memory limit
  }
  const kernel = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as MeanFieldKernelExports;
  copyInputs(memory, at, unary, pointCount, labels, paddedLabels, kernels, layout);

  const entryBytes = layout.entries * ENTRY_BYTES;
  const pass = (run: PixelPass, source: number, target: number): void =>
    run(at.unary, at.entries, entryBytes, pointCount, rowBytes, source, target, at.scratch, at.out, at.logits, labels * 4);
  if (iterations === 0 || layout.entries === 0) {
    pass(kernel.softmax, 0, 0);
  } else {
    let [current, next] = at.buffers;
    const values = new Float32Array(memory.buffer);
    pass(kernel.initial, 0, current);
    for (let it = 0; it < iterations; it++) {
      kernel.blur(current, at.stream, at.streamEnd, rowBytes);
      if (it === iterations - 1) {
        pass(kernel.finish, current, 0);
      } else {
        values.fill(0, next / 4, next / 4 + layout.vertexRows * paddedLabels);
        pass(kernel.update, current, next);
        [current, next] = [next, current];
      }
    }
  }

  const floats = new Float32Array(memory.buffer);
  const size = pointCount * labels;
  return { q: floats.slice(at.out / 4, at.out / 4 + size), logits: floats.slice(at.logits / 4, at.logits / 4 + size) };
}
