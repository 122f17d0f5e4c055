/**
 * `npx tsx bench/ops/torch/check_conv_crf.ts`: checks that the PyTorch
 * ConvCRF reference of `conv_crf.py` (what the conv-crf bench times) computes
 * the same numbers as segrefine's `ConvCrf` — logits and the gradients of the
 * kernel weights and the compatibility matrix — on small inputs, for the
 * fused kernels and the tfjs-ops path, each normalisation and downsample 1
 * and 2 (sizes not divisible by it). Scores are given at the image size: the
 * bench's reference resizes them with PyTorch's half-pixel bilinear, tfjs's
 * `resizeBilinear` samples without the half-pixel offset (same cost, other
 * values). Exits non-zero on a difference over 1e-4 (relative to the
 * largest magnitude).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ConvCrf, initBackend } from '../../../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const python = process.env['SEGREFINE_TORCH_PYTHON'] ?? '/usr/bin/python3';
const TOLERANCE = 1e-4;

function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return a.length === b.length ? diff / scale : Infinity;
}

await initBackend('auto');
let worst = 0;
for (const implementation of ['fused', 'ops'] as const) {
  for (const { normalization, downsample, k } of [
    { normalization: 'symmetric', downsample: 1, k: 5 },
    { normalization: 'after', downsample: 1, k: 7 },
    { normalization: 'none', downsample: 1, k: 3 },
    { normalization: 'symmetric', downsample: 2, k: 5 },
  ] as const) {
    process.env['SEGREFINE_CONV_CRF_KERNEL'] = implementation;
    const [batch, height, width, labels] = [2, 13, 11, 3];
    const scores = tf.randomNormal([batch, height, width, labels], 0, 1.5, 'float32', 1) as tf.Tensor4D;
    const image = tf.randomUniform([batch, height, width, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const projection = tf.randomNormal([batch, height, width, labels], 0, 1, 'float32', 3) as tf.Tensor4D;
    const layer = new ConvCrf({ kernelSize: k, downsample, normalization, iterations: 3 });
    layer.apply([scores, image]);
    const weightValues = [2.5, 7];
    const compatibility = tf.add(tf.eye(labels), tf.randomNormal([labels, labels], 0, 0.3, 'float32', 4));
    layer.setWeights([tf.scalar(weightValues[0]!), tf.scalar(weightValues[1]!), compatibility]);
    const variables = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    const logits = layer.apply([scores, image]) as tf.Tensor;
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply([scores, image], { training: true }) as tf.Tensor, projection)), variables);
    const problem = {
      scores: await scores.array(),
      image: await image.array(),
      projection: await projection.array(),
      weights: weightValues,
      compatibility: await compatibility.array(),
      k,
      iterations: 3,
      downsample,
      normalization,
    };
    const run = spawnSync(python, [join(here, 'check_conv_crf.py')], { input: JSON.stringify(problem), env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, maxBuffer: 1 << 26 });
    if (run.status !== 0) throw new Error(`check_conv_crf.py failed: ${run.stderr.toString()}`);
    const reference = JSON.parse(run.stdout.toString()) as { logits: number[]; weightGrads: number[]; compatibilityGrad: number[] };
    const errors = {
      logits: maxRelative(logits.dataSync(), reference.logits),
      weightGrads: maxRelative(variables.slice(0, 2).map((v) => grads[v.name]!.dataSync()[0]!), reference.weightGrads),
      compatibilityGrad: maxRelative(grads[variables[2]!.name]!.dataSync(), reference.compatibilityGrad),
    };
    const caseWorst = Math.max(...Object.values(errors));
    worst = Math.max(worst, caseWorst);
    console.log(`${implementation} ${normalization} s=${downsample} k=${k}: ` + Object.entries(errors).map(([n, e]) => `${n} ${e.toExponential(2)}`).join(', ') + (caseWorst > TOLERANCE ? '  FAIL' : ''));
    layer.dispose();
    tf.dispose([scores, image, projection, compatibility, logits, ...Object.values(grads)]);
  }
}
console.log(`worst relative difference ${worst.toExponential(2)} (tolerance ${TOLERANCE})`);
process.exitCode = worst > TOLERANCE ? 1 : 0;
