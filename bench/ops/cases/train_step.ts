/**
 * Images/second of one training step (forward, backward, SGD update) of
 * Sim-DeepLab-18 and DifNet-18 at 128×128, batch 4, on wasm and on cpu.
 * The two backends alternate within one run and the medians are compared,
 * so machine load affects both alike. The cpu backend is slow: few reps.
 *
 * `SEGREFINE_BENCH_WIDTH` (default 1) scales the ResNets' widths and
 * `SEGREFINE_BENCH_REPS` (default 3) sets the timed reps per backend.
 */
import * as tf from '@tensorflow/tfjs';
import { SegmentationOptimizer, createDifNet, createSegmenter, trainOnBatch, type SegmentationBatch } from '../../../src/index.js';
import { median, type BenchRow, type OpBenchCase } from '../harness.js';

const SIZE = 128;
const BATCH = 4;
const CLASSES = 21;
const BACKENDS = ['wasm', 'cpu'] as const;

function width(): number {
  return Number(process.env['SEGREFINE_BENCH_WIDTH'] ?? '1');
}

function reps(): number {
  return Number(process.env['SEGREFINE_BENCH_REPS'] ?? '3');
}

const MODELS: Record<string, () => tf.LayersModel> = {
  'Sim-DeepLab-18': () => createSegmenter({ backbone: { type: 'sim-deeplab', depth: 18, width: width(), classes: CLASSES, seed: 1 }, inputSize: [SIZE, SIZE] }),
  'DifNet-18': () => createDifNet({ depth: 18, width: width(), classes: CLASSES, inputSize: [SIZE, SIZE], seed: 1 }),
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

async function timeStep(s: Setup, label: string): Promise<number> {
  const start = performance.now();
  await trainOnBatch(s.model, s.batch, s.optimizer);
  const ms = performance.now() - start;
  // Progress on stderr: a cpu step of the full-width models takes minutes.
  process.stderr.write(`    ${label}: ${(ms / 1000).toFixed(1)} s\n`);
  return ms;
}

export const cases: OpBenchCase[] = [
  {
    group: 'train-step',
    name: `Sim-DeepLab-18 and DifNet-18, ${SIZE}×${SIZE}, batch ${BATCH}, wasm vs cpu`,
    async run() {
      const previous = tf.getBackend();
      const rows: BenchRow[] = [];
      try {
        for (const [name, build] of Object.entries(MODELS)) {
          const setups: Record<string, Setup> = {};
          for (const backend of BACKENDS) {
            await tf.setBackend(backend);
            setups[backend] = setup(build);
            await timeStep(setups[backend]!, `${name} ${backend} warm-up`); // builds optimiser slots, kernel caches
          }
          const times: Record<string, number[]> = { wasm: [], cpu: [] };
          for (let r = 0; r < reps(); r++) {
            for (const backend of BACKENDS) {
              await tf.setBackend(backend);
              times[backend]!.push(await timeStep(setups[backend]!, `${name} ${backend} rep ${r + 1}`));
            }
          }
          const ms = { wasm: median(times['wasm']!), cpu: median(times['cpu']!) };
          const params = setups['wasm']!.model.countParams();
          rows.push({
            model: name,
            width: width(),
            params,
            size: SIZE,
            batch: BATCH,
            reps: reps(),
            'wasm ms/step': ms.wasm,
            'cpu ms/step': ms.cpu,
            'wasm img/s': (BATCH * 1000) / ms.wasm,
            'cpu img/s': (BATCH * 1000) / ms.cpu,
            'wasm/cpu speed-up': ms.cpu / ms.wasm,
          });
          for (const backend of BACKENDS) {
            await tf.setBackend(backend);
            const s = setups[backend]!;
            s.optimizer.dispose();
            s.model.dispose();
            tf.dispose([s.batch.images, s.batch.labels]);
          }
        }
      } finally {
        await tf.setBackend(previous);
      }
      return rows;
    },
  },
];
