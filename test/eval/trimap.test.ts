import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_TRIMAP_RADII, SeededRandom, TrimapIou, squaredDistanceTransform, trimapIou } from '../../src/index.js';

describe('squaredDistanceTransform', () => {
  it('equals brute force on random masks, Infinity without seeds', () => {
    const rng = new SeededRandom(1);
    for (const [height, width, density] of [
      [9, 11, 0.1],
      [1, 7, 0.3],
      [13, 4, 0.02],
    ] as const) {
      const seeds = Uint8Array.from({ length: height * width }, () => (rng.chance(density) ? 1 : 0));
      seeds[rng.int(seeds.length)] = 1;
      const fast = squaredDistanceTransform(seeds, height, width);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          let best = Infinity;
          for (let j = 0; j < seeds.length; j++) if (seeds[j]) best = Math.min(best, (Math.floor(j / width) - y) ** 2 + ((j % width) - x) ** 2);
          expect(fast[y * width + x]).toBe(best);
        }
      }
    }
    expect([...squaredDistanceTransform(new Uint8Array(6), 2, 3)]).toEqual(new Array(6).fill(Infinity));
  });
});

describe('TrimapIou', () => {
  it('1-D hand case: band around a void pixel', () => {
    // truth: 0 0 0 255 1 1 1 1 ; distances to the void pixel: 3 2 1 – 1 2 3 4
    // pred:  0 0 1 1   1 1 0 1
    // r=1: pixels 2 (t0,p1), 4 (t1,p1)                 → IoU0 0, IoU1 1/2          → mIoU 1/4, acc 1/2
    // r=2: + 1 (t0,p0), 5 (t1,p1)                      → IoU0 1/2, IoU1 2/3        → mIoU 7/12, acc 3/4
    // r=3: + 0 (t0,p0), 6 (t1,p0)                      → IoU0 2/4, IoU1 2/4        → mIoU 1/2, acc 4/6
    const truth = [0, 0, 0, 255, 1, 1, 1, 1];
    const pred = [0, 0, 1, 1, 1, 1, 0, 1];
    const result = new TrimapIou(2, { radii: [1, 2, 3] }).update(pred, truth, [1, 8]).result();
    expect(result.radii).toEqual([1, 2, 3]);
    expect(result.pixels).toEqual([2, 4, 6]);
    expect(result.meanIou[0]).toBeCloseTo(1 / 4, 12);
    expect(result.meanIou[1]).toBeCloseTo(7 / 12, 12);
    expect(result.meanIou[2]).toBeCloseTo(1 / 2, 12);
    expect(result.pixelAccuracy).toEqual([0.5, 0.75, expect.closeTo(4 / 6, 12)]);
  });

  it('2-D hand case: Euclidean bands around a class change (no void)', () => {
    // 5×5 background with class 1 at the centre. Boundary pixels: the centre and its 4 neighbours (d = 0).
    // d = 1: 4 diagonal neighbours + 4 pixels two steps out on the axes → 13 pixels within r = 1;
    // d = √2: the 8 edge pixels beside those → 21 within r = 1.5; d = √5: the 4 corners → 25 within 2.5.
    const truth = new Array(25).fill(0);
    truth[12] = 1;
    const pred = new Array(25).fill(0);
    const result = trimapIou([pred], [truth], 2, { radii: [0.5, 1, 1.5, 2.5] }, [5, 5]);
    expect(result.pixels).toEqual([5, 13, 21, 25]);
    // r = 1: (0,0) = 12, (1,0) = 1 → IoU0 = 12/13, IoU1 = 0 → mIoU 6/13.
    expect(result.meanIou[1]).toBeCloseTo(6 / 13, 12);
    expect(result.pixelAccuracy[3]).toBeCloseTo(24 / 25, 12);
  });

  it('voidIsBoundary: false measures from class changes only; an empty band is null', () => {
    // truth 0 0 255 255 0 0 1 1: seeds are the void pixels 2, 3 and the class change 5|6.
    // From void and changes: d = 2 1 – – 1 0 0 1 → 5 pixels within r = 1; from changes only: d = 5 4 – – 1 0 0 1 → 4.
    const truth = [0, 0, 255, 255, 0, 0, 1, 1];
    const pred = [0, 0, 0, 0, 0, 0, 0, 1];
    expect(new TrimapIou(2, { radii: [1] }).update(pred, truth, [1, 8]).result().pixels).toEqual([5]);
    expect(new TrimapIou(2, { radii: [1], voidIsBoundary: false }).update(pred, truth, [1, 8]).result().pixels).toEqual([4]);
    const flat = new TrimapIou(2, { radii: [3] }).update([0, 0, 0], [0, 0, 0], [1, 3]).result();
    expect(flat).toEqual({ radii: [3], meanIou: [null], pixelAccuracy: [null], pixels: [0] });
  });

  it('accumulates per image across batches; tensors [B,H,W] equal per-image arrays; merge adds', () => {
    const rng = new SeededRandom(2);
    const maps = Array.from({ length: 2 }, () => ({
      truth: Int32Array.from({ length: 6 * 7 }, () => (rng.chance(0.1) ? 255 : rng.int(3))),
      pred: Int32Array.from({ length: 6 * 7 }, () => rng.int(3)),
    }));
    const perImage = new TrimapIou(3, { radii: [1, 2] });
    for (const { pred, truth } of maps) perImage.update(pred, truth, [6, 7]);
    const truthTensor = tf.tensor3d([...maps[0]!.truth, ...maps[1]!.truth], [2, 6, 7], 'int32');
    const predTensor = tf.tensor3d([...maps[0]!.pred, ...maps[1]!.pred], [2, 6, 7], 'int32');
    const batched = new TrimapIou(3, { radii: [1, 2] }).update(predTensor, truthTensor);
    tf.dispose([truthTensor, predTensor]);
    expect(batched.result()).toEqual(perImage.result());
    const merged = new TrimapIou(3, { radii: [1, 2] }).update(maps[0]!.pred, maps[0]!.truth, [6, 7]);
    merged.merge(new TrimapIou(3, { radii: [1, 2] }).update(maps[1]!.pred, maps[1]!.truth, [6, 7]));
    expect(merged.result()).toEqual(perImage.result());
    expect(batched.matrices()[1]!.total).toBe(batched.result().pixels[1]);
  });

  it('defaults to radii 1..40 and validates radii', () => {
    expect(new TrimapIou(2).radii).toEqual(DEFAULT_TRIMAP_RADII);
    expect(DEFAULT_TRIMAP_RADII).toHaveLength(40);
    expect(() => new TrimapIou(2, { radii: [2, 1] })).toThrow(ConfigError);
    expect(() => new TrimapIou(2, { radii: [] })).toThrow(/TrimapOptions\/radii must be a non-empty list/);
    expect(() => new TrimapIou(2).merge(new TrimapIou(2, { radii: [1] }))).toThrow(ConfigError);
  });
});
