import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe } from 'vitest';

/** The backends every numerical test runs on. */
export const TEST_BACKENDS = ['wasm', 'cpu'] as const;

/**
 * Declares `body` once per backend, switching tfjs's backend for that block.
 * @param name - suite name
 * @param body - the suite, given the backend name
 */
export function describeOnBackends(name: string, body: (backend: string) => void, backends: readonly string[] = TEST_BACKENDS): void {
  for (const backend of backends) {
    describe(`${name} [${backend}]`, () => {
      let previous = '';
      beforeAll(async () => {
        previous = tf.getBackend();
        await tf.setBackend(backend);
        await tf.ready();
      });
      afterAll(async () => {
        if (previous !== '') await tf.setBackend(previous);
      });
      body(backend);
    });
  }
}
