/**
 * A tiny seeded scene generator for the training tests: coloured discs and
 * rectangles (one class each) on a noisy background (class 0), with an
 * optional one-pixel void (255) band around every shape.
 */
import * as tf from '@tensorflow/tfjs';
import type { SegmentationBatch } from '../../src/index.js';

/** Mulberry32: a small, fast, seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link sceneBatch}. */
export interface SceneOptions {
  batch: number;
  size: number;
  classes: number;
  seed: number;
  /** Mark a one-pixel band around shapes as void (255). */
  voidBand?: boolean;
}

/** One batch of scenes; the same options give the same tensors. */
export function sceneBatch(o: SceneOptions): SegmentationBatch {
  const rand = prng(o.seed);
  const { size, classes } = o;
  const pixels = o.batch * size * size;
  const image = new Float32Array(pixels * 3);
  const label = new Int32Array(pixels);
  // Class colours are fixed across scenes (seeded by the class only), so the task is learnable.
  const colour = Array.from({ length: classes }, (_, k) => {
    const r = prng(1000 + k);
    return [r(), r(), r()];
  });
  for (let b = 0; b < o.batch; b++) {
    const base = b * size * size;
    for (let i = 0; i < size * size; i++) label[base + i] = 0;
    const shapes = 1 + Math.floor(rand() * 3);
    for (let s = 0; s < shapes; s++) {
      const k = 1 + Math.floor(rand() * (classes - 1));
      const cy = rand() * size;
      const cx = rand() * size;
      const radius = size * (0.12 + rand() * 0.2);
      const disc = rand() < 0.5;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const d = disc ? Math.hypot(y - cy, x - cx) : Math.max(Math.abs(y - cy), Math.abs(x - cx));
          if (d < radius) label[base + y * size + x] = k;
          else if (o.voidBand === true && d < radius + 1) label[base + y * size + x] = 255;
        }
      }
    }
    for (let i = 0; i < size * size; i++) {
      const k = label[base + i] === 255 ? 0 : label[base + i]!;
      for (let c = 0; c < 3; c++) image[(base + i) * 3 + c] = Math.min(1, Math.max(0, colour[k]![c]! * 0.7 + rand() * 0.3));
    }
  }
  return {
    images: tf.tensor4d(image, [o.batch, size, size, 3]),
    labels: tf.tensor3d(label, [o.batch, size, size], 'int32'),
  };
}

/** A batch source: `steps` batches per epoch, different per epoch, identical across runs. */
export function sceneSource(o: Omit<SceneOptions, 'seed'> & { seed?: number; steps: number }): (epoch: number) => Iterable<SegmentationBatch> {
  return function* batches(epoch: number) {
    for (let i = 0; i < o.steps; i++) yield sceneBatch({ ...o, seed: (o.seed ?? 0) * 100_003 + epoch * 1009 + i });
  };
}
