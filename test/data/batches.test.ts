import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConfigError, IDENTITY_PLAN, IGNORE_LABEL, IMAGENET_MEAN_RGB, SeededRandom, applyAugmentPlan, createSyntheticDataset, drawAugmentPlan, planRegion, type Batch, type ImageRegion, type BatchOptions, type Sample, type SegmentationDataset } from '../../src/index.js';
import { expectNoLeak } from '../../src/testing/index.js';

const data = createSyntheticDataset({ seed: 3, size: [32, 40], numTrain: 10, numVal: 4 });

type ReadBatch = { ids: string[]; images: Float32Array; labels: Int32Array; shape: number[]; regions: ImageRegion[] };

async function collect(dataset: SegmentationDataset, split: string, options: BatchOptions): Promise<ReadBatch[]> {
  const out = [];
  for await (const batch of dataset.batches(split, options)) out.push(read(batch));
  return out;
}

function read(batch: Batch): ReadBatch {
  const result = { ids: batch.ids, images: batch.images.dataSync() as Float32Array, labels: batch.labels.dataSync() as Int32Array, shape: batch.images.shape, regions: batch.regions };
  expect(batch.labels.dtype).toBe('int32');
  expect(batch.images.dtype).toBe('float32');
  tf.dispose([batch.images, batch.labels]);
  return result;
}

/** A 2×3 sample with distinct pixels: image byte = 10·(3y + x) + channel, label = 3y + x. */
function tinySample(): Sample {
  const image = new Uint8Array(2 * 3 * 3);
  const label = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    label[i] = i;
    for (let c = 0; c < 3; c++) image[3 * i + c] = 10 * i + c;
  }
  return { id: 'tiny', image, label, height: 2, width: 3 };
}

describe('batches', () => {
  it('yields [B,H,W,3] float images in [0,1] equal to the samples, int32 labels, ids; last batch smaller', async () => {
    const batches = await collect(data, 'train', { batchSize: 4 });
    expect(batches.map((b) => b.shape)).toEqual([
      [4, 32, 40, 3],
      [4, 32, 40, 3],
      [2, 32, 40, 3],
    ]);
    expect(batches[0]!.ids).toEqual(['train_000000', 'train_000001', 'train_000002', 'train_000003']);
    const sample = data.sample('train', 5);
    const b = batches[1]!;
    const offset = 1 * 32 * 40;
    for (let i = 0; i < 32 * 40 * 3; i += 97) expect(b.images[offset * 3 + i]).toBeCloseTo((sample.image[i] as number) / 255, 6);
    expect([...b.labels.subarray(offset, offset + 32 * 40)]).toEqual([...sample.label]);
    expect(await collect(data, 'train', { batchSize: 4, dropRemainder: true })).toHaveLength(2);
    expect((await collect(data, 'train', { batchSize: 3, limit: 4 })).map((x) => x.ids.length)).toEqual([3, 1]);
  });

  it('shuffles by seed: same seed → same order and bytes, other seed → other order', async () => {
    const order = async (seed: number): Promise<string[]> => (await collect(data, 'train', { batchSize: 5, shuffle: true, seed })).flatMap((b) => b.ids);
    const a = await order(1);
    expect(await order(1)).toEqual(a);
    expect(await order(2)).not.toEqual(a);
    expect([...a].sort()).toEqual(data.ids('train'));
    const augmented = async (): Promise<number[]> =>
      (await collect(data, 'val', { batchSize: 2, shuffle: true, seed: 5, augment: {} })).flatMap((b) => [...b.images.subarray(0, 50), ...b.labels.subarray(0, 50)]);
    expect(await augmented()).toEqual(await augmented());
  });

  it('augments to the requested size; scaling down pads the label with 255 and the image with the mean', async () => {
    const [batch] = await collect(data, 'val', { batchSize: 4, size: [24, 28], augment: {}, seed: 9 });
    expect(batch!.shape).toEqual([4, 24, 28, 3]);
    for (const value of new Set(batch!.labels)) expect(value === IGNORE_LABEL || (value >= 0 && value < data.numClasses)).toBe(true);

    // Scale 0.5 of a 32×40 sample is 16×20: the rest of a 32×40 crop is padding.
    const [half] = await collect(data, 'val', { batchSize: 1, augment: { scaleRange: [0.5, 0.5], flip: false } });
    const labels = half!.labels;
    let padded = 0;
    for (let y = 0; y < 32; y++) for (let x = 0; x < 40; x++) if (y >= 16 || x >= 20) padded += labels[y * 40 + x] === IGNORE_LABEL ? 1 : 0;
    expect(padded).toBe(32 * 40 - 16 * 20);
    expect(half!.regions).toEqual([{ top: 0, left: 0, height: 16, width: 20 }]);
    const corner = (31 * 40 + 39) * 3;
    expect([...half!.images.subarray(corner, corner + 3)].map((v) => Math.round(v * 255))).toEqual([...IMAGENET_MEAN_RGB]);
    const [zeroPad] = await collect(data, 'val', { batchSize: 1, augment: { scaleRange: [0.5, 0.5] }, imagePadValue: [0, 0, 0] });
    expect([...zeroPad!.images.subarray(corner, corner + 3)]).toEqual([0, 0, 0]);
  });

  it('without augment pads to `size` at the bottom/right and refuses a size smaller than a sample', async () => {
    const [batch] = await collect(data, 'val', { batchSize: 2, size: [36, 41] });
    const sample = data.sample('val', 0);
    expect(batch!.shape).toEqual([2, 36, 41, 3]);
    expect(batch!.labels[0]).toBe(sample.label[0]);
    expect(batch!.labels[31 * 41 + 39]).toBe(sample.label[31 * 40 + 39]);
    expect(batch!.labels[31 * 41 + 40]).toBe(IGNORE_LABEL);
    expect(batch!.labels[32 * 41]).toBe(IGNORE_LABEL);
    expect(batch!.regions).toEqual([
      { top: 0, left: 0, height: 32, width: 40 },
      { top: 0, left: 0, height: 32, width: 40 },
    ]);
    await expect(collect(data, 'val', { batchSize: 2, size: [16, 16] })).rejects.toThrow(/BatchOptions\/size must be at least every sample's size/);
  });

  it('applyAugmentPlan: identity, flip, crop offset, 2× scale (nearest labels, bilinear image), padding', () => {
    const sample = tinySample();
    const pad: [number, number, number] = [1, 2, 3];
    const same = applyAugmentPlan(sample, IDENTITY_PLAN, 2, 3, pad);
    expect([...same.label]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...same.image]).toEqual([...sample.image]);
    const flipped = applyAugmentPlan(sample, { scale: 1, flip: true, offsetY: 0, offsetX: 0 }, 2, 3, pad);
    expect([...flipped.label]).toEqual([2, 1, 0, 5, 4, 3]);
    const cropped = applyAugmentPlan(sample, { scale: 1, flip: false, offsetY: 1, offsetX: 1 }, 2, 3, pad);
    expect([...cropped.label]).toEqual([4, 5, 255, 255, 255, 255]);
    expect([...cropped.image.subarray(6, 9)]).toEqual(pad);
    const doubled = applyAugmentPlan(sample, { scale: 2, flip: false, offsetY: 0, offsetX: 0 }, 4, 6, pad);
    expect([...doubled.label]).toEqual([0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 3, 3, 4, 4, 5, 5]);
    // Output pixel (1, 1) sits at source (0.25, 0.25): bilinear weights 0.75/0.25 on pixels 0, 1, 3, 4.
    const expected = 0.75 * (0.75 * 0 + 0.25 * 10) + 0.25 * (0.75 * 30 + 0.25 * 40);
    expect(doubled.image[3 * (1 * 6 + 1)]).toBe(Math.round(expected));
  });

  it('planRegion: the rectangle holding sample pixels (at the right when flipped)', () => {
    const sample = tinySample();
    const pad: [number, number, number] = [1, 2, 3];
    for (const plan of [
      { scale: 1, flip: false, offsetY: 1, offsetX: 1 },
      { scale: 1, flip: true, offsetY: 0, offsetX: 1 },
      { scale: 2, flip: true, offsetY: 1, offsetX: 3 },
    ]) {
      const out = applyAugmentPlan(sample, plan, 3, 4, pad);
      const region = planRegion(2, 3, plan, 3, 4);
      for (let y = 0; y < 3; y++) {
        for (let x = 0; x < 4; x++) {
          const inside = y >= region.top && y < region.top + region.height && x >= region.left && x < region.left + region.width;
          expect(out.label[y * 4 + x] !== IGNORE_LABEL).toBe(inside);
        }
      }
    }
    expect(planRegion(2, 3, { scale: 1, flip: true, offsetY: 0, offsetX: 1 }, 3, 4)).toEqual({ top: 0, left: 2, height: 2, width: 2 });
  });

  it('drawAugmentPlan is seeded and stays within its ranges', () => {
    const a = drawAugmentPlan(new SeededRandom(4), 32, 40, 24, 28, { scaleRange: [0.5, 2] });
    expect(drawAugmentPlan(new SeededRandom(4), 32, 40, 24, 28, { scaleRange: [0.5, 2] })).toEqual(a);
    const rng = new SeededRandom(11);
    for (let i = 0; i < 200; i++) {
      const plan = drawAugmentPlan(rng, 32, 40, 24, 28, { scaleRange: [0.75, 1.25], flip: false });
      expect(plan.scale).toBeGreaterThanOrEqual(0.75);
      expect(plan.scale).toBeLessThan(1.25);
      expect(plan.flip).toBe(false);
      expect(plan.offsetY).toBeLessThanOrEqual(Math.max(Math.round(32 * plan.scale), 24) - 24);
      expect(plan.offsetX).toBeLessThanOrEqual(Math.max(Math.round(40 * plan.scale), 28) - 28);
    }
  });

  it('validates options with ConfigErrors and leaks no tensors', async () => {
    await expect(collect(data, 'train', { batchSize: 0 })).rejects.toThrow(/BatchOptions\/batchSize must be >= 1, got 0/);
    await expect(collect(data, 'train', { batchSize: 2, augment: { scaleRange: [2, 1] } })).rejects.toThrow(ConfigError);
    await expect(collect(data, 'train', { batchSize: 2, bogus: true } as never)).rejects.toThrow(/BatchOptions\/bogus is not a known argument/);
    expect(() => data.batches('test', { batchSize: 1 })).toThrow(/split must be one of/);
    await expectNoLeak(async () => {
      for await (const batch of data.batches('val', { batchSize: 2, augment: {} })) tf.dispose([batch.images, batch.labels]);
    });
  });
});
