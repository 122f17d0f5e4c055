/**
 * The tensor-memory high-water mark of a computation, for tests and
 * benchmarks that check an op's memory (e.g. that it never holds N×N).
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** Every tensor in a (nested) container. @internal */
export function tensorsIn(value: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (value instanceof tf.Tensor) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => tensorsIn(v, out));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((v) => tensorsIn(v, out));
  return out;
}

/**
 * Peak `tf.memory().numBytes` above the starting level while `fn` runs,
 * sampled whenever the engine tracks a new tensor (so after every kernel).
 * The tensors `fn` returns are read (awaited) and disposed. Views such as
 * reshapes count as if they were copies, as `tf.memory()` counts them.
 * @param fn - the computation; returns a tensor or a container of tensors
 * @returns bytes above the level before the call
 */
export async function peakTensorBytes(fn: () => tf.TensorContainer): Promise<number> {
  const engine = tf.engine() as unknown as { trackTensor: (...args: unknown[]) => void };
  const original = engine.trackTensor;
  const base = tf.memory().numBytes;
  let peak = base;
  engine.trackTensor = function track(this: unknown, ...args: unknown[]) {
    original.apply(this, args);
    const now = tf.memory().numBytes;
    if (now > peak) peak = now;
  };
  try {
    const tensors = tensorsIn(fn());
    await Promise.all(tensors.map((t) => t.data()));
    tf.dispose(tensors);
  } finally {
    engine.trackTensor = original;
  }
  return peak - base;
}
