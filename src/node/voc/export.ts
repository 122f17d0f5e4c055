/**
 * Writes any {@link SegmentationDataset} (e.g. the synthetic scenes) to disk
 * in the Pascal VOC layout that {@link VocDataset} and common VOC loaders read.
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { compileArgs, parseArgs } from '../../core/config.js';
import { ArgsObject, StringEnum, Type, type Static } from '../../core/schemas.js';
import { VOC_PALETTE } from '../../data/palette.js';
import type { Sample, SegmentationDataset } from '../../data/types.js';
import { encodePalettePng } from './png.js';

/** Schema of {@link ExportVocOptions} (the defaults are applied where each option is used). */
const exportVocOptions = ArgsObject({
  /**
   * Splits to write (each becomes `ImageSets/Segmentation/<split>.txt`).
   * Default: all of the dataset's splits; with both `train` and `val`, a
   * `trainval.txt` is added as in VOC.
   */
  splits: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), { minItems: 1 })),
  /**
   * Image file format. `'png'` is lossless, so the folder loads back with
   * identical pixels; `'jpeg'` writes `<id>.jpg` as VOC does (for tools that
   * only look for `.jpg`), at the cost of small compression errors.
   * @defaultValue 'png'
   */
  imageFormat: Type.Optional(StringEnum(['png', 'jpeg'])),
  /**
   * JPEG quality (1..100) with `imageFormat: 'jpeg'`; chroma is not subsampled.
   * @defaultValue 95
   */
  jpegQuality: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  /** Write at most this many samples per split (absent: all). */
  limit: Type.Optional(Type.Integer({ minimum: 0 })),
  /**
   * Samples encoded at the same time.
   * @defaultValue 4
   */
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
});

/**
 * Options of {@link exportVoc}.
 * @interface
 */
export type ExportVocOptions = Static<typeof exportVocOptions>;

/** What {@link exportVoc} wrote. */
export interface ExportVocResult {
  /** The folder written. */
  dir: string;
  /** Samples written per split. */
  counts: Record<string, number>;
  /** Number of distinct samples (image + label pairs) written. */
  written: number;
}

const exportSchema = compileArgs('ExportVocOptions', exportVocOptions);

async function writeSample(sample: Sample, dir: string, options: ExportVocOptions): Promise<void> {
  const raw = { raw: { width: sample.width, height: sample.height, channels: 3 as const } };
  const image =
    options.imageFormat === 'jpeg'
      ? await sharp(sample.image, raw).jpeg({ quality: options.jpegQuality ?? 95, chromaSubsampling: '4:4:4' }).toBuffer()
      : await sharp(sample.image, raw).png({ compressionLevel: 6 }).toBuffer();
  const extension = options.imageFormat === 'jpeg' ? 'jpg' : 'png';
  await writeFile(join(dir, 'JPEGImages', `${sample.id}.${extension}`), image);
  await writeFile(join(dir, 'SegmentationClass', `${sample.id}.png`), encodePalettePng(sample.label, sample.width, sample.height, VOC_PALETTE));
}

/**
 * Writes `dataset` to `dir` in VOC layout: `JPEGImages/<id>.png|.jpg`,
 * `SegmentationClass/<id>.png` (8-bit palette PNG with the VOC palette,
 * index = class, 255 = void), `ImageSets/Segmentation/<split>.txt`, and
 * `segrefine.json` with the class names. Existing files are overwritten.
 * @param dataset - the source dataset
 * @param dir - the output folder (created if missing)
 * @param options - see {@link ExportVocOptions}
 */
export async function exportVoc(dataset: SegmentationDataset, dir: string, options: ExportVocOptions = {}): Promise<ExportVocResult> {
  const opts = parseArgs(exportSchema, options);
  const splits = opts.splits ?? [...dataset.splits];
  const splitIds = new Map<string, string[]>();
  for (const split of splits) {
    const ids = dataset.ids(split);
    splitIds.set(split, [...(opts.limit !== undefined ? ids.slice(0, opts.limit) : ids)]);
  }
  for (const sub of ['JPEGImages', 'SegmentationClass', join('ImageSets', 'Segmentation')]) await mkdir(join(dir, sub), { recursive: true });

  const unique = [...new Set([...splitIds.values()].flat())];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < unique.length) {
      const id = unique[next++] as string;
      await writeSample(await dataset.load(id), dir, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, Math.max(1, unique.length)) }, worker));

  const counts: Record<string, number> = {};
  for (const [split, ids] of splitIds) {
    counts[split] = ids.length;
    await writeFile(join(dir, 'ImageSets', 'Segmentation', `${split}.txt`), ids.map((id) => `${id}\n`).join(''));
  }
  const train = splitIds.get('train');
  const val = splitIds.get('val');
  if (train !== undefined && val !== undefined && !splitIds.has('trainval')) {
    const trainval = [...new Set([...train, ...val])];
    await writeFile(join(dir, 'ImageSets', 'Segmentation', 'trainval.txt'), trainval.map((id) => `${id}\n`).join(''));
  }
  const metadata = { format: 'segrefine-voc', version: 1, source: dataset.name, classNames: dataset.classNames, imageFormat: opts.imageFormat ?? 'png' };
  await writeFile(join(dir, 'segrefine.json'), `${JSON.stringify(metadata, null, 2)}\n`);
  return { dir, counts, written: unique.length };
}
