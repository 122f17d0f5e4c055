/**
 * Helper threads for the blocked random walk. Its tile pairs are
 * independent work, forward and backward (see `walk_forward_tiles.ts` and
 * `walk_backward_tiles.ts`), and their inputs are only O(N·(d + K)). So
 * {@link startWalkWorkers} starts worker threads, each with its own
 * tfjs-wasm instance; a walk posts them its inputs and a shared tile queue,
 * processes tiles itself meanwhile, merges the helpers' partial results and
 * waits on a shared-memory flag (`Atomics.wait`), so `randomWalk` stays
 * synchronous and differentiable.
 * @module
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import { MAX_QUEUED_TILES, TileQueue } from '../refiners/diffusion/tile_queue.js';
import { setWalkPoolProvider, type WalkPool } from '../refiners/diffusion/walk_pool.js';

/** Options of {@link startWalkWorkers}. */
export interface WalkWorkerOptions {
  /**
   * Helper threads to start (each holds its own tfjs-wasm heap).
   * @defaultValue the number of cores − 1, at least 1
   */
  threads?: number;
  /**
   * Smallest N whose rows are shared with the helpers (below it the hand-off
   * costs more than it saves).
   * @defaultValue 2048
   */
  minNodes?: number;
  /**
   * Longest wait for a helper's share, in ms, before the walk throws.
   * @defaultValue 600000
   */
  timeoutMs?: number;
}

/** Job states in the control word. */
const RUNNING = 1;
const DONE = 2;
const FAILED = 3;
const ERROR_BYTES = 4096;

/** A job as posted to a helper (all arrays are SharedArrayBuffers). */
export interface WalkJob {
  /** `forward`: an online-softmax state; `backward`: partial dΨ and dy. */
  kind: 'forward' | 'backward';
  /** N, d, K. */
  n: number;
  /** Embedding dimension d. */
  d: number;
  /** Classes K. */
  k: number;
  /** The row tile reserved for this helper (processed first), or −1. */
  reserved: number;
  /** The shared {@link TileQueue}'s buffer: the helper then claims tiles from its back. */
  queue: SharedArrayBuffer;
  /** The tile edge. */
  blockSize: number;
  /** Inputs: Ψ, y, then for the backward D `[N]`, lse `[N]`, dO `[N, K]`. */
  inputs: SharedArrayBuffer;
  /** Outputs: forward the online-softmax state u `[N, K]`, m, l `[N]`; backward partial dΨ `[N, d]` then dy `[N, K]`. */
  outputs: SharedArrayBuffer;
  /** Int32 state word (RUNNING → DONE / FAILED), error length, rows of the tiles processed. */
  control: SharedArrayBuffer;
  /** UTF-8 error message on failure. */
  error: SharedArrayBuffer;
}

interface Helper {
  worker: Worker;
  control: SharedArrayBuffer;
  error: SharedArrayBuffer;
}

let helpers: Helper[] = [];
let rowsShared = 0;
let settings: Required<WalkWorkerOptions> = { threads: 1, minNodes: 2048, timeoutMs: 600_000 };

/** How to start a helper: the compiled entry, or (from the TypeScript sources) a bootstrap that loads it through tsx. */
function newHelperWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./walk_worker_main.js', import.meta.url));
  // Node 20 does not apply tsx's loader hooks to a worker's entry module, so
  // the worker registers tsx itself (tests and benchmarks run from sources).
  const entry = new URL('./walk_worker_main.ts', import.meta.url).href;
  let api = 'tsx/esm/api';
  try {
    api = import.meta.resolve(api);
  } catch {
    // resolved from the working directory instead
  }
  const code = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true });
}

/**
 * Starts helper threads for the blocked walk (idempotent: a running pool is
 * replaced). Only the wasm backend shares rows with them.
 * @param options - thread count, size threshold, timeout
 * @returns the number of helper threads running
 */
export async function startWalkWorkers(options: WalkWorkerOptions = {}): Promise<number> {
  const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new ConfigError('startWalkWorkers.threads', 'must be an integer in [1, 64]', threads);
  const minNodes = options.minNodes ?? 2048;
  if (!Number.isInteger(minNodes) || minNodes < 1) throw new ConfigError('startWalkWorkers.minNodes', 'must be an integer ≥ 1', minNodes);
  const timeoutMs = options.timeoutMs ?? 600_000;
  if (!(timeoutMs > 0)) throw new ConfigError('startWalkWorkers.timeoutMs', 'must be > 0', timeoutMs);
  await stopWalkWorkers();
  const started = await Promise.all(
    Array.from({ length: threads }, async (): Promise<Helper> => {
      const worker = newHelperWorker();
      await new Promise<void>((resolve, reject) => {
        worker.once('message', (message: { ready?: boolean; error?: string }) =>
          message.ready === true ? resolve() : reject(new Error(`walk helper failed to start: ${message.error ?? 'unknown error'}`)),
        );
        worker.once('error', reject);
      });
      worker.unref();
      return { worker, control: new SharedArrayBuffer(12), error: new SharedArrayBuffer(ERROR_BYTES) };
    }),
  );
  helpers = started;
  settings = { threads, minNodes, timeoutMs };
  setWalkPoolProvider(activeWalkPool);
  return helpers.length;
}

/** Stops the helper threads (the walk then runs on the calling thread only). */
export async function stopWalkWorkers(): Promise<void> {
  const running = helpers;
  helpers = [];
  setWalkPoolProvider(undefined);
  await Promise.all(running.map((h) => h.worker.terminate()));
}

/** Rows of the row tiles handed to helper threads since the process started (forward and backward; for monitoring and tests). */
export function walkWorkerRows(): number {
  return rowsShared;
}

/** Number of helper threads running. */
export function walkWorkerCount(): number {
  return helpers.length;
}

/**
 * The pool when helpers run, the backend is wasm and N is large enough (and
 * the walk's `tiles` fit a {@link TileQueue}); else undefined.
 */
function activeWalkPool(n: number, tiles: number): WalkPool | undefined {
  if (helpers.length === 0 || n < settings.minNodes || tiles > MAX_QUEUED_TILES || tf.getBackend() !== 'wasm') return undefined;
  return pool;
}

function toShared(tensors: tf.Tensor[]): SharedArrayBuffer {
  const total = tensors.reduce((sum, t) => sum + t.size, 0);
  const buffer = new SharedArrayBuffer(total * 4);
  let offset = 0;
  for (const t of tensors) {
    new Float32Array(buffer, offset * 4, t.size).set(t.dataSync());
    offset += t.size;
  }
  return buffer;
}

/** Posts the job to every helper, helper h with the reserved tile `count − 1 − h` (if any). */
function post(job: Omit<WalkJob, 'control' | 'error' | 'reserved' | 'outputs'>, count: number, outputFloats: number): Array<{ helper: Helper; job: WalkJob }> {
  return helpers.map((helper, h) => {
    const control = new Int32Array(helper.control);
    Atomics.store(control, 0, RUNNING);
    Atomics.store(control, 2, 0);
    const reserved = count - 1 - h >= 0 ? count - 1 - h : -1;
    const full: WalkJob = { ...job, reserved, outputs: new SharedArrayBuffer(Math.max(1, outputFloats) * 4), control: helper.control, error: helper.error };
    helper.worker.postMessage(full);
    return { helper, job: full };
  });
}

/**
 * Blocks until every posted job is done (one deadline for all), then throws
 * the first helper's error, if any. Helpers that miss the deadline are
 * terminated and the pool is emptied (later walks run on the calling thread),
 * so a late helper can never mark a later job done.
 */
function waitAll(posted: Array<{ helper: Helper; job: WalkJob }>): void {
  const deadline = performance.now() + settings.timeoutMs;
  let failure: string | undefined;
  for (const { helper } of posted) {
    const control = new Int32Array(helper.control);
    while (Atomics.load(control, 0) === RUNNING && performance.now() < deadline) Atomics.wait(control, 0, RUNNING, 1000);
    if (Atomics.load(control, 0) === RUNNING) {
      failure ??= `walk helper did not answer within ${settings.timeoutMs} ms (helpers stopped)`;
      continue;
    }
    rowsShared += Atomics.load(control, 2);
    if (Atomics.load(control, 0) === FAILED) {
      const length = Atomics.load(control, 1);
      failure ??= `walk helper failed: ${new TextDecoder().decode(new Uint8Array(helper.error, 0, length).slice())}`;
    }
  }
  if (posted.some(({ helper }) => Atomics.load(new Int32Array(helper.control), 0) === RUNNING)) {
    const running = helpers;
    helpers = [];
    for (const h of running) void h.worker.terminate();
  }
  if (failure !== undefined) throw new Error(failure);
}

/**
 * A copy of `size` floats at float `offset` of a shared buffer (a job's inputs or outputs).
 * @param buffer - the shared buffer
 * @param offset - first float
 * @param size - number of floats
 */
export function sharedFloats(buffer: SharedArrayBuffer, offset: number, size: number): Float32Array {
  return new Float32Array(buffer, offset * 4, size).slice();
}

const pool: WalkPool = {
  queue(count) {
    return new TileQueue(count, Math.min(count, helpers.length));
  },
  forward(psi, y, tile, queue) {
    const [n, d] = psi.shape;
    const k = y.shape[1];
    const count = Math.ceil(n / tile);
    const posted = post({ kind: 'forward', n, d, k, blockSize: tile, queue: queue.buffer, inputs: toShared([psi, y]) }, count, n * (k + 2));
    return {
      wait() {
        waitAll(posted);
        return posted.map(({ job }) => ({
          u: tf.tensor2d(sharedFloats(job.outputs, 0, n * k), [n, k]),
          m: tf.tensor1d(sharedFloats(job.outputs, n * k, n)),
          l: tf.tensor1d(sharedFloats(job.outputs, n * (k + 1), n)),
        }));
      },
    };
  },
  backward(psi, y, d, lse, dOut, tile, queue) {
    const [n, dim] = psi.shape;
    const k = y.shape[1];
    const count = Math.ceil(n / tile);
    const posted = post({ kind: 'backward', n, d: dim, k, blockSize: tile, queue: queue.buffer, inputs: toShared([psi, y, d, lse, dOut]) }, count, n * (dim + k));
    return {
      wait() {
        waitAll(posted);
        return posted.map(({ job }) => ({
          dPsi: tf.tensor2d(sharedFloats(job.outputs, 0, n * dim), [n, dim]),
          dY: tf.tensor2d(sharedFloats(job.outputs, n * dim, n * k), [n, k]),
        }));
      },
    };
  },
};

/** Records the rows of the tiles a helper processed (called by the helper before {@link finishJob}). */
export function reportRows(job: WalkJob, rows: number): void {
  Atomics.store(new Int32Array(job.control), 2, rows);
}

/** Marks a job finished (called by the helper). */
export function finishJob(job: WalkJob, error?: unknown): void {
  const control = new Int32Array(job.control);
  if (error !== undefined) {
    const bytes = new TextEncoder().encode(error instanceof Error ? error.message : String(error)).slice(0, ERROR_BYTES);
    new Uint8Array(job.error).set(bytes);
    Atomics.store(control, 1, bytes.length);
    Atomics.store(control, 0, FAILED);
  } else {
    Atomics.store(control, 0, DONE);
  }
  Atomics.notify(control, 0);
}
