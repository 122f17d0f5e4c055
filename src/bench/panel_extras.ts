/**
 * DifNet's intermediates as panel tiles: the seed's labels, the importance
 * map, each walk's labels and the transition rows of two nodes.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { DiffusionHead } from '../refiners/diffusion/diffusion_head.js';
import type { RefinerInputs } from '../core/refiner.js';
import { heatTile, labelTile, type PanelTile } from './report/panels.js';

async function upsampled(map: tf.Tensor4D, size: [number, number]): Promise<Float32Array> {
  const big = tf.image.resizeNearestNeighbor(map, size);
  const values = (await big.data()) as Float32Array;
  big.dispose();
  return values;
}

async function labelsOf(logits: tf.Tensor4D, size: [number, number]): Promise<Uint8Array> {
  const labels = tf.tidy(() => tf.cast(tf.argMax(tf.image.resizeNearestNeighbor(logits, size), 3), 'int32'));
  const bytes = Uint8Array.from(await labels.data());
  labels.dispose();
  return bytes;
}

/**
 * Tiles for one image from the head's inspection of its inputs.
 * @param head - the DiffusionHead
 * @param inputs - the head's inputs for that image (batch of 1)
 * @param size - the image size `[height, width]`
 */
export async function difnetTiles(head: DiffusionHead, inputs: RefinerInputs, size: [number, number]): Promise<PanelTile[]> {
  const [height, width] = size;
  const inspection = head.inspect(inputs, { checkFinite: false });
  try {
    const tiles: PanelTile[] = [labelTile('DifNet seed', await labelsOf(inspection.seed, size), width, height)];
    tiles.push(heatTile('importance M', await upsampled(inspection.importance, size), width, height, [0, 1]));
    for (const [t, walk] of inspection.walks.entries()) tiles.push(labelTile(`walk ${t + 1}`, await labelsOf(walk, size), width, height));
    const [, h, w] = inspection.seed.shape;
    const nodes: [number, number][] = [[Math.floor(h / 2), Math.floor(w / 2)], [Math.floor(h / 4), Math.floor(w / 4)]];
    const last = inspection.walks.length - 1;
    const rows = inspection.transitionRows(last, nodes);
    for (const [i, node] of nodes.entries()) {
      const row = tf.tidy(() => tf.reshape(tf.slice(rows, [i, 0, 0], [1, h, w]), [1, h, w, 1]) as tf.Tensor4D);
      tiles.push(heatTile(`P${last + 1} row (${node[0]},${node[1]})`, await upsampled(row, size), width, height));
      row.dispose();
    }
    rows.dispose();
    return tiles;
  } finally {
    inspection.dispose();
  }
}
