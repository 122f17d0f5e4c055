/**
 * Emitters shared by the ConvCrf's WebAssembly kernel builders.
 * @module
 * @internal
 */
import type { FunctionBuilder } from '../../core/wasm/assembler.js';

/** Bytes of a v128. */
export const V = 16;

/** Declares locals of one type. */
export function declare(f: FunctionBuilder, type: 'i32' | 'v128', names: string[]): void {
  for (const name of names) f.local(name, type);
}

/** `local ← local + by`. */
export function increment(f: FunctionBuilder, local: string, by: number | string): void {
  f.get(local);
  if (typeof by === 'number') f.i32(by);
  else f.get(by);
  f.op('i32.add').set(local);
}

/** Pushes the sum of the i32 locals. */
export function sum(f: FunctionBuilder, ...locals: string[]): void {
  f.get(locals[0]!);
  for (const local of locals.slice(1)) f.get(local).op('i32.add');
}

/** `for (local = 0; local < limit; local += step) body` (limit: an i32 local). */
export function forRange(f: FunctionBuilder, local: string, limit: string, step: number | string, body: (f: FunctionBuilder) => void): void {
  f.i32(0).set(local);
  f.loopWhile((f) => f.get(local).get(limit).op('i32.lt_u'), (f) => {
    body(f);
    increment(f, local, step);
  });
}

/** `positions` (an i32 parameter) → its byte length in the local `end` (4 bytes a position). */
export function positionBytes(f: FunctionBuilder): void {
  f.get('positions').i32(2).op('i32.shl').set('end');
}

/** Loads the i32 `shifts[t]` into the local `shift`. */
export function loadShift(f: FunctionBuilder): void {
  f.get('shifts').get('t').i32(2).op('i32.shl').op('i32.add').loadI32().set('shift');
}
