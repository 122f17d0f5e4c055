import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { backendInfo, ConfigError, describeBackend, initBackend } from '../../src/index.js';

describe('initBackend', () => {
  afterEach(async () => {
    delete process.env['SEGREFINE_BACKEND'];
    await initBackend('wasm');
  });

  it('auto skips tensorflow when tfjs-node is absent and picks wasm', async () => {
    const info = await initBackend('auto');
    expect(info.name).toBe('wasm');
    expect(info.skipped.map((s) => s.name)).toEqual(['tensorflow']);
    expect(describeBackend(info)).toMatch(/^wasm \(@tensorflow\/tfjs-backend-wasm; skipped tensorflow\)$/);
  });

  it('SEGREFINE_BACKEND overrides the preference', async () => {
    process.env['SEGREFINE_BACKEND'] = 'cpu';
    const info = await initBackend('wasm');
    expect(info.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(backendInfo().requested).toBe('cpu');
  });

  it('an unknown name is a ConfigError; an explicit unavailable backend is not a silent fallback', async () => {
    process.env['SEGREFINE_BACKEND'] = 'webgpu';
    await expect(initBackend()).rejects.toThrow(/SEGREFINE_BACKEND must be one of auto, tensorflow, webgl, wasm, cpu, got "webgpu"/);
    delete process.env['SEGREFINE_BACKEND'];
    await expect(initBackend('tensorflow')).rejects.toThrow(ConfigError);
  });
});
