/**
 * Evaluates one entry on the validation split: every metric, the inference
 * time per image, and the predictions of the panel images.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { SegmentationEvaluator, type EvaluationResult } from '../eval/evaluator.js';
import type { BenchData } from './dataset.js';
import { valBatches, valCount } from './dataset.js';
import type { Experiment } from './experiment.js';
import { median } from './stats.js';
import { throwIfStopped, type ProgressReporter } from './progress.js';
import type { PanelTile } from './report/panels.js';

/** Maps a batch of images to logits at the images' size (the caller disposes). */
export type Predictor = (images: tf.Tensor4D) => tf.Tensor4D;

/** Extra panel tiles for one image (e.g. DifNet's seed and walks). */
export type PanelExtras = (image: tf.Tensor4D) => Promise<PanelTile[]>;

/** A validation image kept for the panels. */
export interface PanelSample {
  /** Sample id. */
  id: string;
  /** RGB bytes. */
  image: Uint8Array;
  /** True labels. */
  truth: Uint8Array;
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** What {@link evaluateEntry} measured. */
export interface EntryEvaluation {
  /** Every metric over the split. */
  metrics: EvaluationResult;
  /** Median inference time per image, ms (batches timed separately; the first is warm-up). */
  msPerImage: number;
  /** Predicted labels of the panel images, by sample id. */
  predictions: Map<string, Uint8Array>;
  /** Extra tiles of the panel images, by sample id. */
  extras: Map<string, PanelTile[]>;
}

/** Bytes of the panel images (image and truth), filled by the first evaluation. */
export type PanelStore = Map<string, PanelSample>;

async function predictTimed(predict: Predictor, images: tf.Tensor4D): Promise<{ logits: tf.Tensor4D; ms: number }> {
  const started = performance.now();
  const logits = predict(images);
  await logits.data();
  return { logits, ms: performance.now() - started };
}

/**
 * Runs `predict` over the validation split and accumulates the metrics.
 * @param predict - images → logits at the images' size
 * @param data - the dataset
 * @param experiment - batch size, evaluation settings
 * @param panelStore - panel images (filled on first use, then shared by all entries)
 * @param reporter - progress
 * @param label - entry label, for progress
 * @param signal - stop request
 * @param extras - extra panel tiles for this entry
 */
export async function evaluateEntry(
  predict: Predictor,
  data: BenchData,
  experiment: Experiment,
  panelStore: PanelStore,
  reporter: ProgressReporter,
  label: string,
  signal?: AbortSignal,
  extras?: PanelExtras,
): Promise<EntryEvaluation> {
  const evaluator = new SegmentationEvaluator({
    numClasses: data.dataset.numClasses,
    classNames: data.dataset.classNames,
    trimapRadii: experiment.eval.trimapRadii,
    boundary: { tolerance: experiment.eval.boundaryTolerance },
  });
  const total = valCount(data, experiment);
  const perImage: number[] = [];
  const predictions = new Map<string, Uint8Array>();
  const extraTiles = new Map<string, PanelTile[]>();
  let done = 0;
  let batchIndex = 0;
  reporter.start(`eval  ${label}`, total);
  try {
    for await (const batch of valBatches(data, experiment)) {
      try {
        throwIfStopped(signal);
        const { logits, ms } = await predictTimed(predict, batch.images);
        if (batchIndex > 0 || total <= batch.ids.length) perImage.push(ms / batch.ids.length);
        const labels = tf.tidy(() => tf.cast(tf.argMax(logits, 3), 'int32'));
        // Regions: padded parts of a batch (VOC folders) are not scored.
        evaluator.update(labels, batch.labels, { regions: batch.regions });
        await collectPanels(batch, labels, experiment.eval.panels, panelStore, predictions, extraTiles, extras);
        tf.dispose([logits, labels]);
        done += batch.ids.length;
        batchIndex++;
        reporter.update(done);
      } finally {
        tf.dispose([batch.images, batch.labels]);
      }
    }
  } finally {
    reporter.stop();
  }
  return { metrics: evaluator.result(), msPerImage: median(perImage), predictions, extras: extraTiles };
}

async function collectPanels(
  batch: { ids: string[]; images: tf.Tensor4D; labels: tf.Tensor3D },
  predicted: tf.Tensor,
  wanted: number,
  store: PanelStore,
  predictions: Map<string, Uint8Array>,
  extraTiles: Map<string, PanelTile[]>,
  extras?: PanelExtras,
): Promise<void> {
  const [, height, width] = batch.images.shape;
  for (let i = 0; i < batch.ids.length; i++) {
    const id = batch.ids[i]!;
    if (!store.has(id) && store.size >= wanted) continue;
    const slice = <R extends tf.Tensor>(t: R): R => tf.slice(t, [i], [1]) as R;
    if (!store.has(id)) {
      const image = tf.tidy(() => tf.cast(tf.round(tf.mul(slice(batch.images), 255)), 'int32'));
      const truth = slice(batch.labels);
      store.set(id, { id, width, height, image: Uint8Array.from(await image.data()), truth: Uint8Array.from(await truth.data()) });
      tf.dispose([image, truth]);
    }
    const mine = slice(predicted);
    predictions.set(id, Uint8Array.from(await mine.data()));
    mine.dispose();
    if (extras !== undefined) {
      const image = slice(batch.images);
      extraTiles.set(id, await extras(image));
      image.dispose();
    }
  }
}
