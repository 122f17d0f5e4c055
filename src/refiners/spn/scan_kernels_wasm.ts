/**
 * WebAssembly SIMD kernels of SPN's scan, gate preparation fused in:
 * `forward` runs one direction of one batch entry,
 *
 * ```text
 * ĝ_k = m_k · g_k / div(Σ_i |g_i|)        (m_k: 0 for neighbours off the image)
 * h_0 = x_0,  h_t[r] = (1 − Σ_k ĝ_k) x_t[r] + Σ_k ĝ_k h_{t−1}[r + k − 1]
 * ```
 *
 * reading the raw gates (so the normalised, masked gate maps are never
 * written), and `backward` its adjoint scan from `dy`, giving `∂x`
 * (accumulated over directions) and `∂g` (through the normalisation) in one
 * reverse pass. Four channels per vector; a channel count that is not a
 * multiple of four ends with one vector overlapping the previous one (the
 * forward and the `∂g` stores rewrite identical values there; the `∂x`
 * accumulation masks the lanes already added). Every tensor is addressed by
 * a start, a byte stride per step and one per row, so the same code walks
 * all four directions over NHWC memory without transposes.
 * @module
 * @internal
 */
import { assembleModule, FunctionBuilder } from '../../core/wasm/assembler.js';
import type { SpnNormalize } from './directions.js';
import type { ScanTaps } from './scan.js';

/** The module's exports (byte addresses and byte strides; strides may be negative). */
export interface SpnScanKernelExports {
  forward(x: number, xStep: number, xRow: number, g: number, gStep: number, gRow: number, h: number, hStep: number, hRow: number, steps: number, rows: number): void;
  backward(
    x: number, xStep: number, xRow: number, g: number, gStep: number, gRow: number, h: number, hStep: number, hRow: number,
    steps: number, rows: number, dy: number, dx: number, dg: number, w: number, winner: number, direction: number,
  ): void;
  merge(h: number, out: number, winner: number, count: number, n: number): void;
}

const SHARED_PARAMS: Array<[string, 'i32']> = ['x', 'x_step', 'x_row', 'g', 'g_step', 'g_row', 'h', 'h_step', 'h_row', 'steps', 'rows'].map((name) => [name, 'i32']);

/** Channel vectors unrolled up to this many (C ≤ 64); beyond, a loop runs over them. */
const MAX_UNROLLED_VECTORS = 16;

/** Which neighbours a row has: the one above (r − 1) and below (r + 1) across the step. */
interface RowKind {
  readonly up: boolean;
  readonly down: boolean;
}

/** Gate k's tap name in a three-way block: g1 reads row r − 1, g2 row r, g3 row r + 1. */
const TAP_NAMES = ['1', '2', '3'] as const;

/** Emits code shared by both kernels on one {@link FunctionBuilder}, for C channels known when assembling. */
class ScanEmitter {
  /** Bytes of C floats. */
  readonly channelBytes: number;
  /** The channel vector being emitted: its byte offset when unrolled, undefined inside the runtime loop (local `j`). */
  private vectorOffset: number | undefined = 0;

  constructor(readonly f: FunctionBuilder, readonly taps: ScanTaps, readonly normalize: SpnNormalize, readonly channels: number) {
    this.channelBytes = 4 * channels;
    for (const name of ['t', 'r', 'j', 'px', 'pg', 'ph', 'pp', 'pp_up', 'pp_down']) f.local(name, 'i32');
    for (const name of ['one', 'zero', 'minus_one', 'lane_mask', 's', 'inv', 'sum', 'xv']) f.local(name, 'v128');
    for (const k of TAP_NAMES) f.local(`g${k}`, 'v128').local(`n${k}`, 'v128');
    f.f32x4(1).set('one').f32x4(0).set('zero').f32x4(-1).set('minus_one');
    // Lanes of the overlapping last vector not covered by the full vectors: lane ≥ 4 − C mod 4.
    f.f32x4Lanes([0, 1, 2, 3]).f32x4(4 - (channels % 4)).op('f32x4.ge').set('lane_mask');
  }

  /** The taps a row kind reads, as names: `2` alone one-way, `1`/`3` where the neighbour exists. */
  validTaps(kind: RowKind): string[] {
    if (this.taps === 1) return ['2'];
    return [...(kind.up ? ['1'] : []), '2', ...(kind.down ? ['3'] : [])];
  }

  /** Index of a tap name in a gate block (one-way has a single block). */
  tapIndex(name: string): number {
    return this.taps === 1 ? 0 : TAP_NAMES.indexOf(name as (typeof TAP_NAMES)[number]);
  }

  /** Pushes the address `base (+ j)` and returns the immediate offset to use with it. */
  private address(base: string, offset: number): number {
    this.f.get(base);
    if (this.vectorOffset === undefined) this.f.get('j').op('i32.add');
    return offset + (this.vectorOffset ?? 0);
  }

  /** Pushes the v128 at `base + offset` of the current channel vector. */
  load(base: string, offset = 0): this {
    this.f.loadV128(this.address(base, offset));
    return this;
  }

  /** Stores the v128 `value` pushes at `base + offset` of the current channel vector. */
  store(base: string, offset: number, value: () => void): this {
    const immediate = this.address(base, offset);
    value();
    this.f.storeV128(immediate);
    return this;
  }

  /** The state row tap `name` reads from the previous step. */
  previousRow(name: string): string {
    return name === '1' ? 'pp_up' : name === '3' ? 'pp_down' : 'pp';
  }

  /**
   * Loads the raw gates of row `pg` and emits `body` with `n_k` = ĝ_k for the
   * row's valid taps and `sum` = Σ_k ĝ_k set. Where the gates are divided
   * (`normalized`), `s` = Σ|g| and `inv` = 1/div(s) are set too; with
   * 'when-needed', vectors whose sums all stay below 1 (most) take a branch
   * without the division or its gradient terms.
   */
  gateVector(kind: RowKind, body: (normalized: boolean) => void): void {
    const f = this.f;
    const all = this.taps === 1 ? ['2'] : [...TAP_NAMES];
    for (const name of all) this.load('pg', this.tapIndex(name) * this.channelBytes).f.set(`g${name}`);
    const gates = (normalized: boolean): void => {
      this.validTaps(kind).forEach((name, i) => {
        f.get(`g${name}`);
        if (normalized) f.get('inv').op('f32x4.mul');
        f.tee(`n${name}`);
        if (i > 0) f.get('sum').op('f32x4.add');
        f.set('sum');
      });
      body(normalized);
    };
    if (this.normalize === 'none') {
      gates(false);
      return;
    }
    all.forEach((name, i) => {
      f.get(`g${name}`).op('f32x4.abs');
      if (i > 0) f.op('f32x4.add');
    });
    f.set('s');
    if (this.normalize === 'always') {
      f.get('one').get('s').get('one').get('s').get('zero').op('f32x4.gt').op('v128.bitselect').op('f32x4.div').set('inv');
      gates(true);
      return;
    }
    // S ≥ 1 in some lane: divide by max(S, 1) (its gradient flows from S = 1 on, as tfjs's maximum's does).
    f.get('s').get('one').op('f32x4.ge').op('v128.any_true').ifElse(
      () => {
        f.get('one').get('s').get('one').op('f32x4.max').op('f32x4.div').set('inv');
        gates(true);
      },
      () => gates(false),
    );
  }

  /**
   * Emits `body` for every channel vector: unrolled at constant offsets when
   * C ≤ 64, else in a loop; then the overlapping last vector when C mod 4 ≠ 0
   * (`masked`: its first lanes were done by the vector before).
   */
  channelLoop(body: (masked: boolean) => void): void {
    const f = this.f;
    const vectors = Math.floor(this.channels / 4);
    if (vectors <= MAX_UNROLLED_VECTORS) {
      for (let v = 0; v < vectors; v++) {
        this.vectorOffset = 16 * v;
        body(false);
      }
    } else {
      this.vectorOffset = undefined;
      f.i32(0).set('j');
      f.loopWhile((f) => void f.get('j').i32(16 * vectors).op('i32.lt_u'), (f) => {
        body(false);
        f.get('j').i32(16).op('i32.add').set('j');
      });
    }
    if (this.channels % 4 !== 0) {
      this.vectorOffset = this.channelBytes - 16;
      body(true);
    }
    this.vectorOffset = 0;
  }

  /**
   * Runs `row(kind)` for every row r of a step: row 0, the interior rows, the
   * last row (a single row has neither neighbour).
   */
  rowLoop(row: (kind: RowKind) => void): void {
    const f = this.f;
    f.i32(0).set('r');
    f.get('rows').i32(1).op('i32.gt_s').ifElse(
      () => row({ up: false, down: this.taps === 3 }),
      () => row({ up: false, down: false }),
    );
    f.i32(1).set('r');
    f.loopWhile((f) => void f.get('r').get('rows').i32(1).op('i32.sub').op('i32.lt_s'), (f) => {
      row({ up: this.taps === 3, down: this.taps === 3 });
      f.get('r').i32(1).op('i32.add').set('r');
    });
    f.get('rows').i32(1).op('i32.gt_s').ifElse((f) => {
      f.get('rows').i32(1).op('i32.sub').set('r');
      row({ up: this.taps === 3, down: false });
    });
  }

  /** Sets `target = base + t·step + r·row` (bytes). */
  rowPointer(target: string, base: string, step: string, row: string): void {
    const f = this.f;
    f.get(base).get('t').get(step).op('i32.mul').op('i32.add').get('r').get(row).op('i32.mul').op('i32.add').set(target);
  }

  /** Sets px, pg, ph and the previous step's state rows r − 1, r, r + 1 for step t, row r. */
  statePointers(): void {
    const f = this.f;
    this.rowPointer('px', 'x', 'x_step', 'x_row');
    this.rowPointer('pg', 'g', 'g_step', 'g_row');
    this.rowPointer('ph', 'h', 'h_step', 'h_row');
    f.get('ph').get('h_step').op('i32.sub').set('pp');
    f.get('pp').get('h_row').op('i32.sub').set('pp_up');
    f.get('pp').get('h_row').op('i32.add').set('pp_down');
  }
}

/** `forward(x…, g…, h…, steps, rows)`: the states of one direction and batch entry. */
function buildForward(taps: ScanTaps, normalize: SpnNormalize, channels: number): FunctionBuilder {
  const f = new FunctionBuilder(SHARED_PARAMS);
  const e = new ScanEmitter(f, taps, normalize, channels);
  f.local('acc', 'v128');
  // Step 0: every gate is masked, h_0 = x_0.
  f.i32(0).set('t');
  f.i32(0).set('r');
  f.loopWhile((f) => void f.get('r').get('rows').op('i32.lt_s'), (f) => {
    e.statePointers();
    e.channelLoop(() => void e.store('ph', 0, () => void e.load('px')));
    f.get('r').i32(1).op('i32.add').set('r');
  });
  f.i32(1).set('t');
  f.loopWhile((f) => void f.get('t').get('steps').op('i32.lt_s'), (f) => {
    e.rowLoop((kind) => {
      e.statePointers();
      e.channelLoop(() => {
        e.gateVector(kind, () => {
          e.validTaps(kind).forEach((name, i) => {
            f.get(`n${name}`);
            e.load(e.previousRow(name));
            f.op('f32x4.mul');
            if (i > 0) f.get('acc').op('f32x4.add');
            f.set('acc');
          });
          e.load('px').f.set('xv');
          // h = x + Σ ĝ_k h_prev,k − (Σ ĝ_k) x
          e.store('ph', 0, () => void f.get('xv').get('acc').op('f32x4.add').get('sum').get('xv').op('f32x4.mul').op('f32x4.sub'));
        });
      });
    });
    f.get('t').i32(1).op('i32.add').set('t');
  });
  return f;
}

/**
 * `backward(…forward's arguments, dy, dx, dg, w, winner, direction)`:
 * with the adjoint `λ_t[r] = dy_d,t[r] + Σ_k ĝ_{k,t+1}[r − k + 1] λ_{t+1}[r − k + 1]`,
 * writes (direction 0) or accumulates (the others) `∂x += (1 − Σ_k ĝ_k) λ` and writes
 * `∂g_j = (m_j ∂ĝ_j − div′ sign(g_j) Σ_k ∂ĝ_k ĝ_k) / div` with
 * `∂ĝ_k = λ (h_{t−1}[r + k − 1] − x)` (0 on step 0). `dy_d` is the max
 * merge's gradient for this direction: `dy` (of the merged output) where
 * `winner` (the merge's map of the first direction attaining the maximum,
 * as floats) equals `direction`, 0 elsewhere. `dy`, `winner` and `dx` have
 * `x`'s strides, `dg` `g`'s; `w` is scratch of
 * `2 · rows · taps · C + 4` floats holding `ĝ_k ⊙ λ` (`[rows, taps, C]`) of
 * the step after (read) and of this step (written).
 */
function buildBackward(taps: ScanTaps, normalize: SpnNormalize, channels: number): FunctionBuilder {
  const f = new FunctionBuilder([...SHARED_PARAMS, ['dy', 'i32'], ['dx', 'i32'], ['dg', 'i32'], ['w', 'i32'], ['winner', 'i32'], ['direction', 'i32']]);
  const e = new ScanEmitter(f, taps, normalize, channels);
  const cBytes = e.channelBytes;
  const wRowBytes = taps * cBytes;
  for (const name of ['pdy', 'pwin', 'pdx', 'pdg', 'w_old', 'w_new', 'wo', 'wo_up', 'wo_down', 'wn', 'swap', 'w_row']) f.local(name, 'i32');
  for (const name of ['lambda', 'dx_add', 'total', 'corr', 'mine']) f.local(name, 'v128');
  for (const k of TAP_NAMES) f.local(`d${k}`, 'v128');
  f.get('w').set('w_old');
  f.get('w').get('rows').i32(wRowBytes).op('i32.mul').op('i32.add').set('w_new');
  f.get('direction').op('f32.convert_i32_s').op('f32x4.splat').set('mine');
  // The step after the last has no λ: start from w_old = 0 (vector stores; w has 4 floats of slack).
  f.i32(0).set('j');
  f.loopWhile((f) => void f.get('j').get('rows').i32(wRowBytes).op('i32.mul').op('i32.lt_u'), (f) => {
    f.get('w_old').get('j').op('i32.add').get('zero').storeV128();
    f.get('j').i32(16).op('i32.add').set('j');
  });
  const wOffset = (name: string): number => e.tapIndex(name) * cBytes;
  // λ = dy + w2[r] + w1[r + 1] + w3[r − 1] (the step after's ĝ ⊙ λ; zeros on the last step).
  const lambda = (kind: RowKind): void => {
    // The max merge's gradient: dy where this direction is the first whose state attains the maximum
    // (as chained tf.maximum's route ties; the merge recorded it), 0 elsewhere.
    e.load('pdy');
    e.load('pwin').f.get('mine').op('f32x4.eq').op('v128.and');
    e.load('wo', wOffset('2')).f.op('f32x4.add');
    if (kind.down) e.load('wo_down', wOffset('1')).f.op('f32x4.add');
    if (kind.up) e.load('wo_up', wOffset('3')).f.op('f32x4.add');
    f.set('lambda');
  };
  // Direction 0 comes first and visits every pixel: it writes ∂x (dx needs no zeroing), the others add to it.
  const accumulateDx = (masked: boolean): void => {
    f.get('direction').op('i32.eqz').ifElse(
      () => void e.store('pdx', 0, () => void f.get('dx_add')),
      () =>
        void e.store('pdx', 0, () => {
          e.load('pdx').f.get('dx_add');
          if (masked) f.get('lane_mask').op('v128.and');
          f.op('f32x4.add');
        }),
    );
  };
  const gateNames = taps === 1 ? ['2'] : [...TAP_NAMES];
  const rowPointers = (): void => {
    e.statePointers();
    e.rowPointer('pdy', 'dy', 'x_step', 'x_row');
    e.rowPointer('pwin', 'winner', 'x_step', 'x_row');
    e.rowPointer('pdx', 'dx', 'x_step', 'x_row');
    e.rowPointer('pdg', 'dg', 'g_step', 'g_row');
    f.get('r').i32(wRowBytes).op('i32.mul').set('w_row');
    f.get('w_old').get('w_row').op('i32.add').tee('wo').i32(wRowBytes).op('i32.sub').set('wo_up');
    f.get('wo').i32(wRowBytes).op('i32.add').set('wo_down');
    f.get('w_new').get('w_row').op('i32.add').set('wn');
  };
  f.get('steps').i32(1).op('i32.sub').set('t');
  f.loopWhile((f) => void f.get('t').i32(1).op('i32.ge_s'), (f) => {
    e.rowLoop((kind) => {
      rowPointers();
      e.channelLoop((masked) => {
        lambda(kind);
        e.gateVector(kind, (normalized) => {
          e.load('px').f.set('xv');
          f.get('one').get('sum').op('f32x4.sub').get('lambda').op('f32x4.mul').set('dx_add');
          accumulateDx(masked);
          const valid = e.validTaps(kind);
          valid.forEach((name, i) => {
            e.load(e.previousRow(name));
            f.get('xv').op('f32x4.sub').get('lambda').op('f32x4.mul').tee(`d${name}`);
            if (normalized) {
              f.get(`n${name}`).op('f32x4.mul');
              if (i > 0) f.get('total').op('f32x4.add');
              f.set('total');
            } else {
              f.op('drop');
            }
            // The next (earlier) step's λ reads ĝ_k ⊙ λ of this one.
            e.store('wn', wOffset(name), () => void f.get(`n${name}`).get('lambda').op('f32x4.mul'));
          });
          if (normalized) {
            // div′ = 1 where div follows S (S ≥ 1 for max(S, 1); S > 0 for 'always'), as tfjs differentiates it.
            f.get('total').get('s');
            if (normalize === 'when-needed') f.get('one').op('f32x4.ge');
            else f.get('zero').op('f32x4.gt');
            f.op('v128.and').set('corr');
          }
          for (const name of gateNames) {
            e.store('pdg', e.tapIndex(name) * cBytes, () => {
              f.get(valid.includes(name) ? `d${name}` : 'zero');
              if (normalized) {
                f.get('one').get('minus_one').get(`g${name}`).get('zero').op('f32x4.gt').op('v128.bitselect').get('corr').op('f32x4.mul').op('f32x4.sub');
                f.get('inv').op('f32x4.mul');
              }
            });
          }
        });
      });
    });
    f.get('w_old').set('swap');
    f.get('w_new').set('w_old');
    f.get('swap').set('w_new');
    f.get('t').i32(1).op('i32.sub').set('t');
  });
  // Step 0: h_0 = x_0, so ∂x += λ and every gate's gradient is 0.
  f.i32(0).set('t');
  e.rowLoop((kind) => {
    rowPointers();
    e.channelLoop((masked) => {
      lambda(kind);
      f.get('lambda').set('dx_add');
      accumulateDx(masked);
      for (const name of gateNames) e.store('pdg', e.tapIndex(name) * cBytes, () => void f.get('zero'));
    });
  });
  return f;
}

/** Emits `for (i = 0; i < n; i += 4)` over float offsets, the last vector overlapping when n mod 4 ≠ 0 (n ≥ 4). */
function floatLoop(f: FunctionBuilder, body: () => void): void {
  f.local('i', 'i32').local('end', 'i32');
  f.get('n').i32(2).op('i32.shl').set('end');
  f.i32(0).set('i');
  f.loopWhile((f) => void f.get('i').i32(16).op('i32.add').get('end').op('i32.le_u'), (f) => {
    body();
    f.get('i').i32(16).op('i32.add').set('i');
  });
  f.get('i').get('end').op('i32.lt_u').ifElse((f) => {
    f.get('end').i32(16).op('i32.sub').set('i');
    body();
  });
}

/**
 * `merge(h, out, winner, count, n)`: `out = max_d h_d` over `count` planes of
 * n floats (n ≥ 4), and `winner` = the first d attaining it (as a float; the
 * backward pass routes the gradient by it, ties to the first as chained
 * `tf.maximum`s do).
 */
function buildMerge(): FunctionBuilder {
  const f = new FunctionBuilder([['h', 'i32'], ['out', 'i32'], ['winner', 'i32'], ['count', 'i32'], ['n', 'i32']]);
  f.local('d', 'i32').local('plane', 'i32').local('m', 'v128').local('v', 'v128').local('arg', 'v128').local('greater', 'v128');
  f.get('n').i32(2).op('i32.shl').set('plane');
  floatLoop(f, () => {
    f.get('h').get('i').op('i32.add').loadV128().set('m');
    f.f32x4(0).set('arg');
    f.i32(1).set('d');
    f.loopWhile((f) => void f.get('d').get('count').op('i32.lt_u'), (f) => {
      f.get('h').get('d').get('plane').op('i32.mul').op('i32.add').get('i').op('i32.add').loadV128().set('v');
      f.get('v').get('m').op('f32x4.gt').set('greater');
      f.get('d').op('f32.convert_i32_s').op('f32x4.splat').get('arg').get('greater').op('v128.bitselect').set('arg');
      f.get('m').get('v').op('f32x4.max').set('m');
      f.get('d').i32(1).op('i32.add').set('d');
    });
    f.get('out').get('i').op('i32.add').get('m').storeV128();
    f.get('winner').get('i').op('i32.add').get('arg').storeV128();
  });
  return f;
}

/**
 * The forward and backward kernels for one mode, normalisation and channel count.
 * @param taps - 3 (three-way) or 1 (one-way)
 * @param normalize - the gate normalisation
 * @param channels - C ≥ 4 (offsets become immediates; up to 64 channels the vectors are unrolled)
 */
export function assembleSpnScanKernels(taps: ScanTaps, normalize: SpnNormalize, channels: number): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(channels) || channels < 4) throw new RangeError(`spn kernels: need C >= 4 channels, got ${channels}`);
  return assembleModule({
    forward: buildForward(taps, normalize, channels),
    backward: buildBackward(taps, normalize, channels),
    merge: buildMerge(),
  });
}
