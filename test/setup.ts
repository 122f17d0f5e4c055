// Every test file starts on wasm (the fast backend here) unless
// SEGREFINE_TEST_BACKEND says otherwise; tests that need cpu switch explicitly.
import { beforeAll } from 'vitest';
import { initBackend, type BackendPreference } from '../src/index.js';

beforeAll(async () => {
  await initBackend((process.env['SEGREFINE_TEST_BACKEND'] ?? 'wasm') as BackendPreference);
});
