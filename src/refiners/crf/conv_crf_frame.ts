/**
 * The *frame* layout the ConvCrf's WebAssembly window kernels
 * (`conv_crf_window_wasm.ts`) work on, the instance that runs them, and the
 * copies between tensors and the frame.
 *
 * The pooled grid `[B, h, w]` with every item padded by the window radius r
 * on all four sides (`hp = h + 2r` rows of `wp = w + 2r`), flattened item by
 * item: pixel (b, y, x) is position `b·hp·wp + (y + r)·wp + (x + r)`, and the
 * neighbour under tap t = (dy + r)·k + (dx + r) is the position
 * `s_t = dy·wp + dx` further on — for every position, with no bound to check:
 * a tap off the grid lands on padding, where the features are 1e15 (the
 * Gaussian underflows to exactly 0) and the probabilities 0. The positions
 * (a multiple of 4, for the SIMD loops) sit between two margins of zeros
 * wide enough for any shift.
 *
 * Planes hold one float per frame slot (`margin + positions + margin`);
 * rows hold `Cp` floats per slot (C padded to a multiple of 4). The memory,
 * every region 16-byte aligned:
 *
 * ```text
 * tables    T i32 plane shifts, 2T + 2T i32 (weight, value) offset pairs (forward, gradient of Q)
 * real      plane          1 on the grid's pixels, 0 on padding
 * weights   T planes       A, the merged window kernel (kept between calls: see `resident`),
 *                          or ∂A in the window kernel's backward pass
 * scales    plane          per-position normaliser u
 * taps      T planes       one kernel's K, or the gradient of A
 * features  Dmax planes    one kernel's features
 * norms     plane          ∂n (backward)
 * parts     plane          per-position parts of ∂w (backward)
 * gradients Dmax planes    ∂f (backward)
 * values    rows           Q
 * upstream  rows           the gradient of the messages
 * out       rows           messages, or the gradient of Q
 * ```
 * @module
 * @internal
 */
import { instantiateWithOwnMemory } from '../../core/wasm/instantiate.js';
import { KernelCache } from '../../core/wasm/kernel_cache.js';
import { assembleWindowKernels, type WindowKernelExports } from './conv_crf_window_wasm.js';

/** Features of padding positions: far enough from any real feature that the Gaussian underflows to 0. */
export const PADDING_FEATURE = 1e15;
const PAGE_BYTES = 65536;

/** Sizes and offsets of the frame of one grid and window. */
export interface FrameLayout {
  /** Batch items B. */
  readonly batch: number;
  /** Grid rows h. */
  readonly height: number;
  /** Grid columns w. */
  readonly width: number;
  /** Window side k. */
  readonly kernelSize: number;
  /** Taps T = k². */
  readonly taps: number;
  /** Window radius r. */
  readonly radius: number;
  /** Padded row length wp = w + 2r. */
  readonly paddedWidth: number;
  /** Positions per item, (h + 2r)·wp. */
  readonly itemPositions: number;
  /** Positions the kernels loop over: B·(h + 2r)·wp rounded up to a multiple of 4. */
  readonly positions: number;
  /** Zero slots before and after the positions (a multiple of 4, ≥ the largest shift). */
  readonly margin: number;
  /** Slots per plane, 2·margin + positions. */
  readonly slots: number;
  /** Shift of each tap, s_t, in positions. */
  readonly shifts: readonly number[];
  /** Identifies the layout (for the resident weights). */
  readonly key: string;
}

const roundUp4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * The frame of a `[batch, height, width]` grid and a k×k window.
 * @param batch - B
 * @param height - h
 * @param width - w
 * @param kernelSize - k (odd)
 */
export function frameLayout(batch: number, height: number, width: number, kernelSize: number): FrameLayout {
  const radius = (kernelSize - 1) / 2;
  const paddedWidth = width + 2 * radius;
  const itemPositions = (height + 2 * radius) * paddedWidth;
  const positions = roundUp4(batch * itemPositions);
  const margin = roundUp4(radius * paddedWidth + radius);
  const shifts: number[] = [];
  for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) shifts.push(dy * paddedWidth + dx);
  const key = `${batch},${height},${width},${kernelSize}`;
  return { batch, height, width, kernelSize, taps: kernelSize * kernelSize, radius, paddedWidth, itemPositions, positions, margin, slots: 2 * margin + positions, shifts, key };
}

/** Calls `visit(n, slot)` for every grid pixel n (NHWC order) and its slot in a plane. */
export function forEachPixel(layout: FrameLayout, visit: (pixel: number, slot: number) => void): void {
  const { batch, height, width, radius, paddedWidth, itemPositions, margin } = layout;
  for (let b = 0, n = 0; b < batch; b++) {
    for (let y = 0; y < height; y++) {
      const rowSlot = margin + b * itemPositions + (y + radius) * paddedWidth + radius;
      for (let x = 0; x < width; x++, n++) visit(n, rowSlot + x);
    }
  }
}

/** Byte addresses of the regions (see the module comment). */
export interface FrameRegions {
  /** T i32: s_t·4. */
  readonly planeShifts: number;
  /** 2T i32: (t·planeBytes, s_t·rowBytes). */
  readonly forwardTable: number;
  /** 2T i32: (t·planeBytes − 4s_t, −s_t·rowBytes). */
  readonly gradientTable: number;
  /** Real-pixel mask plane. */
  readonly real: number;
  /** A, T planes. */
  readonly weights: number;
  /** u plane. */
  readonly scales: number;
  /** K (or ∂A), T planes. */
  readonly taps: number;
  /** Feature planes. */
  readonly features: number;
  /** ∂n plane. */
  readonly norms: number;
  /** ∂w parts plane. */
  readonly parts: number;
  /** ∂f planes. */
  readonly featureGrads: number;
  /** Q rows. */
  readonly values: number;
  /** ∂msg rows. */
  readonly upstream: number;
  /** Output rows. */
  readonly out: number;
  /** Bytes of a plane. */
  readonly planeBytes: number;
  /** Bytes of a row, 4·Cp. */
  readonly rowBytes: number;
  /** Bytes in all. */
  readonly end: number;
}

/**
 * The regions for a layout, `dims` feature planes and `channels` values per position.
 * @param layout - the frame
 * @param dims - the most feature dimensions of any kernel
 * @param channels - C (padded to a multiple of 4 here)
 */
export function frameRegions(layout: FrameLayout, dims: number, channels: number): FrameRegions {
  const planeBytes = 4 * layout.slots;
  const rowBytes = 4 * roundUp4(channels);
  let at = 0;
  const take = (bytes: number): number => {
    const start = at;
    at += Math.ceil(bytes / 16) * 16;
    return start;
  };
  const planeShifts = take(4 * layout.taps);
  const forwardTable = take(8 * layout.taps);
  const gradientTable = take(8 * layout.taps);
  // Weights first after the fixed-size parts: their address depends on the layout only, so they stay resident across channel counts.
  const real = take(planeBytes);
  const weights = take(layout.taps * planeBytes);
  const scales = take(planeBytes);
  const taps = take(layout.taps * planeBytes);
  const features = take(dims * planeBytes);
  const norms = take(planeBytes);
  const parts = take(planeBytes);
  const featureGrads = take(dims * planeBytes);
  const rowsBytes = layout.slots * rowBytes;
  const values = take(rowsBytes);
  const upstream = take(rowsBytes);
  const out = take(rowsBytes);
  return { planeShifts, forwardTable, gradientTable, real, weights, scales, taps, features, norms, parts, featureGrads, values, upstream, out, planeBytes, rowBytes, end: at };
}

/** The kernel module on its own memory, and which weights it holds. */
export interface WindowInstance {
  /** The kernels. */
  readonly kernel: WindowKernelExports;
  /** Their memory. */
  readonly memory: WebAssembly.Memory;
  /** The tensor whose values the `weights` region holds, and for which layout (a later call may have overwritten them). */
  resident: { readonly dataId: object; readonly key: string } | null;
}

/** The window kernels' instance (one: the calls are synchronous). */
export const windowKernelCache = new KernelCache<string, WindowInstance>();
const INSTANCE_KEY = 'conv-crf-window';

function windowInstance(): WindowInstance | null {
  return windowKernelCache.get(INSTANCE_KEY, () => {
    const own = instantiateWithOwnMemory(assembleWindowKernels());
    return own === null ? null : { kernel: own.exports as unknown as WindowKernelExports, memory: own.memory, resident: null };
  });
}

/** Whether the WebAssembly SIMD window kernels can run here (false: no WebAssembly or no SIMD). */
export function windowKernelsAvailable(): boolean {
  return windowInstance() !== null;
}

/** A prepared frame: the instance, its regions, and float/int views of its memory. */
export interface PreparedFrame {
  /** The instance. */
  readonly instance: WindowInstance;
  /** The regions. */
  readonly at: FrameRegions;
  /** Float view of the whole memory. */
  readonly floats: Float32Array;
  /** Int view of the whole memory. */
  readonly ints: Int32Array;
}

/**
 * The instance with memory for `layout` and its tables and real-pixel mask
 * written. Throws a RangeError when the engine refuses the memory.
 * @param layout - the frame
 * @param dims - feature planes needed
 * @param channels - values per position
 */
export function prepareFrame(layout: FrameLayout, dims: number, channels: number): PreparedFrame {
  const instance = windowInstance();
  if (instance === null) throw new Error('ConvCrf: the WebAssembly window kernels cannot run here');
  const at = frameRegions(layout, dims, channels);
  const missing = Math.ceil((at.end - instance.memory.buffer.byteLength) / PAGE_BYTES);
  if (missing > 0) {
    try {
      instance.memory.grow(missing);
    } catch {
      windowKernelCache.release(INSTANCE_KEY);
      throw new RangeError(`ConvCrf: cannot allocate ${(at.end / 2 ** 20).toFixed(0)} MiB for the window kernels`);
    }
  }
  const floats = new Float32Array(instance.memory.buffer);
  const ints = new Int32Array(instance.memory.buffer);
  const { planeBytes, rowBytes } = at;
  layout.shifts.forEach((s, t) => {
    ints[at.planeShifts / 4 + t] = 4 * s;
    ints[at.forwardTable / 4 + 2 * t] = t * planeBytes;
    ints[at.forwardTable / 4 + 2 * t + 1] = s * rowBytes;
    ints[at.gradientTable / 4 + 2 * t] = t * planeBytes - 4 * s;
    ints[at.gradientTable / 4 + 2 * t + 1] = -s * rowBytes;
  });
  const real = at.real / 4;
  floats.fill(0, real, real + layout.slots);
  forEachPixel(layout, (_, slot) => void (floats[real + slot] = 1));
  return { instance, at, floats, ints };
}

/** Call when done with the frame: drops the instance if the kernel caches hold too much memory. */
export function releaseFrame(): void {
  windowKernelCache.release(INSTANCE_KEY);
}

/** Zeroes the margins of `count` planes from `base` (bytes): the kernels write positions only, and neighbours read the margins. */
export function zeroMargins(frame: PreparedFrame, layout: FrameLayout, base: number, count: number): void {
  for (let i = 0, plane = base / 4; i < count; i++, plane += layout.slots) {
    frame.floats.fill(0, plane, plane + layout.margin);
    frame.floats.fill(0, plane + layout.margin + layout.positions, plane + layout.slots);
  }
}

/**
 * Writes `[N, D]` pixel-major features into D planes at `base` (bytes):
 * padding and margins get {@link PADDING_FEATURE}.
 */
export function writeFeaturePlanes(frame: PreparedFrame, layout: FrameLayout, base: number, values: Float32Array, dims: number): void {
  const { floats } = frame;
  const planeFloats = layout.slots;
  const start = base / 4;
  floats.fill(PADDING_FEATURE, start, start + dims * planeFloats);
  forEachPixel(layout, (n, slot) => {
    for (let d = 0; d < dims; d++) floats[start + d * planeFloats + slot] = values[n * dims + d]!;
  });
}

/**
 * Calls `visit(pixel, slot, count)` for every image row of the grid: its
 * first pixel (NHWC order), that pixel's slot, and the row's pixel count.
 */
function forEachImageRow(layout: FrameLayout, visit: (pixel: number, slot: number, count: number) => void): void {
  const { batch, height, width, radius, paddedWidth, itemPositions, margin } = layout;
  for (let b = 0, n = 0; b < batch; b++) {
    for (let y = 0; y < height; y++, n += width) visit(n, margin + b * itemPositions + (y + radius) * paddedWidth + radius, width);
  }
}

/** Writes `[N, C]` pixel-major values into rows at `base` (bytes), zero elsewhere. */
export function writeRows(frame: PreparedFrame, layout: FrameLayout, base: number, values: Float32Array, channels: number): void {
  const { floats, at } = frame;
  const width = at.rowBytes / 4;
  const start = base / 4;
  floats.fill(0, start, start + layout.slots * width);
  forEachImageRow(layout, (n, slot, count) => {
    // An image row is one run when C is already a multiple of 4; else pixel by pixel.
    if (width === channels) floats.set(values.subarray(n * channels, (n + count) * channels), start + slot * width);
    else for (let i = 0; i < count; i++) for (let c = 0, from = (n + i) * channels, to = start + (slot + i) * width; c < channels; c++) floats[to + c] = values[from + c]!;
  });
}

/** Reads `[N, C]` pixel-major values from rows at `base` (bytes). */
export function readRows(frame: PreparedFrame, layout: FrameLayout, base: number, channels: number): Float32Array {
  const { floats, at } = frame;
  const width = at.rowBytes / 4;
  const start = base / 4;
  const out = new Float32Array(layout.batch * layout.height * layout.width * channels);
  forEachImageRow(layout, (n, slot, count) => {
    if (width === channels) out.set(floats.subarray(start + slot * width, start + (slot + count) * width), n * channels);
    else for (let i = 0; i < count; i++) for (let c = 0, from = start + (slot + i) * width, to = (n + i) * channels; c < channels; c++) out[to + c] = floats[from + c]!;
  });
  return out;
}

/** Reads `[N, D]` pixel-major values from D planes of floats (slot-indexed, `slots` apart). */
export function readPlanes(planes: Float32Array | Float64Array, layout: FrameLayout, dims: number): Float32Array {
  const out = new Float32Array(layout.batch * layout.height * layout.width * dims);
  forEachPixel(layout, (n, slot) => {
    for (let d = 0; d < dims; d++) out[n * dims + d] = planes[d * layout.slots + slot]!;
  });
  return out;
}
