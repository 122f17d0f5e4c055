// Importing the core must change nothing in tfjs (issue: "importing the core
// changes nothing outside segrefine"): no kernel or gradient registered, no
// patched tf.layers.conv2d, no global polyfill. A fresh process is needed,
// since the test setup itself starts a backend and installs the fixes.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const PROBE = `
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
const snapshot = () => JSON.stringify({
  cpu: tf.getKernelsForBackend('cpu').map((k) => k.kernelName).sort(),
  wasm: tf.getKernelsForBackend('wasm').map((k) => k.kernelName).sort(),
  conv2dGrad: tf.getGradient('Conv2D')?.gradFunc.toString().length ?? 0,
  convCall: Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })).call.toString().length,
  reflect: typeof Reflect.getMetadata,
});
const before = snapshot();
const core = await import('./src/index.ts');
const afterImport = snapshot();
core.installKernelFixes();
const afterInstall = snapshot();
console.log(JSON.stringify({ unchanged: before === afterImport, installChanges: before !== afterInstall, reflect: typeof Reflect.getMetadata }));
`;

describe('importing segrefine', () => {
  it('registers no kernel, gradient or layer patch until installKernelFixes() / initBackend()', () => {
    const out = execFileSync('node', ['--import', 'tsx', '--input-type=module', '-e', PROBE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const result = JSON.parse(out.trim().split('\n').pop()!) as { unchanged: boolean; installChanges: boolean; reflect: string };
    expect(result).toEqual({ unchanged: true, installChanges: true, reflect: 'undefined' });
  }, 60_000);
});
