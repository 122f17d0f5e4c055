import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DataError, VOC_CLASS_NAMES, VOC_PALETTE, createSyntheticDataset } from '../../src/index.js';
import { VocDataset, encodePalettePng, exportVoc, type SkippedSample } from '../../src/node/index.js';

const root = mkdtempSync(join(tmpdir(), 'segrefine-voc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const data = createSyntheticDataset({ seed: 5, size: [40, 48], numTrain: 5, numVal: 3 });

/** Writes a minimal VOC folder by hand: ids → { image RGB, label, height, width }. */
async function handMadeVoc(name: string, samples: Record<string, { label: Buffer; height: number; width: number }>): Promise<string> {
  const dir = join(root, name);
  for (const sub of ['JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation']) mkdirSync(join(dir, sub), { recursive: true });
  for (const [id, { label, height, width }] of Object.entries(samples)) {
    const image = Buffer.alloc(height * width * 3, 128);
    await sharp(image, { raw: { width, height, channels: 3 } }).jpeg().toFile(join(dir, 'JPEGImages', `${id}.jpg`));
    writeFileSync(join(dir, 'SegmentationClass', `${id}.png`), label);
  }
  writeFileSync(join(dir, 'ImageSets/Segmentation/val.txt'), `${Object.keys(samples).join('\n')}\n`);
  return dir;
}

describe('exportVoc + VocDataset', () => {
  it('PNG export loads back with identical pixels, splits, ids and class names', async () => {
    const dir = join(root, 'png');
    const result = await exportVoc(data, dir);
    expect(result).toEqual({ dir, counts: { train: 5, val: 3 }, written: 8 });
    const voc = await VocDataset.open(dir);
    expect(voc.splits).toEqual(['train', 'trainval', 'val']);
    expect(voc.ids('val')).toEqual(data.ids('val'));
    expect(voc.ids('trainval')).toHaveLength(8);
    expect(voc.classNames).toEqual(data.classNames);
    for (const id of voc.ids('trainval')) {
      const [loaded, original] = await Promise.all([voc.load(id), data.load(id)]);
      expect([loaded.height, loaded.width]).toEqual([40, 48]);
      expect(Buffer.from(loaded.image).equals(Buffer.from(original.image))).toBe(true);
      expect(Buffer.from(loaded.label).equals(Buffer.from(original.label))).toBe(true);
    }
    // Streaming batches from disk equal the generator's batches.
    const fromDisk = voc.batches('train', { batchSize: 5 });
    const fromMemory = data.batches('train', { batchSize: 5 });
    const a = (await fromDisk.next()).value!;
    const b = (await fromMemory.next()).value!;
    expect(a.ids).toEqual(b.ids);
    expect(Buffer.from((a.labels.dataSync() as Int32Array).buffer).equals(Buffer.from((b.labels.dataSync() as Int32Array).buffer))).toBe(true);
    expect(Buffer.from((a.images.dataSync() as Float32Array).buffer).equals(Buffer.from((b.images.dataSync() as Float32Array).buffer))).toBe(true);
    tf.dispose([a.images, a.labels, b.images, b.labels]);
    // An id is a file name inside the folder, never a path out of it.
    for (const id of ['../png/JPEGImages/train_000000', 'sub/train_000000', '..\\x', '..', '']) {
      await expect(voc.load(id)).rejects.toThrow(/^id must be a file name inside the dataset folder/);
    }
  });

  it('labels are 8-bit palette PNGs with the VOC palette, index = class', async () => {
    const file = join(root, 'png', 'SegmentationClass', 'val_000001.png');
    const meta = await sharp(file).metadata();
    expect(meta.isPalette).toBe(true);
    const { data: rgb, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    const label = data.sample('val', 1).label;
    for (let i = 0; i < label.length; i += 7) {
      const c = label[i] as number;
      expect([rgb[i * info.channels], rgb[i * info.channels + 1], rgb[i * info.channels + 2]]).toEqual([VOC_PALETTE[3 * c], VOC_PALETTE[3 * c + 1], VOC_PALETTE[3 * c + 2]]);
    }
    expect([...VOC_PALETTE.subarray(0, 9)]).toEqual([0, 0, 0, 128, 0, 0, 0, 128, 0]);
    expect([...VOC_PALETTE.subarray(255 * 3)]).toEqual([224, 224, 192]);
  });

  it('JPEG export (VOC file type): labels exact, images within JPEG error', async () => {
    const dir = join(root, 'jpeg');
    await exportVoc(data, dir, { imageFormat: 'jpeg', jpegQuality: 100, splits: ['val'] });
    const voc = await VocDataset.open(dir);
    expect(voc.imagePath('val_000000')).toMatch(/JPEGImages[/\\]val_000000\.jpg$/);
    let sumError = 0;
    let maxError = 0;
    for (const id of voc.ids('val')) {
      const [loaded, original] = await Promise.all([voc.load(id), data.load(id)]);
      expect(Buffer.from(loaded.label).equals(Buffer.from(original.label))).toBe(true);
      for (let i = 0; i < loaded.image.length; i++) {
        const error = Math.abs((loaded.image[i] as number) - (original.image[i] as number));
        sumError += error;
        maxError = Math.max(maxError, error);
      }
    }
    expect(sumError / (3 * 40 * 48 * 3)).toBeLessThan(1);
    expect(maxError).toBeLessThan(16);
  });

  it('reads grey and RGB (VOC colours) label PNGs, uses VOC class names by default', async () => {
    const width = 4;
    const height = 2;
    const grey = Buffer.from([0, 1, 2, 255, 20, 0, 0, 1]);
    const rgb = Buffer.alloc(width * height * 3);
    grey.forEach((c, i) => rgb.set(VOC_PALETTE.subarray(3 * c, 3 * c + 3), 3 * i));
    const dir = await handMadeVoc('formats', {
      grey: { label: await sharp(grey, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer(), height, width },
      rgb: { label: await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer(), height, width },
    });
    const voc = await VocDataset.open(dir);
    expect(voc.classNames).toEqual(VOC_CLASS_NAMES);
    expect([...(await voc.load('grey')).label]).toEqual([...grey]);
    expect([...(await voc.load('rgb')).label]).toEqual([...grey]);
  });

  it('bad labels are DataErrors naming the file: out-of-range value, size mismatch, unknown colour', async () => {
    const dir = await handMadeVoc('badlabels', {
      range: { label: encodePalettePng(Uint8Array.from([0, 1, 30, 0]), 2, 2, VOC_PALETTE), height: 2, width: 2 },
      size: { label: encodePalettePng(new Uint8Array(6), 3, 2, VOC_PALETTE), height: 2, width: 2 },
      colour: { label: await sharp(Buffer.from([1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]), { raw: { width: 2, height: 2, channels: 3 } }).png().toBuffer(), height: 2, width: 2 },
    });
    const voc = await VocDataset.open(dir);
    await expect(voc.load('range')).rejects.toThrow(/SegmentationClass[/\\]range\.png must hold labels < 21 or 255 .*got 30/);
    await expect(voc.load('size')).rejects.toThrow(/SegmentationClass[/\\]size\.png must have its image's size 2×2, got "2×3"/);
    await expect(voc.load('colour')).rejects.toThrow(/colour\.png must use only VOC palette colours/);
  });

  describe('a corrupt file', () => {
    async function corruptCopy(name: string): Promise<string> {
      const dir = join(root, name);
      await exportVoc(data, dir, { splits: ['train'] });
      // Truncate one label PNG mid-stream and overwrite one image with garbage.
      const label = join(dir, 'SegmentationClass', 'train_000001.png');
      truncateSync(label, Math.floor(readFileSync(label).length / 2));
      writeFileSync(join(dir, 'JPEGImages', 'train_000003.png'), Buffer.from('definitely not an image'));
      return dir;
    }

    it("stops with a DataError naming the file (onError: 'stop', the default)", async () => {
      const voc = await VocDataset.open(await corruptCopy('stop'));
      let caught: unknown;
      try {
        for await (const batch of voc.batches('train', { batchSize: 2 })) tf.dispose([batch.images, batch.labels]);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(DataError);
      expect((caught as DataError).argument).toMatch(/SegmentationClass[/\\]train_000001\.png$/);
      expect((caught as Error).message).toMatch(/train_000001\.png must be a valid PNG label image/);
      await expect(voc.load('train_000003')).rejects.toThrow(/JPEGImages[/\\]train_000003\.png must be a valid JPEG or PNG image/);
    });

    it("skips, reports and records the bad samples (onError: 'skip')", async () => {
      const reported: SkippedSample[] = [];
      const voc = await VocDataset.open(await corruptCopy('skip'), { onError: 'skip', onSkip: (s) => reported.push(s) });
      const ids: string[] = [];
      for await (const batch of voc.batches('train', { batchSize: 2 })) {
        ids.push(...batch.ids);
        expect(batch.images.shape[0]).toBe(batch.ids.length);
        tf.dispose([batch.images, batch.labels]);
      }
      expect(ids).toEqual(['train_000000', 'train_000002', 'train_000004']);
      expect(reported.map((s) => s.id)).toEqual(['train_000001', 'train_000003']);
      expect(reported[0]!.file).toMatch(/SegmentationClass[/\\]train_000001\.png$/);
      expect(reported[1]!.error).toBeInstanceOf(DataError);
      expect(reported[1]!.error.message).toMatch(/train_000003\.png/);
      expect(voc.skipped).toEqual(reported);
    });
  });

  it('missing folders and files are DataErrors naming them; bad options are ConfigErrors', async () => {
    await expect(VocDataset.open(join(root, 'nope'))).rejects.toThrow(/nope must be a folder \(VOC layout\)/);
    const dir = join(root, 'png');
    await expect(VocDataset.open(dir, { labelDir: 'SegmentationClassAug' })).rejects.toThrow(/SegmentationClassAug must be a folder/);
    await expect(VocDataset.open(dir, { onError: 'ignore' as never })).rejects.toThrow(ConfigError);
    const voc = await VocDataset.open(dir);
    await expect(voc.load('missing')).rejects.toThrow(/JPEGImages[/\\]missing\.jpg must exist/);
    expect(() => voc.ids('test')).toThrow(/split must be one of "train", "trainval", "val", got "test"/);
  });

  it('samples of different sizes need BatchOptions.size; with it they are padded with 255', async () => {
    const dir = await handMadeVoc('sizes', {
      a: { label: encodePalettePng(new Uint8Array(6).fill(1), 3, 2, VOC_PALETTE), height: 2, width: 3 },
      b: { label: encodePalettePng(new Uint8Array(4).fill(2), 2, 2, VOC_PALETTE), height: 2, width: 2 },
    });
    const voc = await VocDataset.open(dir);
    const unsized = voc.batches('val', { batchSize: 2 });
    await expect(unsized.next()).rejects.toThrow(/BatchOptions\/size must be set when samples differ in size/);
    const { value } = await voc.batches('val', { batchSize: 2, size: [2, 3] }).next();
    expect([...(value!.labels.dataSync() as Int32Array)]).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 255, 2, 2, 255]);
    tf.dispose([value!.images, value!.labels]);
  });
});
