/**
 * Backend selection (DESIGN §4). In Node: `tensorflow` (tfjs-node-gpu, else
 * tfjs-node, when installed), then `wasm`, then `cpu`; in a browser: `webgl`,
 * then `wasm`, then `cpu`. `SEGREFINE_BACKEND` (Node) overrides the
 * preference.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from './errors.js';
import { installKernelFixes } from './kernels/index.js';

/** Backends segrefine knows how to start. `auto` tries them fastest first. */
export type BackendPreference = 'auto' | 'tensorflow' | 'webgl' | 'wasm' | 'cpu';

const PREFERENCES: readonly BackendPreference[] = ['auto', 'tensorflow', 'webgl', 'wasm', 'cpu'];

/** Options of {@link initBackend}. */
export interface BackendOptions {
  /**
   * Where tfjs-backend-wasm's `.wasm` files are served from (a folder URL
   * ending in `/`), passed to its `setWasmPaths`. Needed in a browser when
   * the page's bundler does not serve them beside the script.
   * @defaultValue tfjs's own lookup
   */
  wasmPaths?: string;
}

/** Whether this is Node (process.versions.node), not a browser or a worker of one. */
function inNode(): boolean {
  return typeof process === 'object' && typeof process.versions === 'object' && typeof process.versions.node === 'string';
}

/** What {@link initBackend} chose and why. */
export interface BackendInfo {
  /** The active tfjs backend name: `tensorflow`, `webgl`, `wasm` or `cpu`. */
  readonly name: string;
  /** The preference asked for (after applying `SEGREFINE_BACKEND`). */
  readonly requested: BackendPreference;
  /** The package that provides it, e.g. `@tensorflow/tfjs-backend-wasm`. */
  readonly provider: string;
  /** Backends that were tried before it and why they were skipped. */
  readonly skipped: readonly SkippedBackend[];
}

/** A backend {@link initBackend} tried and could not start. */
export interface SkippedBackend {
  /** Backend name. */
  readonly name: string;
  /** Why it could not start. */
  readonly reason: string;
}

let current: BackendInfo | undefined;

async function tryTensorflow(): Promise<string> {
  if (!inNode()) throw new Error('tfjs-node runs in Node only');
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      if (await tf.setBackend('tensorflow')) return pkg;
    } catch {
      // not installed (optional dependency) or its native library is missing
    }
  }
  throw new Error('neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is usable');
}

async function tryWebgl(): Promise<string> {
  if (!(await tf.setBackend('webgl'))) throw new Error('webgl backend failed to initialise (no WebGL here)');
  return '@tensorflow/tfjs-backend-webgl';
}

async function tryWasm(options: BackendOptions): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (options.wasmPaths !== undefined) wasm.setWasmPaths(options.wasmPaths);
  installKernelFixes();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  return '@tensorflow/tfjs-backend-wasm';
}

async function tryCpu(): Promise<string> {
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend failed to initialise');
  return '@tensorflow/tfjs-backend-cpu';
}

const STARTERS: Record<Exclude<BackendPreference, 'auto'>, (options: BackendOptions) => Promise<string>> = {
  tensorflow: tryTensorflow,
  webgl: tryWebgl,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Picks and starts the tfjs backend. With `auto` (default) it tries, in
 * Node, `tensorflow`, `wasm`, `cpu`, and in a browser `webgl`, `wasm`,
 * `cpu`. In Node the environment variable `SEGREFINE_BACKEND` (one of the
 * same names) overrides `preference`. An explicit preference that cannot
 * start is an error, not a silent fallback.
 *
 * Also installs segrefine's kernel fixes ({@link installKernelFixes}: wasm
 * gradient kernels, dilated-conv gradients), so everything trains on the
 * chosen backend. Importing segrefine installs nothing.
 *
 * @param preference - `auto`, `tensorflow`, `webgl`, `wasm` or `cpu`
 * @param options - where the wasm binaries are served (browsers)
 * @returns what was chosen; also available later from {@link backendInfo}
 */
export async function initBackend(preference: BackendPreference = 'auto', options: BackendOptions = {}): Promise<BackendInfo> {
  const override = inNode() ? process.env['SEGREFINE_BACKEND'] : undefined;
  const requested = (override !== undefined && override !== '' ? override : preference) as BackendPreference;
  if (!PREFERENCES.includes(requested)) {
    const argument = override !== undefined && override !== '' ? 'SEGREFINE_BACKEND' : 'initBackend(preference)';
    throw new ConfigError(argument, `must be one of ${PREFERENCES.join(', ')}`, requested);
  }
  installKernelFixes();
  const automatic: Exclude<BackendPreference, 'auto'>[] = inNode() ? ['tensorflow', 'wasm', 'cpu'] : ['webgl', 'wasm', 'cpu'];
  const order = requested === 'auto' ? automatic : [requested];
  const skipped: SkippedBackend[] = [];
  for (const name of order) {
    try {
      const provider = await STARTERS[name](options);
      await tf.ready();
      current = { name: tf.getBackend(), requested, provider, skipped };
      return current;
    } catch (error) {
      skipped.push({ name, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  throw new ConfigError('backend', `could not be started (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})`, requested);
}

/**
 * Reports the backend in use: what {@link initBackend} chose, or, if the
 * user set a backend through tfjs directly, that backend.
 */
export function backendInfo(): BackendInfo {
  const active = tf.getBackend();
  if (current !== undefined && current.name === active) return current;
  return { name: active, requested: 'auto', provider: 'set outside segrefine', skipped: [] };
}

/** One line for logs and the CLI: `wasm (@tensorflow/tfjs-backend-wasm; skipped tensorflow: …)`. */
export function describeBackend(info: BackendInfo = backendInfo()): string {
  const skipped = info.skipped.length > 0 ? `; skipped ${info.skipped.map((s) => s.name).join(', ')}` : '';
  return `${info.name} (${info.provider}${skipped})`;
}

/**
 * Keeps tfjs's cpu backend from printing its "install the node backend"
 * banner on first use. The CLI and the test setup call it after printing (or
 * choosing) the backend they use; the library itself never does, so a
 * user's process keeps tfjs's own output. If no backend is chosen yet, this
 * lets tfjs choose its default first.
 */
export async function suppressCpuBanner(): Promise<void> {
  // tfjs's first backend selection re-creates backend instances: let it happen first
  // (this selects tfjs's default backend if none is chosen yet).
  await tf.ready();
  // tfjs prints the banner on the cpu backend's first write; mark it written.
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu !== null && typeof cpu.firstUse === 'boolean') cpu.firstUse = false;
}

