/**
 * ConvCrf old vs new in the same run: the tfjs-ops window path (k² shifted
 * tensors per step, `SEGREFINE_CONV_CRF_KERNEL=ops`, the reference) against
 * the fused WebAssembly SIMD window kernels (`fused`, the default on wasm and
 * cpu), forward (`refine`, what the bench's evaluation times) and forward +
 * backward (`tf.variableGrads` of a projected loss through `apply`, what a
 * training step does). Layer defaults (k 7, 5 iterations, pos 3/3, bilateral
 * 80/13/10, symmetric). The first size is the default bench's: batches of 8
 * images of 64×64 with 4 classes. Variants alternate within each round after
 * a warm-up round; medians of 7 rounds.
 *
 * When a python3 with torch is on the machine, PyTorch runs the same mean
 * field in the same rounds (`bench/ops/torch/conv_crf.py`: ConvCRF as
 * Teichmann & Cipolla's convcrf.py computes it — F.unfold windows, the
 * Gaussian from the unfolded features, messages as unfolded Q × kernel
 * summed over the window, avg-pool "blur" and bilinear upsampling, the
 * compatibility matrix — on as many threads as the tfjs backend, 1 on
 * wasm here, OPENBLAS_NUM_THREADS alike; its backward differentiates the
 * same weights). `bench/ops/torch/check_conv_crf.ts` checks that it computes
 * segrefine's numbers (logits and weight gradients within 3e-6 relative, both
 * paths, every normalisation, downsample 1 and 2); only the scores' resize
 * to the image differs (PyTorch's half-pixel bilinear, the same cost).
 * `PyTorch / fused` is the median of per-round ratios (> 1: segrefine faster).
 */
import * as tf from '@tensorflow/tfjs';
import { ConvCrf } from '../../../src/index.js';
import { backendThreads, interleaved, median, medianRatio, type BenchRow, type OpBenchCase } from '../harness.js';
import { startTorchReference } from '../torch_reference.js';

const ROUNDS = 7;
const IMPLEMENTATIONS = ['ops', 'fused'] as const;
const SETTINGS = [
  { size: 64, batch: 8, labels: 4, downsample: 1 },
  { size: 128, batch: 1, labels: 4, downsample: 1 },
  { size: 128, batch: 1, labels: 21, downsample: 1 },
  { size: 128, batch: 1, labels: 4, downsample: 2 },
];

/** Runs `fn` with the ConvCrf implementation forced through `SEGREFINE_CONV_CRF_KERNEL`. */
function withImplementation<T>(implementation: (typeof IMPLEMENTATIONS)[number], fn: () => T): T {
  const saved = process.env['SEGREFINE_CONV_CRF_KERNEL'];
  process.env['SEGREFINE_CONV_CRF_KERNEL'] = implementation;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env['SEGREFINE_CONV_CRF_KERNEL'];
    else process.env['SEGREFINE_CONV_CRF_KERNEL'] = saved;
  }
}

export const cases: OpBenchCase[] = [
  {
    group: 'conv-crf',
    name: 'ConvCrf tfjs ops vs fused window kernels vs PyTorch (unfold), forward and forward + backward',
    async run() {
      const rows: BenchRow[] = [];
      const threads = await backendThreads();
      const torch = await startTorchReference(threads);
      try {
        for (const { size, batch, labels, downsample } of SETTINGS) {
          const scores = tf.randomNormal([batch, size / 8, size / 8, labels], 0, 1.5, 'float32', 1) as tf.Tensor4D;
          const image = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
          const projection = tf.randomNormal([batch, size, size, labels], 0, 1, 'float32', 3);
          const layer = new ConvCrf({ downsample, outputSize: [size, size] });
          const forward = (): tf.Tensor => layer.refine({ scores, image });
          const backward = (): tf.TensorContainer =>
            tf.variableGrads(() => tf.sum(tf.mul(layer.apply([scores, image], { training: true }) as tf.Tensor, projection)), layer.trainableWeights.map((w) => w.read() as tf.Variable));
          const torchCall = (pass: string): string => `conv-crf-${pass} ${size} ${batch} ${labels} ${downsample}`;
          for (const [pass, fn, reference] of [['forward', forward, 'forward'], ['forward + backward', backward, 'forward-backward']] as const) {
            const variants = Object.fromEntries(IMPLEMENTATIONS.map((impl) => [impl, () => withImplementation(impl, fn)]));
            const references: Record<string, () => Promise<number>> = torch === undefined ? {} : { torch: () => torch.time(torchCall(reference)) };
            const times = await interleaved(variants, ROUNDS, references);
            const ops = median(times['ops']!);
            const fused = median(times['fused']!);
            rows.push({
              op: `ConvCrf ${pass}`,
              size: `${size}×${size}`,
              batch,
              labels,
              'k / downsample / iterations': `7 / ${downsample} / 5`,
              'ops ms': ops,
              'fused ms': fused,
              'ops ms / image': ops / batch,
              'fused ms / image': fused / batch,
              speedup: ops / fused,
              ...(torch !== undefined ? { 'PyTorch ms': median(times['torch']!), 'PyTorch / fused': medianRatio(times['torch']!, times['fused']!) } : {}),
              backend: tf.getBackend(),
              ...(torch !== undefined ? { reference: `PyTorch ${torch.version} CPU, unfold, ${torch.threads} thread${torch.threads === 1 ? '' : 's'}` } : {}),
            });
          }
          layer.dispose();
          tf.dispose([scores, image, projection]);
        }
      } finally {
        torch?.close();
      }
      return rows;
    },
  },
];
