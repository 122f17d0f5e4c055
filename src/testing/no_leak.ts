/**
 * Leak checks for tests: tensors alive after `fn` must equal those before.
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Runs `fn` once to warm up (lazy weight creation, kernel caches), then again
 * and throws if the number of live tensors changed. Whatever `fn` returns is
 * disposed (tensors, arrays or objects of tensors), so `fn` may return its result.
 * @param fn - the code under test (sync or async)
 * @param options - `warmup: false` to skip the first run
 */
export async function expectNoLeak(fn: () => unknown, options: { warmup?: boolean } = {}): Promise<void> {
  const run = async (): Promise<void> => {
    const result = await fn();
    tf.dispose(collectTensors(result));
  };
  if (options.warmup ?? true) await run();
  const before = tf.memory().numTensors;
  await run();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`expectNoLeak: ${after - before} tensor(s) leaked (${before} before, ${after} after)`);
}

function collectTensors(value: unknown, out: tf.Tensor[] = [], seen = new Set<unknown>()): tf.Tensor[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (value instanceof tf.Tensor) {
    if (!(value instanceof tf.Variable)) out.push(value);
    return out;
  }
  const items = Array.isArray(value) ? value : value.constructor === Object ? Object.values(value) : [];
  for (const item of items) collectTensors(item, out, seen);
  return out;
}
