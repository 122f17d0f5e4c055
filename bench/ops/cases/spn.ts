/**
 * SPN: one four-direction, max-merged, three-way pass (`spn(x, gates,
 * { passes: 1 })`) on [1, 128, 128, 32], forward and forward + backward, by
 * the WebAssembly SIMD kernels (`implementation: 'wasm'`), by the tfjs-ops
 * path they replaced (`'ops'`, the reference) and, when a python3 with torch
 * is on the machine, by a plain PyTorch column loop on one CPU thread (what
 * a user would write; `bench/ops/torch/reference_server.py`) — all in one run,
 * alternating call by call, medians of 7 rounds. Ratios are medians of
 * per-round ratios. Each timing waits for its outputs by reading one element
 * (`read-one`): copying the 24 MB of gate gradients into JavaScript is not
 * part of the op, and PyTorch's times do not include one either. Forward +
 * backward is the vector–Jacobian product for a fixed `dy` on both sides. Also the
 * one-way mode, a 64² map, and the per-column reference differentiated by
 * tfjs's own backprop.
 */
import * as tf from '@tensorflow/tfjs';
import { spn, type SpnImplementation, type SpnMode } from '../../../src/index.js';
import { spnReference } from '../../../src/refiners/spn/reference.js';
import { median, medianRatio, timeMedian, timeOnce, type BenchRow, type OpBenchCase } from '../harness.js';
import { startTorchReference } from '../torch_reference.js';

const ROUNDS = 7;

function inputs(shape: [number, number, number, number], mode: SpnMode): [tf.Tensor4D, tf.Tensor4D] {
  const [b, h, w, c] = shape;
  const taps = mode === 'three-way' ? 3 : 1;
  // Gates in [0, 0.3) as the PyTorch reference draws them (Σ < 1: the normalisation divides nothing).
  return [tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D, tf.randomUniform([b, h, w, 4 * taps * c], 0, 0.3, 'float32', 2) as tf.Tensor4D];
}

const forward = (x: tf.Tensor4D, gates: tf.Tensor4D, mode: SpnMode, implementation: SpnImplementation) => () => spn(x, gates, { passes: 1, mode, implementation });
/**
 * Forward and backward: the vector–Jacobian product for a fixed upstream
 * gradient `dy` (PyTorch's `out.backward(dy)`), not of a `tf.sum` loss,
 * whose own gradient tfjs builds as a ones tensor filled in JS and a
 * multiply — about a fifth of a forward pass here that is not SPN's.
 */
const forwardBackward = (x: tf.Tensor4D, gates: tf.Tensor4D, dy: tf.Tensor4D, mode: SpnMode, implementation: SpnImplementation) => () =>
  tf.grads((xi: tf.Tensor, gi: tf.Tensor) => spn(xi as tf.Tensor4D, gi as tf.Tensor4D, { passes: 1, mode, implementation }))([x, gates], dy);


/** The kernels, the tfjs-ops path and PyTorch on [1, 128, 128, 32] three-way, alternating. */
async function headToHead(): Promise<BenchRow[]> {
  const shape: [number, number, number, number] = [1, 128, 128, 32];
  const [x, gates] = inputs(shape, 'three-way');
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 3) as tf.Tensor4D;
  const torch = await startTorchReference();
  const variants: Record<string, () => tf.TensorContainer> = {
    'wasm forward': forward(x, gates, 'three-way', 'wasm'),
    'ops forward': forward(x, gates, 'three-way', 'ops'),
    'wasm forward+backward': forwardBackward(x, gates, dy, 'three-way', 'wasm'),
    'ops forward+backward': forwardBackward(x, gates, dy, 'three-way', 'ops'),
  };
  const torchTimes: Record<string, number[]> = { forward: [], 'forward+backward': [] };
  const times: Record<string, number[]> = {};
  // Each round: every segrefine variant once, then the reference's two calls; round 0 warms up.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, fn] of Object.entries(variants)) {
      const ms = await timeOnce(fn, 'read-one');
      if (round > 0) (times[name] ??= []).push(ms);
    }
    if (torch === undefined) continue;
    const reference = [await torch.time('spn-forward'), await torch.time('spn-forward-backward')];
    if (round === 0) continue;
    torchTimes['forward']!.push(reference[0]!);
    torchTimes['forward+backward']!.push(reference[1]!);
  }
  torch?.close();
  tf.dispose([x, gates, dy]);
  const rows: BenchRow[] = [];
  for (const impl of ['wasm', 'ops'] as const) {
    const f = times[`${impl} forward`]!;
    const fb = times[`${impl} forward+backward`]!;
    rows.push({
      impl: impl === 'wasm' ? 'wasm kernels' : 'tfjs ops (reference)',
      mode: 'three-way',
      shape: `[${shape.join(', ')}]`,
      'forward ms': median(f),
      'forward+backward ms': median(fb),
      'f+b / f': medianRatio(fb, f),
      ...(impl === 'ops' ? { 'ops / wasm forward': medianRatio(f, times['wasm forward']!), 'ops / wasm f+b': medianRatio(fb, times['wasm forward+backward']!) } : {}),
      ...(torch !== undefined ? { 'PyTorch / this forward': medianRatio(torchTimes['forward']!, f), 'PyTorch / this f+b': medianRatio(torchTimes['forward+backward']!, fb) } : {}),
    });
  }
  if (torch !== undefined) {
    rows.push({
      impl: `PyTorch ${torch.version} CPU column loop, 1 thread`,
      mode: 'three-way',
      shape: '[1, 32, 128, 128] NCHW',
      'forward ms': median(torchTimes['forward']!),
      'forward+backward ms': median(torchTimes['forward+backward']!),
      'f+b / f': medianRatio(torchTimes['forward+backward']!, torchTimes['forward']!),
    });
  }
  return rows;
}

async function single(label: string, shape: [number, number, number, number], mode: SpnMode, pass: (x: tf.Tensor4D, g: tf.Tensor4D) => tf.Tensor4D, reps: number): Promise<BenchRow> {
  const [x, gates] = inputs(shape, mode);
  const f = await timeMedian(() => pass(x, gates), { reps, sync: 'read-one' });
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 3) as tf.Tensor4D;
  const fb = await timeMedian(() => tf.grads((xi: tf.Tensor, gi: tf.Tensor) => pass(xi as tf.Tensor4D, gi as tf.Tensor4D))([x, gates], dy), { reps, sync: 'read-one' });
  tf.dispose([x, gates, dy]);
  return { impl: label, mode, shape: `[${shape.join(', ')}]`, 'forward ms': f, 'forward+backward ms': fb, 'f+b / f': fb / f };
}

export const cases: OpBenchCase[] = [
  {
    group: 'spn',
    name: 'one four-direction pass (spn, passes: 1): kernels, tfjs ops, PyTorch',
    async run() {
      return [
        ...(await headToHead()),
        await single('wasm kernels', [1, 128, 128, 32], 'one-way', (x, g) => spn(x, g, { passes: 1, mode: 'one-way' }), 5),
        await single('wasm kernels', [1, 64, 64, 32], 'three-way', (x, g) => spn(x, g, { passes: 1 }), 5),
        await single('autodiff reference', [1, 64, 64, 32], 'three-way', (x, g) => spnReference(x, g, 1), 1),
      ];
    },
  },
];
