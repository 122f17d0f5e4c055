/**
 * SDN neck vs. baseline: the same small backbone and head, trained the same
 * way on a synthetic shapes dataset, without a neck, with the SDN neck
 * (multi- and single-scale) between the backbone's pyramid and the head, and
 * with a control neck of plain convolutions of about the same size (so a gain
 * of SDN over the baseline is not just extra parameters). Prints pixel
 * accuracy, mean IoU and boundary accuracy (pixels next to a class boundary).
 *
 *   npx tsx examples/sdn-neck.ts                   # full run (a few minutes on wasm)
 *   SEGREFINE_FAST=1 npx tsx examples/sdn-neck.ts  # a few seconds
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { createNeck, initBackend, type Neck, type TypedConfig } from '../src/index.js';

/** Settings of one comparison. */
export interface SdnExampleOptions {
  /** Few, small steps (for CI). Default: `SEGREFINE_FAST=1`. */
  fast?: boolean;
  /** Where progress lines go. Default: console.log. */
  log?: (line: string) => void;
}

/** Metrics of one trained model on the held-out images. */
export interface RunMetrics {
  /** Row label: `baseline` or the neck config. */
  label: string;
  /** Fraction of correctly labelled pixels. */
  pixelAccuracy: number;
  /** Mean over classes of intersection over union. */
  meanIoU: number;
  /** Pixel accuracy restricted to pixels next to a true class boundary. */
  boundaryAccuracy: number;
  /** Trainable parameters of the whole model. */
  parameters: number;
  /** Final training loss. */
  finalLoss: number;
}

const CLASSES = 3;

/** mulberry32: a seeded PRNG, so the dataset is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Images with a disc (class 1) and a rectangle (class 2) on background
 * (class 0); each class has a random colour per image plus noise, so the net
 * must use shape and local contrast, not a fixed colour.
 */
function makeShapes(count: number, size: number, seed: number): { images: tf.Tensor4D; labels: tf.Tensor3D } {
  const random = rng(seed);
  const images = new Float32Array(count * size * size * 3);
  const labels = new Int32Array(count * size * size);
  for (let n = 0; n < count; n++) {
    const colours = Array.from({ length: CLASSES }, () => [random(), random(), random()]);
    const cx = size * (0.25 + 0.5 * random());
    const cy = size * (0.25 + 0.5 * random());
    const radius = size * (0.12 + 0.15 * random());
    const x0 = Math.floor(size * 0.6 * random());
    const y0 = Math.floor(size * 0.6 * random());
    const x1 = x0 + Math.floor(size * (0.2 + 0.2 * random()));
    const y1 = y0 + Math.floor(size * (0.2 + 0.2 * random()));
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let label = 0;
        if (x >= x0 && x < x1 && y >= y0 && y < y1) label = 2;
        if ((x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2) label = 1;
        const pixel = (n * size + y) * size + x;
        labels[pixel] = label;
        for (let c = 0; c < 3; c++) images[pixel * 3 + c] = Math.min(1, Math.max(0, colours[label]![c]! + 0.15 * (random() - 0.5)));
      }
    }
  }
  return { images: tf.tensor4d(images, [count, size, size, 3]), labels: tf.tensor3d(labels, [count, size, size], 'int32') };
}

const seeded = (seed: number): ReturnType<typeof tf.initializers.glorotUniform> => tf.initializers.glorotUniform({ seed });

/**
 * The control: per level `conv1×1(concat[F, ReLU(BN(conv3×3(conv3×3(F))))])`,
 * SDN's structure and size (and its identity-initialised fusion) with the
 * semantic difference convolution replaced by ordinary convolutions.
 */
function plainConvNeck(levels: tf.SymbolicTensor[]): tf.SymbolicTensor[] {
  return levels.map((f, i) => {
    const c = f.shape[3]!;
    const conv = (filters: number, kernelSize: number, seed: number) => tf.layers.conv2d({ filters, kernelSize, padding: 'same', kernelInitializer: seeded(seed) });
    const y = conv(c, 3, 20 + i).apply(conv(c, 3, 10 + i).apply(f)) as tf.SymbolicTensor;
    const z = tf.layers.reLU().apply(tf.layers.batchNormalization().apply(y)) as tf.SymbolicTensor;
    const fuse = conv(c, 1, 30 + i);
    const out = fuse.apply(tf.layers.concatenate().apply([f, z])) as tf.SymbolicTensor;
    // Like SdnNeck's default fusionInitializer 'identity': [I; 0], zero bias.
    const identity = tf.tidy(() => [tf.reshape(tf.concat([tf.eye(c), tf.zeros([c, c])], 0), [1, 1, 2 * c, c]), tf.zeros([c])]);
    fuse.setWeights(identity);
    tf.dispose(identity);
    return out;
  });
}

/** Backbone (two stride-2 stages) → optional neck → FPN-style head → logits at full size. */
function buildModel(size: number, neck: Neck | 'plain-conv' | undefined): tf.LayersModel {
  const image = tf.input({ shape: [size, size, 3] });
  const conv = (filters: number, strides: number, seed: number, activation: 'relu' | 'linear' = 'relu') =>
    tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', activation, kernelInitializer: seeded(seed) });
  const stem = conv(16, 1, 1).apply(image) as tf.SymbolicTensor;
  const level0 = conv(16, 2, 2).apply(stem) as tf.SymbolicTensor; // stride 2
  const level1 = conv(32, 2, 3).apply(level0) as tf.SymbolicTensor; // stride 4
  const [fine, coarse] = neck === undefined ? [level0, level1] : neck === 'plain-conv' ? plainConvNeck([level0, level1]) : neck.apply([level0, level1]);
  const up = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }).apply(coarse!) as tf.SymbolicTensor;
  const merged = tf.layers.concatenate().apply([fine!, up]) as tf.SymbolicTensor;
  const logits = tf.layers.conv2d({ filters: CLASSES, kernelSize: 1, kernelInitializer: seeded(4) }).apply(conv(32, 1, 5).apply(merged)) as tf.SymbolicTensor;
  const full = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }).apply(logits) as tf.SymbolicTensor;
  const probabilities = tf.layers.softmax({ axis: -1 }).apply(full) as tf.SymbolicTensor;
  return tf.model({ inputs: image, outputs: probabilities });
}

/** Accuracy, mean IoU and accuracy on pixels next to a class boundary. */
function evaluate(predicted: Int32Array, truth: Int32Array, count: number, size: number): Pick<RunMetrics, 'pixelAccuracy' | 'meanIoU' | 'boundaryAccuracy'> {
  const confusion = Array.from({ length: CLASSES }, () => new Array<number>(CLASSES).fill(0));
  let boundary = 0;
  let boundaryCorrect = 0;
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = (n * size + y) * size + x;
        confusion[truth[i]!]![predicted[i]!]!++;
        const onBoundary = [
          [0, 1],
          [1, 0],
          [0, -1],
          [-1, 0],
        ].some(([dy, dx]) => {
          const ny = y + dy!;
          const nx = x + dx!;
          return ny >= 0 && ny < size && nx >= 0 && nx < size && truth[(n * size + ny) * size + nx] !== truth[i];
        });
        if (onBoundary) {
          boundary++;
          if (predicted[i] === truth[i]) boundaryCorrect++;
        }
      }
    }
  }
  let correct = 0;
  let total = 0;
  let iouSum = 0;
  for (let k = 0; k < CLASSES; k++) {
    const tp = confusion[k]![k]!;
    const fn = confusion[k]!.reduce((a, b) => a + b, 0) - tp;
    const fp = confusion.reduce((a, row) => a + row[k]!, 0) - tp;
    iouSum += tp + fn + fp > 0 ? tp / (tp + fn + fp) : 1;
    correct += tp;
    total += tp + fn;
  }
  return { pixelAccuracy: correct / total, meanIoU: iouSum / CLASSES, boundaryAccuracy: boundary > 0 ? boundaryCorrect / boundary : 1 };
}

/**
 * Trains the baseline and the SDN variants on the same data and returns
 * their metrics (also printed as a table).
 * @param options - fast mode, logger
 */
export async function main(options: SdnExampleOptions = {}): Promise<RunMetrics[]> {
  const fast = options.fast ?? process.env['SEGREFINE_FAST'] === '1';
  const log = options.log ?? ((line: string) => console.log(line));
  const backend = await initBackend();
  const size = fast ? 16 : 32;
  const [trainCount, testCount, epochs] = fast ? [8, 4, 2] : [96, 32, 25];
  const train = makeShapes(trainCount, size, 1);
  const test = makeShapes(testCount, size, 2);
  const trainTargets = tf.oneHot(train.labels, CLASSES).toFloat();
  const truth = test.labels.dataSync() as Int32Array;
  log(`SDN neck vs baseline on ${backend.name}: ${trainCount} train / ${testCount} test images of ${size}×${size}, ${epochs} epochs`);

  const variants: { label: string; neck?: TypedConfig | 'plain-conv' }[] = [
    { label: 'baseline' },
    { label: 'plain conv neck (control)', neck: 'plain-conv' },
    { label: 'sdn multi-scale', neck: { type: 'sdn', mode: 'multi' } },
    { label: 'sdn single-scale', neck: { type: 'sdn', mode: 'single' } },
  ];
  const results: RunMetrics[] = [];
  for (const variant of variants) {
    // The same config path the bench uses: a typed config through the registry.
    const neck = variant.neck === undefined || variant.neck === 'plain-conv' ? variant.neck : createNeck(variant.neck);
    const model = buildModel(size, neck);
    model.compile({ optimizer: tf.train.adam(fast ? 0.01 : 0.003), loss: 'categoricalCrossentropy' });
    const history = await model.fit(train.images, trainTargets, { epochs, batchSize: 8, shuffle: false, verbose: 0 });
    const losses = history.history['loss'] as number[];
    const predicted = tf.tidy(() => tf.argMax(model.predict(test.images) as tf.Tensor, -1).dataSync() as Int32Array);
    const parameters = model.countParams();
    results.push({ label: variant.label, ...evaluate(predicted, truth, testCount, size), parameters, finalLoss: losses[losses.length - 1]! });
    model.dispose();
  }
  tf.dispose([train.images, train.labels, test.images, test.labels, trainTargets]);

  log('| model | pixel acc | mIoU | boundary acc | params | final loss |');
  log('|---|---|---|---|---|---|');
  for (const r of results) {
    log(`| ${r.label} | ${r.pixelAccuracy.toFixed(3)} | ${r.meanIoU.toFixed(3)} | ${r.boundaryAccuracy.toFixed(3)} | ${r.parameters} | ${r.finalLoss.toFixed(4)} |`);
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
