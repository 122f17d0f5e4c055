// Catalogue (issue 16), part 3: train / trainOnBatch, resuming from a bad
// checkpoint (memory and file stores), loading a model with a truncated
// weights file, and VOC folders with broken files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll } from 'vitest';
import {
  ConfigError,
  createSegmenter,
  DataError,
  SegmentationOptimizer,
  ShapeError,
  storeIO,
  train,
  trainOnBatch,
  type CheckpointStore,
  type SegmentationBatch,
  type TrainOptions,
} from '../../src/index.js';
import { encodePalettePng, fileCheckpointStore, fileSystemIO, loadCheckpointModel, VocDataset } from '../../src/node/index.js';
import { VOC_PALETTE } from '../../src/data/palette.js';
import { catalogue, filled, scoped, unit, type Row } from './catalogue.js';
import { encodeSamplePng } from './png_fixtures.js';

const SIZE = 16;
const CLASSES = 3;
const root = mkdtempSync(join(tmpdir(), 'segrefine-catalogue-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tinyModel = (): tf.LayersModel => createSegmenter({ backbone: { type: 'fcn', channels: 4, classes: CLASSES, seed: 1 }, inputSize: [SIZE, SIZE] });

/** A valid batch; `images`/`labels` replace its parts. */
function batch(parts: Partial<SegmentationBatch> = {}): SegmentationBatch {
  return { images: parts.images ?? unit([1, SIZE, SIZE, 3]), labels: parts.labels ?? (tf.zeros([1, SIZE, SIZE], 'int32') as tf.Tensor3D) };
}

/** train() on one batch for one step (the loop disposes the batch). */
function trainOn(make: () => SegmentationBatch, extra: Partial<TrainOptions> = {}): Promise<unknown> {
  return scoped((own) => train(own(tinyModel()), { data: () => [make()], epochs: 1, stepsPerEpoch: 1, ...extra }));
}

/** A store over a plain map of files (copied, so each row corrupts its own). */
function mapStore(files: ReadonlyMap<string, Uint8Array>, location = 'memory-copy'): CheckpointStore {
  const copy = new Map([...files].map(([name, data]) => [name, data.slice()]));
  return { location, read: async (name) => copy.get(name)?.slice(), write: async (name, data) => void copy.set(name, data.slice()) };
}

const checkpoint = new Map<string, Uint8Array>();
const resumeOptions = (store: CheckpointStore): Partial<TrainOptions> => ({ epochs: 2, optimizer: { type: 'adam', learningRate: 0.01 }, checkpoint: { store } });

beforeAll(async () => {
  const recorder: CheckpointStore = { location: 'fixture', read: async (name) => checkpoint.get(name), write: async (name, data) => void checkpoint.set(name, data.slice()) };
  const model = tinyModel();
  await train(model, { data: () => [batch()], epochs: 1, stepsPerEpoch: 1, optimizer: { type: 'adam', learningRate: 0.01 }, checkpoint: { store: recorder } });
  model.dispose();
  // A saved model whose weights file is cut short, and one whose model.json is.
  mkdirSync(join(root, 'model'));
  writeFileSync(join(root, 'model', 'model.json'), checkpoint.get('model.json')!);
  writeFileSync(join(root, 'model', 'weights.bin'), checkpoint.get('weights.bin')!.subarray(0, 100));
  mkdirSync(join(root, 'badjson'));
  writeFileSync(join(root, 'badjson', 'model.json'), '{ "modelTopology": ');
});

/** A resume from the fixture checkpoint with one file replaced. */
function resumeRow(name: string, file: string, replace: (bytes: Uint8Array) => Uint8Array | string, error: Row['error'], message: RegExp): Row {
  return {
    name,
    error,
    message,
    run: () => {
      const store = mapStore(checkpoint, 'ckpt');
      const bytes = replace(checkpoint.get(file)!);
      void store.write(file, typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
      return trainOn(() => batch(), resumeOptions(store));
    },
  };
}
const sidecar = (change: Record<string, unknown>) => (bytes: Uint8Array): string => JSON.stringify({ ...JSON.parse(new TextDecoder().decode(bytes)), ...change });

const training: Row[] = [
  { name: 'train: data is a number', error: ConfigError, message: /data must be an \(async\) iterable of batches/, run: () => trainOn(() => batch(), { data: 5 as never }) },
  { name: 'train: images in 0–255', error: DataError, message: /batch 1\.images must hold RGB values in \[0, 1\]/, run: () => trainOn(() => batch({ images: filled([1, SIZE, SIZE, 3], 200) })) },
  { name: 'train: int32 images', error: DataError, message: /batch 1\.images must be float32 RGB in \[0, 1\]/, run: () => trainOn(() => batch({ images: filled([1, SIZE, SIZE, 3], 1, 'int32') })) },
  { name: 'train: float labels', error: DataError, message: /batch 1\.labels must have dtype int32/, run: () => trainOn(() => batch({ labels: tf.zeros([1, SIZE, SIZE]) as tf.Tensor3D })) },
  { name: 'train: label 7 with 3 classes', error: DataError, message: /labels must be in \[0, 3\) or 255 \(void\), got 7/, run: () => trainOn(() => batch({ labels: tf.fill([1, SIZE, SIZE], 7, 'int32') as tf.Tensor3D })) },
  { name: 'train: labels of another size', error: ShapeError, message: /batch 1\.labels must match the images' \[B, H, W\]/, run: () => trainOn(() => batch({ labels: tf.zeros([1, 8, 8], 'int32') as tf.Tensor3D })) },
  { name: 'train: checkpoint.directory', error: ConfigError, message: /checkpoint\.directory is not an option: pass store: fileCheckpointStore/, run: () => trainOn(() => batch(), { checkpoint: { directory: 'runs/x' } as never }) },
  { name: 'train: checkpoint.store is a string', error: ConfigError, message: /checkpoint\.store must be a CheckpointStore/, run: () => trainOn(() => batch(), { checkpoint: { store: 'runs/x' as never } }) },
  { name: 'train: epochs 0', error: ConfigError, message: /TrainOptions\/epochs must be >= 1/, run: () => trainOn(() => batch(), { epochs: 0 }) },
  {
    name: 'trainOnBatch: int32 images',
    error: DataError,
    message: /batch 1\.images must be float32/,
    run: () =>
      scoped((own) => {
        const images = own(filled([1, SIZE, SIZE, 3], 1, 'int32'));
        const labels = own(tf.zeros([1, SIZE, SIZE], 'int32')) as tf.Tensor3D;
        return trainOnBatch(own(tinyModel()), { images, labels }, own(new SegmentationOptimizer()));
      }),
  },
  {
    name: 'trainOnBatch: rank-2 labels',
    error: ShapeError,
    message: /batch 1\.labels must be a tensor \[B, H, W\]/,
    run: () =>
      scoped((own) => {
        const images = own(unit([1, SIZE, SIZE, 3]));
        const labels = own(tf.zeros([SIZE, SIZE], 'int32'));
        return trainOnBatch(own(tinyModel()), { images, labels: labels as unknown as tf.Tensor3D }, own(new SegmentationOptimizer()));
      }),
  },
];

const resume: Row[] = [
  resumeRow('resume: training.json is not JSON', 'training.json', () => '{ not json', DataError, /ckpt\/training\.json must be valid JSON/),
  resumeRow('resume: step -5', 'training.json', sidecar({ step: -5 }), DataError, /training\.json step must be an integer >= 0, got -5/),
  resumeRow('resume: step 1e6 of a 2-step training', 'training.json', sidecar({ step: 1e6, stepInEpoch: 0 }), DataError, /step must be <= the 2 steps of this training to resume, got 1000000/),
  resumeRow('resume: stepInEpoch > step', 'training.json', sidecar({ stepInEpoch: 9 }), DataError, /training\.json stepInEpoch must be <= step/),
  resumeRow('resume: another format', 'training.json', sidecar({ format: 'keras' }), DataError, /training\.json must be a segrefine checkpoint/),
  resumeRow('resume: truncated optimizer.bin', 'optimizer.bin', (bytes) => bytes.subarray(0, 10), DataError, /ckpt\/optimizer\.bin must hold the optimizer weights training\.json lists/),
  resumeRow('resume: truncated weights.bin', 'weights.bin', (bytes) => bytes.subarray(0, 64), DataError, /ckpt\/weights\.bin must hold the \d+ bytes model\.json lists \(truncated\?\)/),
  resumeRow('resume: model.json is not JSON', 'model.json', () => '{', DataError, /ckpt\/model\.json must be valid JSON/),
  {
    name: 'resume: another optimizer than the checkpoint’s',
    error: ConfigError,
    message: /optimizer must match the checkpoint's \('adam'\) to resume/,
    run: () => trainOn(() => batch(), { ...resumeOptions(mapStore(checkpoint)), optimizer: { type: 'sgd', learningRate: 0.01 } }),
  },
  {
    name: 'resume (file store): truncated optimizer.bin',
    error: DataError,
    message: /optimizer\.bin must hold the optimizer weights/,
    run: () => {
      const dir = join(root, `ckpt-${Math.random().toString(36).slice(2)}`);
      mkdirSync(dir);
      for (const [name, data] of checkpoint) writeFileSync(join(dir, name), name === 'optimizer.bin' ? data.subarray(0, 10) : data);
      return trainOn(() => batch(), resumeOptions(fileCheckpointStore(dir)));
    },
  },
];

const loading: Row[] = [
  { name: 'loadCheckpointModel: truncated weights.bin', error: DataError, message: /model\/weights\.bin must hold the \d+ bytes model\.json lists \(truncated\?\)/, run: () => loadCheckpointModel(join(root, 'model')) },
  { name: 'tf.loadLayersModel(fileSystemIO): truncated weights.bin', error: DataError, message: /weights\.bin must hold the \d+ bytes/, run: () => tf.loadLayersModel(fileSystemIO(join(root, 'model'))) },
  { name: 'tf.loadLayersModel(fileSystemIO): no model.json', error: DataError, message: /location must contain model\.json/, run: () => tf.loadLayersModel(fileSystemIO(join(root, 'nothing-here'))) },
  { name: 'tf.loadLayersModel(fileSystemIO): model.json cut short', error: DataError, message: /badjson\/model\.json must be valid JSON/, run: () => tf.loadLayersModel(fileSystemIO(join(root, 'badjson'))) },
  {
    name: 'storeIO(memory).load: weights.bin missing',
    error: DataError,
    message: /model\.json lists weights\.bin, which must exist/,
    run: () => {
      const files = new Map(checkpoint);
      files.delete('weights.bin');
      return tf.loadLayersModel(storeIO(mapStore(files)));
    },
  },
];

/** A VOC folder with one 4×4 sample `s` whose label PNG is `label`. */
function vocFolder(name: string, label: Buffer | undefined, ids = 's\n'): string {
  const dir = join(root, name);
  for (const sub of ['JPEGImages', 'SegmentationClass', join('ImageSets', 'Segmentation')]) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'ImageSets', 'Segmentation', 'train.txt'), ids);
  writeFileSync(join(dir, 'JPEGImages', 's.png'), encodePalettePng(new Uint8Array(16), 4, 4, VOC_PALETTE));
  if (label !== undefined) writeFileSync(join(dir, 'SegmentationClass', 's.png'), label);
  return dir;
}
const loadSample = (dir: string, id = 's') => async (): Promise<unknown> => (await VocDataset.open(dir)).load(id);
const grey16 = () => encodeSamplePng([0, 1, 257, 255, ...new Array(12).fill(0)], 4, 4, { colourType: 0, bitDepth: 16 });
const paletteBeyond = () => encodeSamplePng([0, 1, 2, 5, ...new Array(12).fill(0)], 4, 4, { colourType: 3, bitDepth: 8, palette: VOC_PALETTE.subarray(0, 9) });

const voc: Row[] = [
  { name: 'VocDataset.open: missing folder', error: DataError, message: /no-such-folder must be a folder \(VOC layout\)/, run: () => VocDataset.open(join(root, 'no-such-folder')) },
  {
    name: 'VocDataset.open: no split list',
    error: DataError,
    message: /ImageSets\/Segmentation must hold at least one split list/,
    run: () => {
      const dir = vocFolder('no-splits', undefined);
      rmSync(join(dir, 'ImageSets', 'Segmentation', 'train.txt'));
      return VocDataset.open(dir);
    },
  },
  { name: "VocDataset.open: onError 'maybe'", error: ConfigError, message: /VocDatasetOptions\/onError must be one of "skip", "stop"/, run: () => VocDataset.open(root, { onError: 'maybe' as never }) },
  {
    name: 'VocDataset.open: segrefine.json is not JSON',
    error: DataError,
    message: /segrefine\.json must be valid JSON/,
    run: () => {
      const dir = vocFolder('bad-meta', undefined);
      writeFileSync(join(dir, 'segrefine.json'), '{');
      return VocDataset.open(dir);
    },
  },
  { name: "VocDataset.load: id '../x'", error: DataError, message: /id must be a file name inside the dataset folder/, run: loadSample(join(root, 'ok'), '../x') },
  { name: 'VocDataset.ids: split "val" absent', error: ConfigError, message: /split must be one of "train"/, run: async () => (await VocDataset.open(join(root, 'ok'))).ids('val') },
  { name: 'VocDataset.load: missing label file', error: DataError, message: /SegmentationClass\/s\.png must exist/, run: () => loadSample(vocFolder('no-label', undefined))() },
  { name: 'VocDataset.load: 16-bit grey label (257 must not become 1)', error: DataError, message: /grey16\/SegmentationClass\/s\.png must be an 8-bit label PNG.*got "16-bit grey samples"/, run: () => loadSample(vocFolder('grey16', grey16()))() },
  { name: 'VocDataset.load: palette index beyond the palette', error: DataError, message: /beyond\/SegmentationClass\/s\.png must use only indices of its palette \(3 colours/, run: () => loadSample(vocFolder('beyond', paletteBeyond()))() },
  { name: 'VocDataset.load: label 30 of 21 classes', error: DataError, message: /SegmentationClass\/s\.png must hold labels < 21 or 255/, run: () => loadSample(vocFolder('label30', encodePalettePng(new Uint8Array(16).fill(30), 4, 4, VOC_PALETTE)))() },
  { name: 'VocDataset.load: label of another size', error: DataError, message: /SegmentationClass\/s\.png must have its image's size 4×4/, run: () => loadSample(vocFolder('size', encodePalettePng(new Uint8Array(4), 2, 2, VOC_PALETTE)))() },
  { name: 'VocDataset.load: not a PNG', error: DataError, message: /notpng\/SegmentationClass\/s\.png must be a valid PNG label image/, run: () => loadSample(vocFolder('notpng', Buffer.from('not a png')))() },
];
vocFolder('ok', encodePalettePng(new Uint8Array(16), 4, 4, VOC_PALETTE));

catalogue('reliability catalogue: training, checkpoints, model files, VOC folders', [...training, ...resume, ...loading, ...voc]);
