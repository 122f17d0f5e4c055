/**
 * Entry point of a random-walk helper thread (started by `startWalkWorkers`):
 * its own tfjs-wasm instance computes the rows it is given, reading inputs
 * from and writing results to shared memory.
 * @module
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { backwardTiles, disposeTileOperands, tileOperands } from '../refiners/diffusion/walk_backward_tiles.js';
import { disposeForwardTileOperands, forwardTileOperands, forwardTiles } from '../refiners/diffusion/walk_forward_tiles.js';
import { walkKernels } from '../refiners/diffusion/walk_kernels_wasm.js';
import { TileQueue } from '../refiners/diffusion/tile_queue.js';
import { finishJob, reportRows, sharedFloats, type WalkJob } from './walk_workers.js';

function run(job: WalkJob): void {
  const { n, d, k, blockSize } = job;
  // The reserved tile first, then tiles from the back of the shared queue.
  const queue = new TileQueue(job.queue);
  let reserved = job.reserved;
  let rows = 0;
  const take = (): number => {
    const tile = reserved >= 0 ? reserved : queue.takeBack();
    reserved = -1;
    if (tile >= 0) rows += Math.min(blockSize, n - tile * blockSize);
    return tile;
  };
  const kernels = walkKernels();
  const out = new Float32Array(job.outputs);
  tf.tidy(() => {
    const psi = tf.tensor2d(sharedFloats(job.inputs, 0, n * d), [n, d]);
    const y = tf.tensor2d(sharedFloats(job.inputs, n * d, n * k), [n, k]);
    if (job.kind === 'forward') {
      if (kernels === null) throw new Error('the tiled forward needs the fused wasm kernels');
      const ops = forwardTileOperands(psi, y, blockSize);
      const state = forwardTiles(ops, n, take, kernels);
      disposeForwardTileOperands(ops);
      out.set(state.u.dataSync(), 0);
      out.set(state.m.dataSync(), n * k);
      out.set(state.l.dataSync(), n * (k + 1));
    } else {
      let offset = n * (d + k);
      const dCol = tf.tensor2d(sharedFloats(job.inputs, offset, n), [n, 1]);
      offset += n;
      const lse = tf.tensor1d(sharedFloats(job.inputs, offset, n));
      offset += n;
      const dOut = tf.tensor2d(sharedFloats(job.inputs, offset, n * k), [n, k]);
      const ops = tileOperands(psi, y, dCol, lse, dOut, blockSize);
      const [dPsi, dY] = backwardTiles(ops, take, kernels);
      disposeTileOperands(ops);
      out.set(dPsi.dataSync(), 0);
      out.set(dY.dataSync(), n * d);
    }
  });
  reportRows(job, rows);
}

try {
  await tf.setBackend('wasm');
  await tf.ready();
  parentPort!.on('message', (job: WalkJob) => {
    try {
      run(job);
      finishJob(job);
    } catch (error) {
      finishJob(job, error);
    }
  });
  parentPort!.postMessage({ ready: true });
} catch (error) {
  parentPort!.postMessage({ ready: false, error: error instanceof Error ? error.message : String(error) });
}
