/**
 * A tiny WebAssembly assembler: just enough of the binary format (i32, f32 and
 * 128-bit SIMD instructions, structured control flow, an imported memory) to
 * build the run-time kernels (the random walk's, the dense CRF's) from
 * readable TypeScript, with no toolchain and no opaque binary blob in the
 * repository.
 *
 * Control flow is structured as in the text format: {@link FunctionBuilder.block},
 * {@link FunctionBuilder.loop} and {@link FunctionBuilder.ifElse} open a label,
 * and {@link FunctionBuilder.br} / {@link FunctionBuilder.brIf} name a label
 * by its depth (0 = the innermost enclosing one). {@link FunctionBuilder.loopWhile}
 * covers the common `while (cond) body` without depths.
 * @module
 */

/** Value types of the locals and parameters used by the kernels. */
export type WasmType = 'i32' | 'f32' | 'f64' | 'v128';

const TYPE_CODE: Record<WasmType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Unsigned LEB128. */
function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (32-bit values). */
function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8(name: string): number[] {
  const bytes = Array.from(new TextEncoder().encode(name));
  return [...uleb(bytes.length), ...bytes];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** SIMD opcodes (after the 0xfd prefix) that take no immediate. */
const SIMD_OPS = {
  'f32x4.eq': 0x41,
  'f32x4.lt': 0x43,
  'f32x4.gt': 0x44,
  'f32x4.ge': 0x46,
  'v128.and': 0x4e,
  'v128.andnot': 0x4f,
  'v128.or': 0x50,
  'v128.bitselect': 0x52,
  'v128.any_true': 0x53,
  'i32x4.shl': 0xab,
  'i32x4.shr_s': 0xac,
  'i32x4.add': 0xae,
  'i32x4.sub': 0xb1,
  'f32x4.abs': 0xe0,
  'f32x4.neg': 0xe1,
  'f32x4.sqrt': 0xe3,
  'f32x4.add': 0xe4,
  'f32x4.sub': 0xe5,
  'f32x4.mul': 0xe6,
  'f32x4.div': 0xe7,
  'f32x4.min': 0xe8,
  'f32x4.max': 0xe9,
  'f32x4.pmin': 0xea,
  'f32x4.pmax': 0xeb,
  'f32x4.convert_i32x4_s': 0xfa,
} as const;

/** Plain (non-SIMD) opcodes that take no immediate. */
const PLAIN_OPS = {
  drop: 0x1a,
  select: 0x1b,
  'i32.eqz': 0x45,
  'i32.eq': 0x46,
  'i32.ne': 0x47,
  'i32.lt_s': 0x48,
  'i32.lt_u': 0x49,
  'i32.gt_s': 0x4a,
  'i32.gt_u': 0x4b,
  'i32.le_s': 0x4c,
  'i32.le_u': 0x4d,
  'i32.ge_s': 0x4e,
  'i32.ge_u': 0x4f,
  'f64.lt': 0x63,
  'f64.gt': 0x64,
  'f64.ge': 0x66,
  'i32.add': 0x6a,
  'i32.sub': 0x6b,
  'i32.mul': 0x6c,
  'i32.and': 0x71,
  'i32.or': 0x72,
  'i32.xor': 0x73,
  'i32.shl': 0x74,
  'i32.shr_u': 0x76,
  'f32.add': 0x92,
  'f32.sub': 0x93,
  'f32.mul': 0x94,
  'f32.nearest': 0x90,
  'f32.div': 0x95,
  'f32.min': 0x96,
  'f32.max': 0x97,
  'f64.add': 0xa0,
  'f64.sub': 0xa1,
  'f64.mul': 0xa2,
  'i32.trunc_f32_s': 0xa8,
  'f32.convert_i32_s': 0xb2,
  'f32.demote_f64': 0xb6,
  'f64.convert_i32_s': 0xb7,
  'f64.promote_f32': 0xbb,
} as const;

/** Block type "no result" of `block`, `loop` and `if`. */
const EMPTY_BLOCK = 0x40;

/** An instruction without immediates, by its text-format name. */
export type SimpleOp = keyof typeof SIMD_OPS | keyof typeof PLAIN_OPS;

/**
 * Builds one function body. Locals are named; every emitter returns `this`,
 * so bodies read like the text format.
 */
export class FunctionBuilder {
  private readonly code: number[] = [];
  private readonly localIndex = new Map<string, number>();
  private readonly localTypes: WasmType[] = [];

  /**
   * @param params - parameter names and types, in order
   * @param result - the result type, if any
   */
  constructor(readonly params: ReadonlyArray<readonly [string, WasmType]>, readonly result?: WasmType) {
    params.forEach(([name], i) => this.localIndex.set(name, i));
  }

  /** Declares a local (idempotent for the same name and type). */
  local(name: string, type: WasmType): this {
    if (!this.localIndex.has(name)) {
      this.localIndex.set(name, this.params.length + this.localTypes.length);
      this.localTypes.push(type);
    }
    return this;
  }

  private index(name: string): number {
    const i = this.localIndex.get(name);
    if (i === undefined) throw new Error(`wasm assembler: unknown local ${name}`);
    return i;
  }

  /** Pushes a local. */
  get(name: string): this {
    this.code.push(0x20, ...uleb(this.index(name)));
    return this;
  }

  /** Pops into a local. */
  set(name: string): this {
    this.code.push(0x21, ...uleb(this.index(name)));
    return this;
  }

  /** Stores the top of the stack in a local and keeps it on the stack (`local.tee`). */
  tee(name: string): this {
    this.code.push(0x22, ...uleb(this.index(name)));
    return this;
  }

  /** Pushes an i32 constant. */
  i32(value: number): this {
    this.code.push(0x41, ...sleb(value));
    return this;
  }

  /** Pushes an f32 constant. */
  f32(value: number): this {
    const bytes = new Uint8Array(new Float32Array([value]).buffer);
    this.code.push(0x43, ...bytes);
    return this;
  }

  /** Pushes an f64 constant. */
  f64(value: number): this {
    const bytes = new Uint8Array(new Float64Array([value]).buffer);
    this.code.push(0x44, ...bytes);
    return this;
  }

  /** Pushes a v128 with the same f32 in every lane. */
  f32x4(value: number): this {
    return this.f32(value).op('f32x4.splat');
  }

  /** Pushes a v128 with the same i32 in every lane. */
  i32x4(value: number): this {
    return this.i32(value).op('i32x4.splat');
  }

  /**
   * Pushes a v128 constant with four f32 lanes (`v128.const`).
   * @param lanes - lane 0 … 3
   */
  f32x4Lanes(lanes: readonly [number, number, number, number]): this {
    this.code.push(0xfd, ...uleb(0x0c), ...new Uint8Array(Float32Array.from(lanes).buffer));
    return this;
  }

  /** Emits an instruction without immediates (or a splat). */
  op(name: SimpleOp | 'f32x4.splat' | 'i32x4.splat'): this {
    if (name === 'f32x4.splat') this.code.push(0xfd, ...uleb(0x13));
    else if (name === 'i32x4.splat') this.code.push(0xfd, ...uleb(0x11));
    else if (name in SIMD_OPS) this.code.push(0xfd, ...uleb(SIMD_OPS[name as keyof typeof SIMD_OPS]));
    else this.code.push(PLAIN_OPS[name as keyof typeof PLAIN_OPS]);
    return this;
  }

  /** `f32.load` from the address on the stack (+ byte offset). */
  loadF32(offset = 0): this {
    this.code.push(0x2a, 2, ...uleb(offset));
    return this;
  }

  /** `f32.store` (stack: address, value). */
  storeF32(offset = 0): this {
    this.code.push(0x38, 2, ...uleb(offset));
    return this;
  }

  /** `i32.load` from the address on the stack (+ byte offset). */
  loadI32(offset = 0): this {
    this.code.push(0x28, 2, ...uleb(offset));
    return this;
  }

  /** `i32.store` (stack: address, value). */
  storeI32(offset = 0): this {
    this.code.push(0x36, 2, ...uleb(offset));
    return this;
  }

  /** `v128.load` (unaligned allowed; hint 4-byte alignment). */
  loadV128(offset = 0): this {
    this.code.push(0xfd, ...uleb(0x00), 2, ...uleb(offset));
    return this;
  }

  /** `v128.store` (stack: address, value). */
  storeV128(offset = 0): this {
    this.code.push(0xfd, ...uleb(0x0b), 2, ...uleb(offset));
    return this;
  }

  /**
   * `i8x16.shuffle` of the two v128s on the stack.
   * @param bytes - 16 byte indices: 0–15 pick from the first operand, 16–31 from the second
   */
  shuffle(bytes: readonly number[]): this {
    if (bytes.length !== 16 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 31)) throw new Error('wasm assembler: a shuffle takes 16 byte indices in [0, 31]');
    this.code.push(0xfd, ...uleb(0x0d), ...bytes);
    return this;
  }

  /** `f32x4.extract_lane`. */
  lane(index: number): this {
    this.code.push(0xfd, ...uleb(0x1f), index);
    return this;
  }

  /**
   * Horizontal reduction of a v128 local's four f32 lanes onto the stack:
   * `((l0 op l1) op l2) op l3`.
   * @param name - the v128 local
   * @param op - `f32.max` or `f32.add`
   */
  reduceLanes(name: string, op: 'f32.max' | 'f32.add'): this {
    this.get(name).lane(0);
    for (let lane = 1; lane < 4; lane++) this.get(name).lane(lane).op(op);
    return this;
  }

  /**
   * `while (cond) body`: `cond` must push one i32. Inside `body`, `br(0)`
   * continues with the next test and `br(1)` breaks out.
   * @param cond - emits the condition
   * @param body - emits the loop body
   */
  loopWhile(cond: (f: this) => void, body: (f: this) => void): this {
    this.code.push(0x02, 0x40, 0x03, 0x40); // block, loop
    cond(this);
    this.code.push(0x45, 0x0d, 1); // i32.eqz, br_if to the block's end
    body(this);
    this.code.push(0x0c, 0, 0x0b, 0x0b); // br loop; end loop; end block
    return this;
  }

  /**
   * `block … end`: a `br` to it (depth counted from inside `body`) jumps past its end.
   * @param body - emits the block's instructions
   */
  block(body: (f: this) => void): this {
    this.code.push(0x02, EMPTY_BLOCK);
    body(this);
    this.code.push(0x0b);
    return this;
  }

  /**
   * `loop … end`: a `br` to it jumps back to its start; falling off the end leaves it.
   * @param body - emits the loop's instructions
   */
  loop(body: (f: this) => void): this {
    this.code.push(0x03, EMPTY_BLOCK);
    body(this);
    this.code.push(0x0b);
    return this;
  }

  /**
   * `if … else … end` on the i32 popped from the stack (non-zero runs `then`).
   * Inside either branch the `if` itself is label depth 0.
   * @param then - emits the taken branch
   * @param otherwise - emits the other branch, if any
   */
  ifElse(then: (f: this) => void, otherwise?: (f: this) => void): this {
    this.code.push(0x04, EMPTY_BLOCK);
    then(this);
    if (otherwise !== undefined) {
      this.code.push(0x05);
      otherwise(this);
    }
    this.code.push(0x0b);
    return this;
  }

  /**
   * `br depth`: leaves the enclosing block/if `depth` levels out, or restarts that loop.
   * @param depth - 0 for the innermost enclosing label
   */
  br(depth: number): this {
    this.code.push(0x0c, ...uleb(depth));
    return this;
  }

  /**
   * `br_if depth`: {@link FunctionBuilder.br} when the popped i32 is non-zero.
   * @param depth - 0 for the innermost enclosing label
   */
  brIf(depth: number): this {
    this.code.push(0x0d, ...uleb(depth));
    return this;
  }

  /** The encoded body (locals + code + end). */
  encode(): number[] {
    const groups = this.localTypes.map((t) => [1, TYPE_CODE[t]]);
    const body = [...vector(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }

  /** The function type, encoded. */
  encodeType(): number[] {
    const params = this.params.map(([, t]) => TYPE_CODE[t]);
    const results = this.result === undefined ? [] : [TYPE_CODE[this.result]];
    return [0x60, ...uleb(params.length), ...params, ...uleb(results.length), ...results];
  }
}

/**
 * Encodes a module that imports its memory as `env.memory` and exports the
 * given functions by name.
 * @param functions - exported name → body
 */
export function assembleModule(functions: Record<string, FunctionBuilder>): Uint8Array<ArrayBuffer> {
  const entries = Object.entries(functions);
  const section = (id: number, contents: number[]): number[] => [id, ...uleb(contents.length), ...contents];
  const types = section(1, vector(entries.map(([, f]) => f.encodeType())));
  const imports = section(2, vector([[...utf8('env'), ...utf8('memory'), 0x02, 0x00, 1]]));
  const declarations = section(3, vector(entries.map((_, i) => uleb(i))));
  const exports = section(7, vector(entries.map(([name], i) => [...utf8(name), 0x00, ...uleb(i)])));
  const code = section(10, vector(entries.map(([, f]) => f.encode())));
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...types, ...imports, ...declarations, ...exports, ...code]);
}
