// Every test file starts on wasm (the fast backend here) unless
// SEGREFINE_TEST_BACKEND says otherwise; tests that need cpu switch explicitly.
// tfjs's "install the node backend" banner is kept out of the test output.
import { beforeAll } from 'vitest';
import { initBackend, suppressCpuBanner, type BackendPreference } from '../src/index.js';

// Before the test file's own module code, which may make tensors on the default (cpu) backend.
await suppressCpuBanner();

beforeAll(async () => {
  await initBackend((process.env['SEGREFINE_TEST_BACKEND'] ?? 'wasm') as BackendPreference);
});
