// The reliability catalogue's runner (issue 16): each row is a bad input to a
// public entry point. The runner checks that it is the expected typed error,
// that the message names the argument, that no tensor is left behind, and
// that tfjs still computes afterwards.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, ShapeError } from '../../src/index.js';

/** The error classes a row may expect. */
export type ErrorClass = typeof ShapeError | typeof ConfigError | typeof DataError;

/** One bad input. */
export interface Row {
  /** What is tried, as the test's name. */
  name: string;
  /** The call; builds its inputs itself and disposes them (see {@link scoped}). */
  run: () => unknown;
  /** The typed error it must raise. */
  error: ErrorClass;
  /** What the message must match: it names the argument. */
  message: RegExp;
}

/** Something a row owns and releases. */
interface Disposable {
  dispose(): unknown;
}

/** Registers a tensor, layer or model for release when the row ends. */
export type Own = <T extends Disposable>(x: T) => T;

/**
 * Runs `fn` and disposes everything it registered with `own`, in reverse
 * order, whether it threw or not.
 */
export async function scoped<R>(fn: (own: Own) => R | Promise<R>): Promise<R> {
  const owned: Disposable[] = [];
  try {
    return await fn((x) => {
      owned.push(x);
      return x;
    });
  } finally {
    for (const x of owned.reverse()) x.dispose();
  }
}

/** An error rebuilt from a CLI's stderr line `segrefine: <Class>: <message>`. */
export class CliError extends Error {}

/** Runs one row and returns what it threw (undefined if nothing). */
async function attempt(row: Row): Promise<unknown> {
  try {
    const result = await row.run();
    tf.dispose(result as tf.TensorContainer); // a row that wrongly succeeded must not also leak
    return undefined;
  } catch (error) {
    return error;
  }
}

/**
 * One test per row: the error's class and message, `tf.memory().numTensors`
 * back to its value before the call, and `1 + 2` still 3 on the backend.
 * @param title - the describe block
 * @param rows - the table
 */
export function catalogue(title: string, rows: readonly Row[]): void {
  describe(title, () => {
    it.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
      const before = tf.memory().numTensors;
      const error = await attempt(row);
      expect(error, 'must throw').toBeDefined();
      if (error instanceof CliError) expect(error.name).toBe(row.error.name);
      else expect(error, String(error)).toBeInstanceOf(row.error);
      expect((error as Error).message).toMatch(row.message);
      expect(tf.memory().numTensors, 'tensors left behind').toBe(before);
      const three = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]);
      expect(three).toBe(3);
    });
  });
}

/** A tensor shape `[B, H, W, C]`. */
export type Shape4 = [number, number, number, number];

/** A float32 (or int32) tensor of `shape` filled with `value`. */
export function filled(shape: Shape4, value: number, dtype: 'float32' | 'int32' = 'float32'): tf.Tensor4D {
  return tf.fill(shape, value, dtype) as tf.Tensor4D;
}

/** Uniform values in [0, 1) of `shape` (a valid image). */
export function unit(shape: Shape4, seed = 1): tf.Tensor4D {
  return tf.randomUniform(shape, 0, 1, 'float32', seed) as tf.Tensor4D;
}

/** Standard-normal values of `shape` (valid logits or features). */
export function normal(shape: Shape4, seed = 1): tf.Tensor4D {
  return tf.randomNormal(shape, 0, 1, 'float32', seed) as tf.Tensor4D;
}

/** `t` with a NaN at its first element. */
export function withNaN(shape: Shape4): tf.Tensor4D {
  return tf.tidy(() => {
    const size = shape.reduce((a, b) => a * b, 1);
    const flags = tf.oneHot(0, size).reshape(shape);
    return tf.where(tf.cast(flags, 'bool'), tf.fill(shape, NaN), tf.zeros(shape)) as tf.Tensor4D;
  });
}
