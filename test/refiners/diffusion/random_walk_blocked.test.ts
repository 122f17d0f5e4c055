import * as tf from '@tensorflow/tfjs';
import { afterAll, expect, it } from 'vitest';
import { ConfigError, DataError, DiffusionHead, randomWalk, type WalkPath } from '../../../src/index.js';
import { startWalkWorkers, stopWalkWorkers, walkWorkerCount } from '../../../src/node/index.js';
import { AUTO_BLOCKED_MIN_ELEMENTS, resolveWalkPath } from '../../../src/refiners/diffusion/random_walk.js';
import { blockedPropagation } from '../../../src/refiners/diffusion/random_walk_blocked.js';
import { MAX_QUEUED_TILES, TileQueue } from '../../../src/refiners/diffusion/tile_queue.js';
import { walkKernels } from '../../../src/refiners/diffusion/walk_kernels_wasm.js';
import { activeWalkPool } from '../../../src/refiners/diffusion/walk_pool.js';
import { walkWorkerRows } from '../../../src/node/walk_workers.js';
import { checkGradients, expectNoLeak, expectTensorClose, peakTensorBytes } from '../../../src/testing/index.js';
import { describeOnBackends } from '../../helpers/backends.js';

/** B = 2, N = 37 (blocks of 8: four full blocks and a ragged one of 5; N % 4 ≠ 0 exercises the SIMD row tails). */
function walkInputs(n = 37, scale = 1.2): tf.Tensor[] {
  return [
    tf.randomNormal([2, n, 3], 0, 1, 'float32', 11),
    tf.randomNormal([2, n, 3], 0, 1, 'float32', 12),
    tf.randomNormal([2, n, 5], 0, scale, 'float32', 13),
    tf.scalar(0.65),
    tf.scalar(0.3),
  ];
}

const walkOn = (path: WalkPath, blockSize?: number) => (y: tf.Tensor, seed: tf.Tensor, e: tf.Tensor, mu: tf.Tensor, beta: tf.Tensor): tf.Tensor3D =>
  randomWalk({ y: y as tf.Tensor3D, seed: seed as tf.Tensor3D, embedding: e as tf.Tensor3D, mu: mu as tf.Scalar, beta: beta as tf.Scalar, path, blockSize });

describeOnBackends('randomWalk, blocked path', (backend) => {
  it('uses the fused SIMD kernels on wasm (and tfjs ops elsewhere)', () => {
    expect(walkKernels() !== null).toBe(backend === 'wasm');
  });

  it('computes exp to float32 accuracy in the fused tile kernel, rows and mirrored columns (wasm)', () => {
    const kernels = walkKernels();
    if (kernels === null) return; // tfjs ops elsewhere
    // A 1 × 4003 off-diagonal tile from 0 down to −100: the row max is 0, so the
    // kernel returns exp(x) itself; each column's own max is its entry, so the
    // mirrored side is exp(0) = 1 everywhere. 4003 entries: a ragged tail too.
    const xs = Float32Array.from({ length: 4003 }, (_, i) => -i * 0.025);
    const tile = tf.tensor2d(xs, [1, xs.length]);
    const state = kernels.onlineState(xs.length + 1, 2);
    const mirrored = kernels.tileExp(tile, state, 0, 1)!;
    const got = tile.dataSync();
    let worst = 0;
    let sum = 0;
    xs.forEach((x, i) => {
      const expected = Math.exp(x);
      sum += got[i]!;
      if (x < Math.fround(-87.3)) expect(got[i]).toBe(0);
      else worst = Math.max(worst, Math.abs(got[i]! - expected) / expected);
    });
    expect(worst).toBeLessThan(3e-7);
    expect(mirrored.shape).toEqual([xs.length, 1]);
    expect(Array.from(mirrored.dataSync()).every((v) => v === 1)).toBe(true);
    const [m, l] = [state.m.dataSync(), state.l.dataSync()];
    expect(Math.abs(m[0]!)).toBe(0);
    expect(l[0]).toBeCloseTo(sum, 4);
    expect(Array.from(m.slice(1))).toEqual(Array.from(xs));
    expect(Array.from(l.slice(1)).every((v) => v === 1)).toBe(true);
    tf.dispose([tile, mirrored, state.u, state.m, state.l, state.alpha]);
  });

  it('matches the materialised path, forward and gradients w.r.t. y, seed, embedding, μ and β', () => {
    const xs = walkInputs();
    const R = tf.randomNormal([2, 37, 3], 0, 1, 'float32', 14);
    for (const blockSize of [8, 64]) {
      tf.tidy(() => {
        const reference = walkOn('materialized')(...(xs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]));
        const blocked = walkOn('blocked', blockSize)(...(xs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]));
        expectTensorClose(blocked, reference, { atol: 2e-6, rtol: 1e-5 });
        const loss = (path: WalkPath) => (...inputs: tf.Tensor[]): tf.Scalar =>
          tf.sum(tf.mul(walkOn(path, blockSize)(...(inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])), R));
        const expected = tf.grads(loss('materialized'))(xs);
        const actual = tf.grads(loss('blocked'))(xs);
        expected.forEach((g, i) => expectTensorClose(actual[i]!, g, { atol: 1e-5, rtol: 1e-4 }));
      });
    }
    tf.dispose([...xs, R]);
  });

  it('gives the same numbers with the fused kernels and with plain tfjs ops', () => {
    tf.tidy(() => {
      const [y, , e] = walkInputs(23) as tf.Tensor3D[];
      const R = tf.randomNormal([2, 23, 3], 0, 1, 'float32', 15);
      const loss = (kernels: 'fused' | 'ops') => (p: tf.Tensor, v: tf.Tensor): tf.Scalar =>
        tf.sum(tf.mul(blockedPropagation(p as tf.Tensor3D, v as tf.Tensor3D, { blockSize: 6, tileSize: 5, kernels }), R));
      const [fused, ops] = [loss('fused'), loss('ops')].map((f) => tf.valueAndGrads(f)([e!, y!]));
      expectTensorClose(fused!.value, ops!.value, { atol: 1e-4, rtol: 1e-5 });
      fused!.grads.forEach((g, i) => expectTensorClose(g, ops!.grads[i]!, { atol: 1e-5, rtol: 1e-4 }));
    });
  });

  it('holds well under one N×N buffer during forward + backward, with the kernels and with tfjs ops', async () => {
    const n = 256;
    const y = tf.randomNormal([1, n, 3], 0, 1, 'float32', 21) as tf.Tensor3D;
    const e = tf.randomNormal([1, n, 5], 0, 1, 'float32', 22) as tf.Tensor3D;
    for (const kernels of ['fused', 'ops'] as const) {
      // 32 tiles of 8: 528 pairs, so tiles kept alive per pair would pass N² floats (the peak grows as N: ~96 KB here).
      const peak = await peakTensorBytes(() =>
        tf.grads((p: tf.Tensor, v: tf.Tensor) => tf.sum(blockedPropagation(p as tf.Tensor3D, v as tf.Tensor3D, { blockSize: 8, tileSize: 8, kernels })))([e, y]),
      );
      expect(peak).toBeLessThan((n * n * 4) / 2);
    }
    tf.dispose([y, e]);
  });

  it('agrees with finite differences', () => {
    const xs = walkInputs(10, 0.7).map((x) => (x.rank === 3 ? tf.slice(x, [0, 0, 0], [1, -1, -1]) : tf.clone(x)));
    const result = checkGradients(walkOn('blocked', 3), xs, { epsilon: [1, 1, 1e-2, 1e-2, 1e-2] });
    expect(result.maxRelError).toBeLessThan(1e-3);
    tf.dispose(xs);
  });

  it('handles tiny N, a block larger than N and single-row blocks', () => {
    tf.tidy(() => {
      for (const [n, blockSize] of [[3, 8], [5, 1], [9, 4]] as const) {
        const xs = walkInputs(n) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        expectTensorClose(walkOn('blocked', blockSize)(...xs), walkOn('materialized')(...xs), { atol: 2e-6, rtol: 1e-5 });
      }
    });
  });

  it('stays finite and exact for embeddings with entries up to ±1e3 (gradients included)', () => {
    tf.tidy(() => {
      const s = tf.randomNormal([2, 30, 4], 0, 1, 'float32', 1) as tf.Tensor3D;
      const f = tf.mul(tf.randomUniform([2, 30, 8], -1, 1, 'float32', 2), 1e3) as tf.Tensor3D;
      const walk = (path: WalkPath) => (e: tf.Tensor, y: tf.Tensor): tf.Scalar =>
        tf.sum(tf.square(randomWalk({ y: y as tf.Tensor3D, seed: s, embedding: e as tf.Tensor3D, mu: 0.7, beta: 0.2, path, blockSize: 7 })));
      const blocked = tf.valueAndGrads(walk('blocked'))([f, s]);
      const reference = tf.valueAndGrads(walk('materialized'))([f, s]);
      expect(tf.all(tf.isFinite(blocked.value)).dataSync()[0]).toBe(1);
      expectTensorClose(blocked.value, reference.value, { atol: 1e-3, rtol: 1e-5 });
      // P is one-hot here, so dΨ is 0 up to rounding: the blocked path forms
      // dO_i·y_j − D_i with D_i = dO_i·O_i summed in another order, a float32
      // residue of ~1e-7·|dO||y| times |Ψ| ≈ 1e3 (1e-6 of dΨ's natural scale).
      blocked.grads.forEach((g, i) => {
        expect(tf.all(tf.isFinite(g)).dataSync()[0]).toBe(1);
        expectTensorClose(g, reference.grads[i]!, { atol: i === 0 ? 1e-2 : 1e-4, rtol: 1e-4 });
      });
    });
  });

  it('passes NaN in the embedding on as NaN, like the materialised path', () => {
    tf.tidy(() => {
      const s = tf.ones([1, 6, 2]) as tf.Tensor3D;
      const f = tf.tensor3d([[[1, 0], [0, 1], [NaN, 1], [1, 1], [0, 0], [2, 1]]]);
      const y = randomWalk({ y: s, seed: s, embedding: f, mu: 0.5, beta: 0.5, path: 'blocked', blockSize: 4 });
      expect(tf.any(tf.isNaN(y)).dataSync()[0]).toBe(1);
    });
  });

  it('does not leak, forward or backward', async () => {
    const xs = walkInputs(19);
    await expectNoLeak(() => walkOn('blocked', 4)(...(xs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])));
    await expectNoLeak(() => tf.grads((...inputs: tf.Tensor[]) => tf.sum(walkOn('blocked', 4)(...(inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]))))(xs));
    tf.dispose(xs);
  });

  it('lets the DiffusionHead force either path with the same result', () => {
    tf.tidy(() => {
      const scores = tf.randomNormal([1, 5, 7, 3], 0, 1, 'float32', 21) as tf.Tensor4D;
      const features = [tf.randomNormal([1, 5, 7, 4], 0, 1, 'float32', 22) as tf.Tensor4D, tf.randomNormal([1, 10, 14, 2], 0, 1, 'float32', 23) as tf.Tensor4D];
      const outputs = (['materialized', 'blocked', 'auto'] as const).map((walkPath) => {
        const head = new DiffusionHead({ walks: 2, embeddingDim: 6, walkPath, seed: 1 });
        const out = head.refine({ scores, features });
        expect(head.getConfig()['walkPath']).toBe(walkPath);
        return out;
      });
      expectTensorClose(outputs[1]!, outputs[0]!, { atol: 1e-5 });
      expectTensorClose(outputs[2]!, outputs[0]!, { atol: 1e-5 });
    });
  });
});

it('auto picks the blocked path once P reaches 2²² elements, and bad options are typed errors', () => {
  expect(resolveWalkPath(undefined, 1, 100)).toBe('materialized');
  expect(resolveWalkPath('auto', 1, 2047)).toBe('materialized');
  expect(resolveWalkPath('auto', 1, 2048)).toBe('blocked');
  expect(resolveWalkPath('auto', 4, 1024)).toBe('blocked');
  expect(2048 * 2048).toBe(AUTO_BLOCKED_MIN_ELEMENTS);
  expect(resolveWalkPath('materialized', 1, 1e4)).toBe('materialized');
  expect(resolveWalkPath('blocked', 1, 4)).toBe('blocked');
  const s = tf.zeros([1, 6, 2]) as tf.Tensor3D;
  const f = tf.zeros([1, 6, 3]) as tf.Tensor3D;
  expect(() => randomWalk({ y: s, seed: s, embedding: f, mu: 0.5, beta: 0.5, path: 'fast' as WalkPath })).toThrow(/randomWalk.path must be one of auto, materialized, blocked/);
  expect(() => randomWalk({ y: s, seed: s, embedding: f, mu: 0.5, beta: 0.5, path: 'blocked', blockSize: 0 })).toThrow(DataError);
  expect(() => randomWalk({ y: s, seed: s, embedding: f, mu: 0.5, beta: 0.5, blockSize: 2.5 })).toThrow(/randomWalk.blockSize must be an integer ≥ 1, got 2.5/);
  expect(() => new DiffusionHead({ walkPath: 'fast' as WalkPath })).toThrow(/walkPath/);
  tf.dispose([s, f]);
});

it('shares tile pairs with helper threads (wasm) and gives the same values and gradients', async () => {
  afterAll(stopWalkWorkers);
  await expect(startWalkWorkers({ threads: 0 })).rejects.toThrow(ConfigError);
  const xs = walkInputs(41);
  const R = tf.randomNormal([2, 41, 3], 0, 1, 'float32', 16);
  const loss = (...inputs: tf.Tensor[]): tf.Scalar => tf.sum(tf.mul(walkOn('blocked', 6)(...(inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])), R));
  const alone = tf.valueAndGrads(loss)(xs);
  expect(await startWalkWorkers({ threads: 2, minNodes: 16 })).toBe(2);
  expect(walkWorkerCount()).toBe(2);
  const rowsBefore = walkWorkerRows();
  const shared = tf.valueAndGrads(loss)(xs);
  // 7 row tiles of 6 per pass; each helper takes at least its reserved tile
  // (the last two: 5 and 6 rows), then more from the back of the queue as it can.
  const handed = walkWorkerRows() - rowsBefore;
  expect(handed).toBeGreaterThanOrEqual(4 * (5 + 6));
  expect(handed).toBeLessThanOrEqual(4 * 41);
  expectTensorClose(shared.value, alone.value, { atol: 1e-5, rtol: 1e-6 });
  shared.grads.forEach((g, i) => expectTensorClose(g, alone.grads[i]!, { atol: 1e-5, rtol: 1e-5 }));
  await expectNoLeak(() => tf.grads(loss)(xs));
  // Too many tiles for the shared queue: the walk keeps to the calling thread.
  expect(activeWalkPool(1 << 20, MAX_QUEUED_TILES + 1)).toBeUndefined();
  expect(activeWalkPool(1 << 20, MAX_QUEUED_TILES)).toBeDefined();
  await stopWalkWorkers();
  expect(walkWorkerCount()).toBe(0);
  tf.dispose([...xs, R, alone.value, ...alone.grads, shared.value, ...shared.grads]);
});

it('hands out every tile once from a two-ended queue, keeping the reserved ones out', () => {
  const queue = new TileQueue(10, 2);
  const other = new TileQueue(queue.buffer); // another thread's view
  const taken = [queue.takeFront(), other.takeBack(), queue.takeFront(), other.takeBack()];
  expect(taken).toEqual([0, 7, 1, 6]);
  for (let t = queue.takeFront(); t >= 0; t = queue.takeFront()) taken.push(t);
  expect(taken.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(other.takeBack()).toBe(-1);
  expect(new TileQueue(3, 5).takeFront()).toBe(-1);
  expect(() => new TileQueue(70000)).toThrow(RangeError);
});
