/**
 * The figures of the refiner pages, from a real (short) run:
 * docs/media/<refiner>.png for every registered refiner and neck, and
 * docs/media/refiner-figures.json with the run's settings and numbers.
 *
 * Each refiner is trained briefly (Adam, cross-entropy, as `segrefine bench`
 * trains refiners on frozen scores; the dense CRF is only evaluated) on
 * synthetic scenes, with the inputs an ideal stride-8 backbone would give:
 * scores = the true labels averaged over 8×8 cells (as logits, plus noise),
 * and a pyramid made of the image at strides 1, 2, 4, 8, 16. What the figure
 * shows is then the refiner's own job — recovering what the stride lost —
 * not the quality of a backbone trained for two minutes. Each row: a
 * validation image, the truth, the upsampled scores, the refiner's labels and
 * what changed. DifNet's rows add its inspection (seed, importance map, each
 * walk, rows of the last transition matrix). SDN, a neck that refines a
 * backbone's features, is trained end to end with a small backbone and
 * compared with the same backbone trained alone.
 *
 *   npx tsx scripts/refiner-figures.ts            # a few minutes on 2 cores
 *   npx tsx scripts/refiner-figures.ts --fast --out /tmp/figures   # smoke test
 *   npx tsx scripts/refiner-figures.ts --only spn,difnet
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfusionMatrix, createSegmenter, createSyntheticDataset, DiffusionHead, initBackend, RefinerLayer, defaultRegistry, resizeBilinear, segmentationCrossEntropy, train, type Backbone, type Neck, type Refiner, type SegmentationDataset } from '../src/index.js';
import { heatTile, labelTile, type PanelTile } from '../src/bench/report/panels.js';
import { repoRoot } from './doc-snippets.js';
import { writeFigure, type FigureRow } from './figure-grid.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const fast = args.includes('--fast') || process.env['SEGREFINE_FAST'] === '1';
const outDir = flag('--out') ?? join(repoRoot, 'docs', 'media');
const only = flag('--only')?.split(',');

/** The run's settings (written next to the figures). */
const settings = fast
  ? { seed: 1, size: 32, classes: 4, stride: 8, logitScale: 4, noise: 0.5, train: 8, val: 4, shown: 2, batchSize: 4, refinerEpochs: 1, backboneEpochs: 1, channels: 8, learningRate: 0.01 }
  : { seed: 1, size: 48, classes: 4, stride: 8, logitScale: 4, noise: 0.5, train: 64, val: 16, shown: 3, batchSize: 8, refinerEpochs: 2, backboneEpochs: 4, channels: 16, learningRate: 0.01 };
if (flag('--refiner-epochs') !== undefined) settings.refinerEpochs = Number(flag('--refiner-epochs'));
const SIZE: [number, number] = [settings.size, settings.size];

/** DifNet as in the bench's frozen entry (five walks, d = 32). */
const refinerArgs: Record<string, Record<string, unknown>> = { difnet: { walks: 5, embeddingDim: 32 } };

/** Labels (argmax) of logits `[B, h, w, K]` at the image size, one array per image. */
async function labelsOf(logits: tf.Tensor4D): Promise<Uint8Array[]> {
  const labels = tf.tidy(() => tf.cast(tf.argMax(resizeBilinear(logits, SIZE), 3), 'int32'));
  const flat = Uint8Array.from(await labels.data());
  labels.dispose();
  const n = settings.size * settings.size;
  return Array.from({ length: logits.shape[0] }, (_, b) => flat.slice(b * n, (b + 1) * n));
}

/** What changed from `before` to `after`: green fixed, red broken, amber changed but still wrong, grey unchanged. */
function changeTile(before: Uint8Array, after: Uint8Array, truth: Uint8Array): PanelTile {
  const n = truth.length;
  const rgb = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    const colour =
      truth[i] === 255 || before[i] === after[i]
        ? [230, 230, 230]
        : after[i] === truth[i]
          ? [40, 170, 60]
          : before[i] === truth[i]
            ? [220, 40, 40]
            : [240, 170, 0];
    rgb.set(colour, 3 * i);
  }
  return { caption: 'changes', rgb, width: settings.size, height: settings.size };
}

/** What an ideal stride-8 backbone gives: the truth averaged over cells (as logits, plus noise) and an image pyramid. */
interface OracleOutputs {
  /** Logits `[B, size/stride, size/stride, K]`. */
  scores: tf.Tensor4D;
  /** The image at strides 1, 2, 4, 8, 16 (fine → coarse). */
  features: tf.Tensor4D[];
}

function oracle(images: tf.Tensor4D, labels: tf.Tensor3D, noiseSeed: number): OracleOutputs {
  return tf.tidy(() => {
    const s = settings.stride;
    // Void (255) is no class: its one-hot row is zero.
    const cells = tf.avgPool(tf.cast(tf.oneHot(labels, settings.classes), 'float32') as tf.Tensor4D, s, s, 'valid');
    const scores = tf.add(tf.mul(cells, settings.logitScale), tf.randomNormal(cells.shape, 0, settings.noise, 'float32', noiseSeed)) as tf.Tensor4D;
    const features = [1, 2, 4, 8, 16].map((f) => (f === 1 ? tf.clone(images) : tf.avgPool(images, f, f, 'valid')));
    return { scores, features };
  });
}

/** The refiner's `apply()` list. */
function inputsFor(refiner: RefinerLayer, images: tf.Tensor4D, outputs: OracleOutputs): tf.Tensor4D[] {
  return tf.tidy(() => {
    const roles = refiner.inputRoles();
    return [tf.clone(outputs.scores), ...outputs.features.slice(0, roles.features).map((f) => tf.clone(f)), ...(roles.image ? [tf.clone(images)] : [])];
  });
}

/** Logits of any refiner for a batch. */
function predict(refiner: Refiner, images: tf.Tensor4D, outputs: OracleOutputs): tf.Tensor4D {
  if (refiner instanceof RefinerLayer) {
    const inputs = inputsFor(refiner, images, outputs);
    try {
      return tf.tidy(() => refiner.apply(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor4D);
    } finally {
      tf.dispose(inputs);
    }
  }
  return refiner.refine({ scores: outputs.scores, image: images }, { outputSize: SIZE });
}

/** Trains a refiner layer on the oracle's outputs (Adam, cross-entropy), as the bench trains refiners on frozen scores. */
async function trainRefiner(refiner: RefinerLayer, data: SegmentationDataset): Promise<number[]> {
  const optimizer = tf.train.adam(settings.learningRate);
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < settings.refinerEpochs; epoch++) {
      for await (const batch of data.batches('train', { batchSize: settings.batchSize, shuffle: true, seed: settings.seed + epoch })) {
        const outputs = oracle(batch.images, batch.labels, 1000 * epoch + losses.length);
        const inputs = inputsFor(refiner, batch.images, outputs);
        const list = inputs.length === 1 ? inputs[0]! : inputs;
        try {
          if (!refiner.built) tf.dispose(refiner.apply(list) as tf.Tensor);
          const variables = refiner.trainableWeights.map((w) => w.read() as tf.Variable);
          if (variables.length === 0) return losses;
          const loss = optimizer.minimize(() => segmentationCrossEntropy(refiner.apply(list, { training: true }) as tf.Tensor4D, batch.labels), true, variables)!;
          losses.push((await loss.data())[0]!);
          loss.dispose();
        } finally {
          tf.dispose([...inputs, outputs.scores, ...outputs.features, batch.images, batch.labels]);
        }
      }
    }
  } finally {
    optimizer.dispose();
  }
  return losses;
}

/** Mean IoU of label maps against the truth. */
function meanIou(pred: Uint8Array[], truth: Uint8Array[]): number {
  const matrix = new ConfusionMatrix(settings.classes);
  pred.forEach((p, i) => matrix.update(p, truth[i]!, [settings.size, settings.size]));
  return matrix.meanIou();
}

/** DifNet's inspection tiles for one image: seed, importance, walks, rows of the last P. */
async function difnetTiles(head: DiffusionHead, image: tf.Tensor4D, outputs: OracleOutputs): Promise<PanelTile[]> {
  const inputs = inputsFor(head, image, outputs);
  const inspection = head.inspect({ scores: inputs[0]!, features: inputs.slice(1) });
  const [s, side] = [settings.size, settings.size];
  const upsample = async (map: tf.Tensor4D): Promise<Float32Array> => {
    const big = tf.image.resizeNearestNeighbor(map, SIZE);
    const values = (await big.data()) as Float32Array;
    big.dispose();
    return values;
  };
  try {
    const tiles: PanelTile[] = [labelTile('seed s = M ⊙ x', (await labelsOf(inspection.seed))[0]!, s, side)];
    tiles.push(heatTile('importance M', await upsample(inspection.importance), s, side, [0, 1]));
    for (const [t, walk] of inspection.walks.entries()) tiles.push(labelTile(`walk ${t + 1}`, (await labelsOf(walk))[0]!, s, side));
    const [, h, w] = inspection.seed.shape;
    const nodes: [number, number][] = [[Math.floor(h / 2), Math.floor(w / 2)], [Math.floor(h / 4), Math.floor((3 * w) / 4)]];
    const last = inspection.walks.length - 1;
    const rows = inspection.transitionRows(last, nodes);
    for (const [i, node] of nodes.entries()) {
      const row = tf.tidy(() => tf.reshape(tf.slice(rows, [i, 0, 0], [1, h, w]), [1, h, w, 1]) as tf.Tensor4D);
      tiles.push(heatTile(`P${last + 1} row of node (${node[0]}, ${node[1]})`, await upsample(row), s, side));
      row.dispose();
    }
    rows.dispose();
    return tiles;
  } finally {
    inspection.dispose();
    tf.dispose(inputs);
  }
}

/**
 * What a neck did to one pyramid level of one image: the per-pixel norm of
 * the features before and after it, and of the change (heat maps, each on its
 * own scale), upsampled to the image.
 */
async function neckTiles(backbone: Backbone, neck: Neck, image: tf.Tensor4D, level: number): Promise<PanelTile[]> {
  const maps = tf.tidy(() => {
    const { features } = backbone.apply(image, { training: false });
    const refined = neck.apply(features);
    const norm = (t: tf.Tensor4D): tf.Tensor4D => tf.image.resizeNearestNeighbor(tf.sqrt(tf.sum(tf.square(t), 3, true)) as tf.Tensor4D, SIZE);
    return [norm(features[level]!), norm(refined[level]!), norm(tf.sub(refined[level]!, features[level]!) as tf.Tensor4D)];
  });
  const [before, after, change] = await Promise.all(maps.map(async (m) => (await m.data()) as Float32Array));
  tf.dispose(maps);
  const stride = backbone.levelStrides[level];
  return [
    heatTile(`‖features‖, stride ${stride}, before`, before!, settings.size, settings.size),
    heatTile('after the neck', after!, settings.size, settings.size),
    heatTile('‖change‖', change!, settings.size, settings.size),
  ];
}

/** Trains a segmenter (backbone + optional neck, refiner `none`) end to end. */
async function trainSegmenter(data: SegmentationDataset, neck: Neck | null): Promise<{ backbone: Backbone; model: tf.LayersModel; seconds: number }> {
  const backbone = defaultRegistry().createBackbone({ type: 'fcn', classes: settings.classes, channels: settings.channels, seed: settings.seed, name: neck ? 'fcn_sdn' : 'fcn' });
  const model = createSegmenter({ backbone, refiner: { type: 'none' }, neck, inputSize: SIZE, name: neck ? 'with_neck' : 'backbone' });
  const started = performance.now();
  await train(model, {
    data: (epoch) => data.batches('train', { batchSize: settings.batchSize, shuffle: true, seed: settings.seed + epoch }),
    epochs: settings.backboneEpochs,
    optimizer: { type: 'adam', learningRate: settings.learningRate, policy: 'constant' },
  });
  return { backbone, model, seconds: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const info = await initBackend('wasm');
  const started = performance.now();
  const data = createSyntheticDataset({ seed: settings.seed, size: SIZE, numClasses: settings.classes, numTrain: settings.train, numVal: settings.val });
  const samples = await Promise.all(data.ids('val').map((id) => data.load(id)));
  const imageBytes = samples.map((s) => s.image);
  const truth = samples.map((s) => s.label);
  const valImages = tf.tensor4d(Float32Array.from(imageBytes.flatMap((b) => Array.from(b, (v) => v / 255))), [settings.val, ...SIZE, 3]);
  const valLabels = tf.tensor3d(Int32Array.from(truth.flatMap((l) => Array.from(l))), [settings.val, ...SIZE], 'int32');
  const val = oracle(valImages, valLabels, 7);
  const scoreLabels = await labelsOf(val.scores);
  const scoreIou = meanIou(scoreLabels, truth);
  console.log(`upsampled oracle scores: val mIoU ${(100 * scoreIou).toFixed(1)}%`);
  const summary: Record<string, unknown>[] = [];
  mkdirSync(outDir, { recursive: true });

  const legend = 'changes: green = fixed, red = broken, amber = changed but still wrong';
  const figure = async (id: string, title: string, baseline: { caption: string; labels: Uint8Array[] }, labels: Uint8Array[], extras: (i: number) => Promise<PanelTile[]>, caption = id): Promise<void> => {
    const rows: FigureRow[] = [];
    for (let i = 0; i < settings.shown; i++) {
      // Captions on the first row only; a second row per image holds the extras.
      const named = (tile: PanelTile): PanelTile => (i === 0 ? tile : { ...tile, caption: '' });
      rows.push({
        tiles: [
          { caption: 'image', rgb: imageBytes[i]!, width: settings.size, height: settings.size },
          labelTile('truth', truth[i]!, settings.size, settings.size),
          labelTile(baseline.caption, baseline.labels[i]!, settings.size, settings.size),
          labelTile(caption, labels[i]!, settings.size, settings.size),
          changeTile(baseline.labels[i]!, labels[i]!, truth[i]!),
        ].map(named),
      });
      const more = await extras(i);
      if (more.length > 0) rows.push({ tiles: more.map(named) });
    }
    const file = join(outDir, `${id}.png`);
    await writeFigure(file, rows, { scale: Math.max(1, Math.round(128 / settings.size)), title: [title, legend] });
    console.log(`wrote ${relative(repoRoot, file)}`);
  };

  for (const spec of defaultRegistry().refiners()) {
    if (spec.id === 'none' || (only !== undefined && !only.includes(spec.id))) continue;
    const refiner = defaultRegistry().createRefiner({ type: spec.id, ...(refinerArgs[spec.id] ?? {}) });
    // The untrained refiner's score tells what training changed (layers build on first use).
    const initialLogits = predict(refiner, valImages, val);
    const initialIou = meanIou(await labelsOf(initialLogits), truth);
    initialLogits.dispose();
    const t0 = performance.now();
    const losses = refiner instanceof RefinerLayer ? await trainRefiner(refiner, data) : [];
    const seconds = (performance.now() - t0) / 1000;
    const logits = predict(refiner, valImages, val);
    const labels = await labelsOf(logits);
    logits.dispose();
    const iou = meanIou(labels, truth);
    const trained = losses.length > 0 ? `trained ${losses.length} steps` : 'not trained';
    const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
    const title =
      losses.length > 0
        ? `${spec.id} on stride-${settings.stride} scores, val mIoU: scores ${pct(scoreIou)}, untrained ${spec.id} ${pct(initialIou)}, after ${losses.length} training steps ${pct(iou)}`
        : `${spec.id} on stride-${settings.stride} scores (no training), val mIoU: scores ${pct(scoreIou)}, ${spec.id} ${pct(iou)}`;
    const extras = async (i: number): Promise<PanelTile[]> => {
      if (!(refiner instanceof DiffusionHead)) return [];
      const one = tf.tidy(() => ({ image: tf.slice(valImages, [i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D, scores: tf.slice(val.scores, [i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D, features: val.features.map((f) => tf.slice(f, [i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D) }));
      try {
        return await difnetTiles(refiner, one.image, one);
      } finally {
        tf.dispose([one.image, one.scores, ...one.features]);
      }
    };
    await figure(spec.id, title, { caption: `scores (stride ${settings.stride})`, labels: scoreLabels }, labels, extras);
    summary.push({ id: spec.id, kind: 'refiner', untrainedMeanIou: initialIou, trainSteps: losses.length, trainSeconds: Number(seconds.toFixed(1)), firstLoss: losses[0] ?? null, lastLoss: losses[losses.length - 1] ?? null, valMeanIou: iou });
    console.log(`${spec.id}: ${trained} in ${seconds.toFixed(0)} s, val mIoU ${pct(scoreIou)} (scores) → ${pct(initialIou)} (untrained) → ${pct(iou)}`);
    refiner.dispose();
  }

  const necks = defaultRegistry().necks().filter((spec) => only === undefined || only.includes(spec.id));
  if (necks.length > 0) {
    // A neck refines a backbone's features: train the same small backbone with and without it.
    const plain = await trainSegmenter(data, null);
    const plainLogits = plain.model.predict(valImages) as tf.Tensor4D;
    const plainLabels = await labelsOf(plainLogits);
    plainLogits.dispose();
    const plainIou = meanIou(plainLabels, truth);
    console.log(`fcn: trained ${plain.seconds.toFixed(0)} s, val mIoU ${(100 * plainIou).toFixed(1)}%`);
    for (const spec of necks) {
      const neck = defaultRegistry().createNeck({ type: spec.id });
      const withNeck = await trainSegmenter(data, neck);
      const logits = withNeck.model.predict(valImages) as tf.Tensor4D;
      const labels = await labelsOf(logits);
      logits.dispose();
      const iou = meanIou(labels, truth);
      const title = `fcn + ${spec.id} neck vs fcn, both trained ${settings.backboneEpochs} epoch${settings.backboneEpochs === 1 ? '' : 's'} end to end: val mIoU ${(100 * plainIou).toFixed(1)}% → ${(100 * iou).toFixed(1)}%`;
      const extras = async (i: number): Promise<PanelTile[]> => {
        const image = tf.slice(valImages, [i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
        try {
          // The level the segmenter's neck decoder reads (at the scores' stride): the one the logits see.
          return await neckTiles(withNeck.backbone, neck, image, withNeck.backbone.levelStrides.lastIndexOf(withNeck.backbone.outputStride));
        } finally {
          image.dispose();
        }
      };
      await figure(spec.id, title, { caption: 'fcn', labels: plainLabels }, labels, extras, `fcn + ${spec.id}`);
      summary.push({ id: spec.id, kind: 'neck', trainSeconds: Number(withNeck.seconds.toFixed(1)), baselineMeanIou: plainIou, valMeanIou: iou });
      console.log(`${spec.id} neck: trained ${withNeck.seconds.toFixed(0)} s, val mIoU ${(100 * plainIou).toFixed(1)}% → ${(100 * iou).toFixed(1)}%`);
      withNeck.model.dispose();
    }
    plain.model.dispose();
  }

  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = process.cpuUsage().user / 1e6;
  const record = { generatedBy: 'scripts/refiner-figures.ts', backend: info.name, tfjs: tf.version.tfjs, settings, scoresMeanIou: scoreIou, refiners: summary, seconds: Number(seconds.toFixed(0)), cpuSeconds: Number(cpuSeconds.toFixed(0)) };
  const recordFile = join(outDir, 'refiner-figures.json');
  if (only !== undefined && existsSync(recordFile)) {
    // A partial run (--only) updates its entries in the record of the last full run.
    const previous = JSON.parse(readFileSync(recordFile, 'utf8')) as typeof record;
    record.refiners = [...previous.refiners.filter((r) => !only.includes(String(r['id']))), ...summary];
    record.seconds = previous.seconds;
    record.cpuSeconds = previous.cpuSeconds;
  }
  writeFileSync(recordFile, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`done in ${seconds.toFixed(0)} s (${cpuSeconds.toFixed(0)} s of CPU)`);
  tf.dispose([valImages, valLabels, val.scores, ...val.features]);
}

await main();
