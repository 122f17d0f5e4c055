/**
 * The dense CRF's mean-field iterations as WebAssembly SIMD kernels, assembled
 * at run time by {@link assembleModule} (see `mean_field_wasm.ts` for the
 * memory layout they work on).
 *
 * Label vectors are padded to whole v128s (M → Mp, a multiple of 4). The
 * gather, the scatter and the blur handle them in *chunks* of `width` v128s
 * held in locals (registers); a row of Mp labels is `Mp / (4·width)` chunks.
 * The module is specialised for the chunk widths (known when assembling); the
 * chunk count, and whatever runs once per v128 (exp, log, output), are
 * run-time loops, which keeps the module small (older Chrome versions refused
 * synchronous compiles over 4 KB on the main thread).
 *
 * Exports:
 * - `unary(mode, staging, unary, pixels, inBytes, rowBytes, clip, labels)`:
 *   the padded −U rows from unpadded rows in `staging` (rows of `inBytes`,
 *   read as whole padded rows, so `staging` needs `rowBytes` bytes of slack):
 *   mode {@link UNARY_FROM_U} reads U and writes −U, mode
 *   {@link UNARY_FROM_PROBABILITIES} reads p and writes log(min(1, max(p, clip))).
 *   The padding lanes get −1e30, so their exp is exactly 0 and they are never
 *   the max.
 * - `blur(buffer, stream, streamEnd, rowBytes)`: the in-place lattice blur
 *   `v ← v + ½(prev + next)` along chains. The stream lists, chain after
 *   chain, the byte offsets of the chain's vertex rows in `buffer`, each
 *   chain ended by a 0 (row 0 is the never-blurred zero row).
 * - `pixels(mode, unary, entries, entryBytes, pixels, rowBytes, source,
 *   target, scratch, out, logits, outBytes)`: one pass over the pixels. Per
 *   pixel: a = −U (+ the gather Σ_e slice_e · source[row_e] if mode has
 *   {@link GATHER}), Q = softmax(a); then the scatter target[row_e] +=
 *   splat_e · Q if mode has {@link SCATTER}, else the output: Q to `out` and
 *   a to `logits`, unpadded (rows of `outBytes`). The output rows are stored
 *   as whole padded rows in pixel order, so each row's padding is overwritten
 *   by the next row; the regions need `rowBytes − outBytes` bytes of slack.
 * @module
 * @internal
 */
import { assembleModule, FunctionBuilder } from '../../core/wasm/assembler.js';
import { emitExp, expConstants } from '../../core/wasm/simd_exp.js';
import { emitLog, logConstants } from '../../core/wasm/simd_log.js';

/** Bytes of one pixel entry: (row byte offset i32, splat weight f32, slice weight f32). */
export const ENTRY_BYTES = 12;
const SPLAT_AT = 4;
const SLICE_AT = 8;
/** Bytes of a v128. */
const V = 16;

/** Chunk widths (v128s per chunk) a kernel module is specialised for. */
export interface KernelWidths {
  /** v128s per chunk in the pixel passes (1 … 8). */
  readonly pixel: number;
  /** v128s per chunk in the blur (1 … 8). */
  readonly blur: number;
}

/** `i32 local ← local + constant`. */
function increment(f: FunctionBuilder, local: string, by: number | string): void {
  f.get(local);
  if (typeof by === 'number') f.i32(by);
  else f.get(by);
  f.op('i32.add').set(local);
}

/** Pushes the sum of the i32 locals. */
function sum(f: FunctionBuilder, ...locals: string[]): void {
  f.get(locals[0]!);
  for (const local of locals.slice(1)) f.get(local).op('i32.add');
}

/** `for (c = 0; c < rowBytes; c += width·16) body`: the loop over a row's chunks (width 1: its v128s). */
function forEachChunk(f: FunctionBuilder, width: number, body: (f: FunctionBuilder) => void): void {
  f.i32(0).set('c');
  f.loopWhile((f) => f.get('c').get('row_bytes').op('i32.lt_u'), (f) => {
    body(f);
    increment(f, 'c', width * V);
  });
}

/** The padded −U of the labels' padding lanes: exp(−1e30 − max) is 0 and never the max. */
const PADDING_LOGIT = -1e30;
/** `unary` mode: the staged values are U. */
export const UNARY_FROM_U = 0;
/** `unary` mode: the staged values are probabilities p (U = −log clip(p)). */
export const UNARY_FROM_PROBABILITIES = 1;

/** Padded −U rows from unpadded rows of U or of probabilities (see the module comment). */
function buildUnary(): FunctionBuilder {
  const f = new FunctionBuilder([
    ['mode', 'i32'],
    ['staging', 'i32'],
    ['unary', 'i32'],
    ['pixels', 'i32'],
    ['in_bytes', 'i32'],
    ['row_bytes', 'i32'],
    ['clip', 'f32'],
    ['labels', 'f32'],
  ]);
  for (const name of ['i', 'c']) f.local(name, 'i32');
  for (const name of ['x', 'lane', 'four', 'count', 'padding', 'low', 'one']) f.local(name, 'v128');
  f.f32x4(4).set('four').get('labels').op('f32x4.splat').set('count').f32x4(PADDING_LOGIT).set('padding');
  f.get('clip').op('f32x4.splat').set('low').f32x4(1).set('one');
  logConstants(f);
  f.i32(0).set('i');
  f.loopWhile((f) => f.get('i').get('pixels').op('i32.lt_u'), (f) => {
    f.f32x4Lanes([0, 1, 2, 3]).set('lane'); // label index of each lane
    forEachChunk(f, 1, (f) => {
      sum(f, 'staging', 'c');
      f.loadV128().set('x');
      f.get('mode').ifElse(
        (f) => {
          f.get('x').get('low').op('f32x4.max').get('one').op('f32x4.min');
          emitLog(f);
          f.set('x');
        },
        (f) => void f.get('x').op('f32x4.neg').set('x'),
      );
      sum(f, 'unary', 'c');
      f.get('x').get('padding').get('lane').get('count').op('f32x4.lt').op('v128.bitselect').storeV128();
      f.get('lane').get('four').op('f32x4.add').set('lane');
    });
    increment(f, 'staging', 'in_bytes');
    increment(f, 'unary', 'row_bytes');
    increment(f, 'i', 1);
  });
  return f;
}

/**
 * The blur over a stream of chains (see the module comment), `width` v128s of
 * each vertex row at a time: the previous and current rows stay in locals, so
 * every vertex is loaded and stored once per chunk.
 */
function buildBlur(width: number): FunctionBuilder {
  const f = new FunctionBuilder([['buffer', 'i32'], ['stream', 'i32'], ['stream_end', 'i32'], ['row_bytes', 'i32']]);
  for (const name of ['c', 'p', 'here', 'next', 'there']) f.local(name, 'i32');
  const lanes = Array.from({ length: width }, (_, k) => k);
  for (const k of lanes) f.local(`prev${k}`, 'v128').local(`old${k}`, 'v128').local(`new${k}`, 'v128');
  f.local('half', 'v128').f32x4(0.5).set('half');
  forEachChunk(f, width, (f) => {
    f.get('stream').set('p');
    f.loopWhile((f) => f.get('p').get('stream_end').op('i32.lt_u'), (f) => {
      // The chain's head: no predecessor.
      sum(f, 'buffer', 'c');
      f.get('p').loadI32().op('i32.add').set('here');
      increment(f, 'p', 4);
      for (const k of lanes) f.get('here').loadV128(k * V).set(`old${k}`).f32x4(0).set(`prev${k}`);
      // Until the chain's 0: here ← old + ½(prev + next), then shift the window.
      f.loopWhile((f) => f.get('p').loadI32().tee('next'), (f) => {
        sum(f, 'buffer', 'c', 'next');
        f.set('there');
        for (const k of lanes) {
          f.get('there').loadV128(k * V).set(`new${k}`);
          f.get('here').get(`old${k}`).get(`prev${k}`).get(`new${k}`).op('f32x4.add').get('half').op('f32x4.mul').op('f32x4.add').storeV128(k * V);
          f.get(`old${k}`).set(`prev${k}`).get(`new${k}`).set(`old${k}`);
        }
        f.get('there').set('here');
        increment(f, 'p', 4);
      });
      increment(f, 'p', 4); // past the 0
      // The chain's tail: no successor.
      for (const k of lanes) f.get('here').get(`old${k}`).get(`prev${k}`).get('half').op('f32x4.mul').op('f32x4.add').storeV128(k * V);
    });
  });
  return f;
}

/** `pixels` mode bit: add the messages sliced from `source` to −U. */
export const GATHER = 1;
/** `pixels` mode bit: splat Q into `target` (otherwise write Q and the logits). */
export const SCATTER = 2;

/** One pass over the pixels (see the module comment), `width` v128s per chunk. */
function buildPixels(width: number): FunctionBuilder {
  const f = new FunctionBuilder([
    ['mode', 'i32'],
    ['unary', 'i32'],
    ['entries', 'i32'],
    ['entry_bytes', 'i32'],
    ['pixels', 'i32'],
    ['row_bytes', 'i32'],
    ['source', 'i32'],
    ['target', 'i32'],
    ['scratch', 'i32'],
    ['out', 'i32'],
    ['logits', 'i32'],
    ['out_bytes', 'i32'],
  ]);
  for (const name of ['i', 'c', 'e', 'first', 'end', 'at', 'exps', 'gather', 'scatter']) f.local(name, 'i32');
  const lanes = Array.from({ length: width }, (_, k) => k);
  for (const k of lanes) f.local(`a${k}`, 'v128');
  for (const name of ['max', 'shift', 'total', 'inverse', 'w', 'x']) f.local(name, 'v128');
  expConstants(f);
  f.get('mode').i32(GATHER).op('i32.and').set('gather');
  f.get('mode').i32(SCATTER).op('i32.and').set('scatter');
  f.get('scratch').get('row_bytes').op('i32.add').set('exps'); // exp(a − max) row after the a row
  f.get('entries').set('first');
  f.i32(0).set('i');
  f.loopWhile((f) => f.get('i').get('pixels').op('i32.lt_u'), (f) => {
    sum(f, 'first', 'entry_bytes');
    f.set('end');
    // a = −U + Σ_e slice_e · source[row_e], chunk by chunk, kept in scratch; its max.
    f.f32x4(-Infinity).set('max');
    forEachChunk(f, width, (f) => {
      sum(f, 'unary', 'c');
      f.set('at');
      for (const k of lanes) f.get('at').loadV128(k * V).set(`a${k}`);
      f.get('gather').ifElse((f) => {
        f.get('first').set('e');
        f.loopWhile((f) => f.get('e').get('end').op('i32.lt_u'), (f) => {
          f.get('source').get('e').loadI32().op('i32.add').get('c').op('i32.add').set('at');
          f.get('e').loadF32(SLICE_AT).op('f32x4.splat').set('w');
          for (const k of lanes) f.get(`a${k}`).get('w').get('at').loadV128(k * V).op('f32x4.mul').op('f32x4.add').set(`a${k}`);
          increment(f, 'e', ENTRY_BYTES);
        });
      });
      sum(f, 'scratch', 'c');
      f.set('at');
      for (const k of lanes) {
        f.get('at').get(`a${k}`).storeV128(k * V);
        f.get('max').get(`a${k}`).op('f32x4.pmax').set('max');
      }
    });
    // Q ∝ exp(a − max a); padding lanes hold −1e30 and give exactly 0.
    f.reduceLanes('max', 'f32.max');
    f.op('f32x4.splat').set('shift');
    f.f32x4(0).set('total');
    forEachChunk(f, 1, (f) => {
      sum(f, 'exps', 'c');
      sum(f, 'scratch', 'c');
      f.loadV128().get('shift').op('f32x4.sub');
      emitExp(f);
      f.tee('x').storeV128();
      f.get('total').get('x').op('f32x4.add').set('total');
    });
    f.f32(1);
    f.reduceLanes('total', 'f32.add');
    f.op('f32.div').op('f32x4.splat').set('inverse');
    f.get('scatter').ifElse(
      (f) => {
        // target[row_e] += splat_e · Q, chunk by chunk.
        forEachChunk(f, width, (f) => {
          sum(f, 'exps', 'c');
          f.set('at');
          for (const k of lanes) f.get('at').loadV128(k * V).get('inverse').op('f32x4.mul').set(`a${k}`);
          f.get('first').set('e');
          f.loopWhile((f) => f.get('e').get('end').op('i32.lt_u'), (f) => {
            f.get('target').get('e').loadI32().op('i32.add').get('c').op('i32.add').set('at');
            f.get('e').loadF32(SPLAT_AT).op('f32x4.splat').set('w');
            for (const k of lanes) f.get('at').get('at').loadV128(k * V).get('w').get(`a${k}`).op('f32x4.mul').op('f32x4.add').storeV128(k * V);
            increment(f, 'e', ENTRY_BYTES);
          });
        });
      },
      (f) => {
        // Q to out, a to logits (unpadded rows; this row's padding lands on the next row).
        forEachChunk(f, 1, (f) => {
          sum(f, 'out', 'c');
          sum(f, 'exps', 'c');
          f.loadV128().get('inverse').op('f32x4.mul').storeV128();
          sum(f, 'logits', 'c');
          sum(f, 'scratch', 'c');
          f.loadV128().storeV128();
        });
        increment(f, 'out', 'out_bytes');
        increment(f, 'logits', 'out_bytes');
      },
    );
    increment(f, 'unary', 'row_bytes');
    f.get('end').set('first');
    increment(f, 'i', 1);
  });
  return f;
}

/** The kernels' exports (byte addresses into the module's memory; see the module comment). */
export interface MeanFieldKernelExports {
  /** Padded −U rows from unpadded rows of U or p in `staging`. */
  unary(mode: number, staging: number, unary: number, pixels: number, inBytes: number, rowBytes: number, clip: number, labels: number): void;
  /** In-place blur of `buffer` along the chain stream `[stream, streamEnd)`. */
  blur(buffer: number, stream: number, streamEnd: number, rowBytes: number): void;
  /** One pass over the pixels: Q = softmax(−U [+ slice(source)]), splatted into `target` or written out. */
  pixels(
    mode: number,
    unary: number,
    entries: number,
    entryBytes: number,
    pixels: number,
    rowBytes: number,
    source: number,
    target: number,
    scratch: number,
    out: number,
    logits: number,
    outBytes: number,
  ): void;
}

/**
 * The module's bytes for the given chunk widths (it imports its memory as
 * `env.memory`).
 * @param widths - v128s per chunk of the pixel passes and of the blur
 */
export function assembleMeanFieldKernels(widths: KernelWidths): Uint8Array<ArrayBuffer> {
  return assembleModule({ unary: buildUnary(), blur: buildBlur(widths.blur), pixels: buildPixels(widths.pixel) });
}
