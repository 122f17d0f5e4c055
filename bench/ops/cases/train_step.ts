/**
 * Images/second of one training step (forward, backward, SGD update) of
 * Sim-DeepLab-18 and DifNet-18 at 128×128, batch 4, on wasm and on cpu.
 * The two backends alternate within one run and the medians are compared,
 * so machine load affects both alike. The cpu backend is slow: few reps.
 *
 * When a python3 with torch is on the machine, the same Sim-DeepLab-18 step
 * in PyTorch joins every round (`bench/ops/torch/sim_deeplab.py`: the
 * network written directly — ResNet-18 basic blocks at the same width,
 * output stride 8 by dilation, the ASPP head, bilinear upsampling; the same
 * parameter count, checked — cross-entropy, backward, momentum SGD with
 * weight decay on the conv kernels as `SegmentationOptimizer` does), on as
 * many threads as tfjs-wasm computes on (1 here; OPENBLAS_NUM_THREADS
 * alike). `PyTorch / wasm` is the median of per-round ratios (> 1: segrefine
 * faster). No DifNet-18 reference.
 *
 * `SEGREFINE_BENCH_WIDTH` (default 1; a comma list such as `0.25,1` runs
 * each) scales the ResNets' widths, `SEGREFINE_BENCH_REPS` (default 3) sets
 * the timed reps per backend, `SEGREFINE_BENCH_BACKENDS` (default
 * `wasm,cpu`) the tfjs backends (a cpu step of the full-width models takes
 * minutes) and `SEGREFINE_BENCH_MODELS` (default both) the models, e.g.
 * `Sim-DeepLab-18`.
 */
import * as tf from '@tensorflow/tfjs';
import { SegmentationOptimizer, createDifNet, createSegmenter, trainOnBatch, type SegmentationBatch } from '../../../src/index.js';
import { backendThreads, median, medianRatio, type BenchRow, type OpBenchCase } from '../harness.js';
import { startTorchReference, type TorchReference } from '../torch_reference.js';

const SIZE = 128;
const BATCH = 4;
const CLASSES = 21;

function list(name: string, fallback: string): string[] {
  return (process.env[name] ?? fallback).split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function widths(): number[] {
  return list('SEGREFINE_BENCH_WIDTH', '1').map(Number);
}

function reps(): number {
  return Number(process.env['SEGREFINE_BENCH_REPS'] ?? '3');
}

function backends(): string[] {
  return list('SEGREFINE_BENCH_BACKENDS', 'wasm,cpu');
}

const MODELS: Record<string, (width: number) => tf.LayersModel> = {
  'Sim-DeepLab-18': (width) => createSegmenter({ backbone: { type: 'sim-deeplab', depth: 18, width, classes: CLASSES, seed: 1 }, inputSize: [SIZE, SIZE] }),
  'DifNet-18': (width) => createDifNet({ depth: 18, width, classes: CLASSES, inputSize: [SIZE, SIZE], seed: 1 }),
};

/** The PyTorch reference's step of a model, if it has one. */
const TORCH_STEPS: Record<string, { step: (width: number) => string; params: (width: number) => string }> = {
  'Sim-DeepLab-18': {
    step: (width) => `train-step-sim-deeplab-18 ${width} ${BATCH} ${SIZE} ${CLASSES}`,
    params: (width) => `params-sim-deeplab-18 ${width} ${CLASSES}`,
  },
};

interface Setup {
  model: tf.LayersModel;
  optimizer: SegmentationOptimizer;
  batch: SegmentationBatch;
}

/** Builds the model, its optimiser and a batch on the current backend. */
function setup(build: () => tf.LayersModel): Setup {
  const model = build();
  const optimizer = new SegmentationOptimizer({ type: 'sgd', learningRate: 1e-3, momentum: 0.9, weightDecay: 5e-4 });
  const batch = tf.tidy(() => ({
    images: tf.randomUniform([BATCH, SIZE, SIZE, 3], 0, 1, 'float32', 1) as tf.Tensor4D,
    labels: tf.randomUniform([BATCH, SIZE, SIZE], 0, CLASSES, 'int32', 2) as tf.Tensor3D,
  }));
  return { model, optimizer, batch };
}

function progress(label: string, ms: number): number {
  // Progress on stderr: a cpu step of the full-width models takes minutes.
  process.stderr.write(`    ${label}: ${(ms / 1000).toFixed(2)} s\n`);
  return ms;
}

async function timeStep(s: Setup, label: string): Promise<number> {
  const start = performance.now();
  await trainOnBatch(s.model, s.batch, s.optimizer);
  return progress(label, performance.now() - start);
}

async function timeTorch(torch: TorchReference, call: string, label: string): Promise<number> {
  return progress(label, await torch.time(call));
}

export const cases: OpBenchCase[] = [
  {
    group: 'train-step',
    name: `Sim-DeepLab-18 and DifNet-18, ${SIZE}×${SIZE}, batch ${BATCH}, wasm vs cpu (vs PyTorch)`,
    async run() {
      const previous = tf.getBackend();
      const rows: BenchRow[] = [];
      const tfjsBackends = backends();
      const models = list('SEGREFINE_BENCH_MODELS', Object.keys(MODELS).join(','));
      let torch: TorchReference | undefined;
      if (models.some((m) => TORCH_STEPS[m] !== undefined)) {
        await tf.setBackend('wasm');
        torch = await startTorchReference(await backendThreads());
      }
      try {
        for (const width of widths()) {
          for (const name of models) {
            const build = MODELS[name];
            if (build === undefined) throw new Error(`SEGREFINE_BENCH_MODELS: unknown model ${name} (${Object.keys(MODELS).join(', ')})`);
            const reference = torch !== undefined ? TORCH_STEPS[name] : undefined;
            const setups: Record<string, Setup> = {};
            for (const backend of tfjsBackends) {
              await tf.setBackend(backend);
              setups[backend] = setup(() => build(width));
              await timeStep(setups[backend]!, `${name} ${width} ${backend} warm-up`); // builds optimiser slots, kernel caches
            }
            if (reference !== undefined) await timeTorch(torch!, reference.step(width), `${name} ${width} PyTorch warm-up`);
            const times: Record<string, number[]> = {};
            for (let r = 0; r < reps(); r++) {
              for (const backend of tfjsBackends) {
                await tf.setBackend(backend);
                (times[backend] ??= []).push(await timeStep(setups[backend]!, `${name} ${width} ${backend} rep ${r + 1}`));
              }
              if (reference !== undefined) (times['torch'] ??= []).push(await timeTorch(torch!, reference.step(width), `${name} ${width} PyTorch rep ${r + 1}`));
            }
            const params = setups[tfjsBackends[0]!]!.model.countParams();
            const row: BenchRow = { model: name, width, params, size: SIZE, batch: BATCH, reps: reps() };
            const ms = Object.fromEntries(tfjsBackends.map((b) => [b, median(times[b]!)]));
            for (const backend of tfjsBackends) row[`${backend} ms/step`] = ms[backend]!;
            for (const backend of tfjsBackends) row[`${backend} img/s`] = (BATCH * 1000) / ms[backend]!;
            if (ms['wasm'] !== undefined && ms['cpu'] !== undefined) row['wasm/cpu speed-up'] = ms['cpu'] / ms['wasm'];
            if (reference !== undefined) {
              const torchParams = await torch!.value(reference.params(width));
              if (torchParams !== params) throw new Error(`PyTorch ${name} at width ${width} has ${torchParams} weights, segrefine's ${params}`);
              row['PyTorch ms/step'] = median(times['torch']!);
              row['PyTorch img/s'] = (BATCH * 1000) / median(times['torch']!);
              if (times['wasm'] !== undefined) row['PyTorch / wasm'] = medianRatio(times['torch']!, times['wasm']);
              row['reference'] = `PyTorch ${torch!.version} CPU, ${torch!.threads} thread${torch!.threads === 1 ? '' : 's'}, same weights count`;
            }
            rows.push(row);
            for (const backend of tfjsBackends) {
              await tf.setBackend(backend);
              const s = setups[backend]!;
              s.optimizer.dispose();
              s.model.dispose();
              tf.dispose([s.batch.images, s.batch.labels]);
            }
          }
        }
      } finally {
        torch?.close();
        await tf.setBackend(previous);
      }
      return rows;
    },
  },
];
