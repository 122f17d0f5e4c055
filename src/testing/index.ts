/**
 * Test helpers shared by segrefine's own tests and by anyone writing a
 * refiner: `import { expectTensorClose, expectNoLeak, checkGradients, peakTensorBytes } from 'segrefine/testing'`.
 * They throw plain `Error`s, so they work under any test runner.
 * @module
 */
export { expectTensorClose, type CloseOptions, type Numeric } from './tensor_close.js';
export { expectNoLeak } from './no_leak.js';
export { checkGradients, type GradCheckEntry, type GradCheckOptions, type GradCheckResult } from './grad_check.js';
export { peakTensorBytes } from './peak_memory.js';
