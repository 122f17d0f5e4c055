/**
 * DifNet's random walk (`npm run bench:ops -- --only random-walk`): the blocked
 * and the materialised path at N ∈ {1024, 4096, 10201, 16384}, d = 64, K = 21,
 * B = 1, against the same backend's plain matMul measured in the same run.
 * Timings are interleaved (each round runs every variant once) and reported
 * as medians; the ratios are medians of per-round ratios, so load from other
 * processes that drifts between rounds cancels.
 *
 * `SEGREFINE_BENCH_WALK_N=1024,4096` restricts the sizes,
 * `SEGREFINE_BENCH_WALK_REPS=5` sets the rounds, `SEGREFINE_BENCH_WALK_HELPERS=0`
 * skips the helper-thread rows. `--only random-walk-tiles` sweeps the tile size.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_WALK_TILE } from '../../../src/refiners/diffusion/walk_backward_tiles.js';
import { MATERIALIZED_MAX_BYTES, randomWalk, type WalkPath } from '../../../src/index.js';
import { startWalkWorkers, stopWalkWorkers } from '../../../src/node/index.js';
import { interleaved, median, medianRatio, peakBytes, type BenchRow, type OpBenchCase } from '../harness.js';

const D = 64;
const K = 21;
const MIB = 2 ** 20;
/** The materialised path is skipped where its N×N buffers pass this (S and P forward, ~5 N×N buffers backward). */
const MATERIALIZED_LIMIT_BYTES = 2 ** 30;

function sizes(): number[] {
  const env = process.env['SEGREFINE_BENCH_WALK_N'];
  return env ? env.split(',').map(Number) : [1024, 4096, 10201, 16384];
}

function rounds(n: number): number {
  const env = process.env['SEGREFINE_BENCH_WALK_REPS'];
  if (env) return Number(env);
  return n <= 4096 ? 7 : 5;
}

/** {@link medianRatio} of two variants' times, when both ran. */
function roundRatio(a: number[] | undefined, b: number[] | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : medianRatio(a, b);
}

interface WalkInputs {
  y: tf.Tensor3D;
  embedding: tf.Tensor3D;
}

/** A measured configuration: the path, and whether helper threads take rows. */
interface Variant {
  path: WalkPath;
  helpers: boolean;
  /** Tile edge (the forward's and the backward's). */
  blockSize?: number;
}

const forward = (inputs: WalkInputs, v: Variant) => (): tf.Tensor =>
  randomWalk({ y: inputs.y, seed: inputs.y, embedding: inputs.embedding, mu: 0.5, beta: 0.5, ...v });

/** Forward + backward: gradients w.r.t. y and Ψ of a scalar loss. */
const forwardBackward = (inputs: WalkInputs, v: Variant) => (): tf.Tensor[] =>
  tf.grads((y: tf.Tensor, e: tf.Tensor) =>
    tf.sum(randomWalk({ y: y as tf.Tensor3D, seed: inputs.y, embedding: e as tf.Tensor3D, mu: 0.5, beta: 0.5, ...v })),
  )([inputs.y, inputs.embedding]);

async function sizeRows(n: number, threads: number): Promise<BenchRow[]> {
  const inputs: WalkInputs = {
    y: tf.randomNormal([1, n, K], 0, 1, 'float32', 1) as tf.Tensor3D,
    // Scaled like a batch-normalised 64-d embedding: rows of P are peaked but not one-hot.
    embedding: tf.randomNormal([1, n, D], 0, 0.25, 'float32', 2) as tf.Tensor3D,
  };
  const a = tf.randomNormal([n, D], 0, 1, 'float32', 3);
  const b = tf.randomNormal([D, n], 0, 1, 'float32', 4);
  const pBytes = n * n * 4;
  // Materialised: the forward holds S and P, the backward ~5 N×N buffers.
  const configs: Array<{ label: string; variant: Variant; forward: boolean; backward: boolean }> = [
    { label: 'blocked', variant: { path: 'blocked', helpers: false }, forward: true, backward: true },
    // randomWalk refuses 'materialized' once P passes MATERIALIZED_MAX_BYTES (a ConfigError): those rows are skipped.
    {
      label: 'materialized',
      variant: { path: 'materialized', helpers: false },
      forward: 2 * pBytes <= MATERIALIZED_LIMIT_BYTES && pBytes <= MATERIALIZED_MAX_BYTES,
      backward: 5 * pBytes <= MATERIALIZED_LIMIT_BYTES && pBytes <= MATERIALIZED_MAX_BYTES,
    },
  ];
  // Helpers take rows only from N = 2048 on (startWalkWorkers' minNodes).
  if (threads > 1 && n >= 2048) configs.splice(1, 0, { label: `blocked ×${threads}`, variant: { path: 'blocked', helpers: true }, forward: true, backward: true });
  const variants: Record<string, () => tf.TensorContainer> = { matMul: () => tf.matMul(a, b) };
  // Forward variants right after the matMul they are compared with.
  for (const c of configs) if (c.forward) variants[`${c.label} fwd`] = forward(inputs, c.variant);
  for (const c of configs) if (c.backward) variants[`${c.label} fwd+bwd`] = forwardBackward(inputs, c.variant);
  const times = await interleaved(variants, rounds(n));
  const ms = (name: string): number | undefined => (times[name] === undefined ? undefined : median(times[name]!));
  const flops = 2 * n * n * (D + K);
  const matMulGflops = (2 * n * n * D) / (ms('matMul')! * 1e6);
  const rows: BenchRow[] = [];
  for (const c of configs) {
    const fwd = ms(`${c.label} fwd`);
    const fwdBwd = ms(`${c.label} fwd+bwd`);
    // Throughput ratio walk / matMul = (flops / fwd) / (matMul flops / matMul ms), per round.
    const throughputRatio = roundRatio(times['matMul'], times[`${c.label} fwd`]);
    const backwardRatio = roundRatio(times[`${c.label} fwd+bwd`], times[`${c.label} fwd`]);
    const peakFwd = fwd === undefined ? undefined : await peakBytes(forward(inputs, c.variant));
    const peakFwdBwd = fwdBwd === undefined ? undefined : await peakBytes(forwardBackward(inputs, c.variant));
    const notes = [
      c.variant.path === 'materialized' && pBytes > MATERIALIZED_MAX_BYTES
        ? 'skipped: P passes MATERIALIZED_MAX_BYTES (refused)'
        : fwd === undefined
          ? 'skipped: S + P pass 1 GiB'
          : fwdBwd === undefined
            ? 'fwd+bwd skipped: ~5 N×N buffers pass 1 GiB'
            : '',
      c.variant.helpers ? 'peak: this thread only (each helper holds its own tiled operands)' : '',
    ];
    rows.push({
      N: n,
      path: c.label,
      tile: c.variant.path === 'blocked' ? DEFAULT_WALK_TILE : '',
      'fwd ms': fwd ?? '',
      'fwd+bwd ms': fwdBwd ?? '',
      'fwd GFLOP/s': fwd === undefined ? '' : flops / (fwd * 1e6),
      'matMul GFLOP/s': matMulGflops,
      'fwd / matMul': throughputRatio === undefined ? '' : (throughputRatio * (D + K)) / D,
      'fwd+bwd / fwd': backwardRatio ?? '',
      'peak fwd MiB': peakFwd === undefined ? '' : peakFwd / MIB,
      'peak fwd+bwd MiB': peakFwdBwd === undefined ? '' : peakFwdBwd / MIB,
      'N² buffer MiB': pBytes / MIB,
      note: notes.filter((x) => x !== '').join('; '),
    });
  }
  tf.dispose([inputs.y, inputs.embedding, a, b]);
  return rows;
}

/** Forward and forward + backward against the tile size at one N (one thread). */
async function tileRows(n: number): Promise<BenchRow[]> {
  const inputs: WalkInputs = {
    y: tf.randomNormal([1, n, K], 0, 1, 'float32', 1) as tf.Tensor3D,
    embedding: tf.randomNormal([1, n, D], 0, 0.25, 'float32', 2) as tf.Tensor3D,
  };
  const tiles = [128, 256, 384, 512, 1024];
  const variants: Record<string, () => tf.TensorContainer> = {};
  for (const tile of tiles) {
    variants[`fwd ${tile}`] = forward(inputs, { path: 'blocked', helpers: false, blockSize: tile });
    variants[`fwd+bwd ${tile}`] = forwardBackward(inputs, { path: 'blocked', helpers: false, blockSize: tile });
  }
  const times = await interleaved(variants, rounds(n));
  tf.dispose([inputs.y, inputs.embedding]);
  const flops = 2 * n * n * (D + K);
  return tiles.map((tile) => ({
    N: n,
    tile,
    'fwd ms': median(times[`fwd ${tile}`]!),
    'fwd GFLOP/s': flops / (median(times[`fwd ${tile}`]!) * 1e6),
    'fwd+bwd ms': median(times[`fwd+bwd ${tile}`]!),
    'fwd+bwd / fwd': roundRatio(times[`fwd+bwd ${tile}`], times[`fwd ${tile}`])!,
  }));
}

export const cases: OpBenchCase[] = [
  {
    group: 'random-walk',
    name: 'blocked vs materialised, N ∈ {1024, 4096, 10201, 16384}',
    async run() {
      // One helper thread per spare core (the walk's rows are split with it).
      const threads = 1 + (process.env['SEGREFINE_BENCH_WALK_HELPERS'] === '0' ? 0 : await startWalkWorkers());
      const rows: BenchRow[] = [];
      try {
        for (const n of sizes()) rows.push(...(await sizeRows(n, threads)));
      } finally {
        await stopWalkWorkers();
      }
      return rows;
    },
  },
  {
    group: 'random-walk-tiles',
    name: 'tile size at N = 4096',
    async run() {
      return tileRows(4096);
    },
  },
];
