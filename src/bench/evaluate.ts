/**
 * Evaluates one entry on the validation split: every metric, the inference
 * time per image, and the predictions of the panel images.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../core/errors.js';
import { SegmentationEvaluator, type EvaluationResult } from '../eval/evaluator.js';
import type { Batch } from '../data/types.js';
import type { BenchData } from './dataset.js';
import { valBatches, valCount } from './dataset.js';
import type { Experiment } from './experiment.js';
import { median } from './stats.js';
import { throwIfStopped, type ProgressReporter } from './progress.js';
import type { PanelTile } from './report/panels.js';

/** What an entry shows about one image beyond its prediction: panel tiles and learned values. */
export interface EntryInspection {
  /** Extra panel tiles (e.g. DifNet's seed, importance map and walks). */
  tiles: PanelTile[];
  /** Named values (e.g. DifNet's μ and β per walk). */
  values: Record<string, readonly number[]>;
}

/** How an entry turns a validation batch into logits. */
export interface EntryPredictor {
  /** The model's inputs for a batch: the images, and whatever else the protocol feeds (coarse scores). The caller disposes them. */
  inputs(batch: Batch): tf.Tensor[];
  /** Logits at the images' size (the caller disposes); timed. */
  predict(inputs: tf.Tensor[]): tf.Tensor4D;
  /** Optional: tiles and values for one image (inputs with a batch of 1). */
  inspect?(inputs: tf.Tensor[]): Promise<EntryInspection>;
}

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
  /** The inspection's values on the first panel image (empty when the entry has no inspection). */
  values: Record<string, readonly number[]>;
}

/** Bytes of the panel images (image and truth), filled by the first evaluation. */
export type PanelStore = Map<string, PanelSample>;

async function predictTimed(predictor: EntryPredictor, inputs: tf.Tensor[]): Promise<{ logits: tf.Tensor4D; values: tf.TypedArray; ms: number }> {
  const started = performance.now();
  const logits = predictor.predict(inputs);
  const values = await logits.data();
  return { logits, values, ms: performance.now() - started };
}

/** Throws a {@link DataError} if the logits hold NaN or ±Inf: their argmax would be class 0 and the metrics a silent fiction. */
function checkFinitePredictions(values: tf.TypedArray, label: string, ids: readonly string[]): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new DataError(`predictions of ${label}`, 'must be finite logits (NaN or Inf found: corrupt or diverged weights?)', `${values[i]} in batch [${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', …' : ''}]`);
    }
  }
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
  predictor: EntryPredictor,
  data: BenchData,
  experiment: Experiment,
  panelStore: PanelStore,
  reporter: ProgressReporter,
  label: string,
  signal?: AbortSignal,
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
  const values: Record<string, readonly number[]> = {};
  let done = 0;
  let batchIndex = 0;
  reporter.start(`eval  ${label}`, total);
  try {
    for await (const batch of valBatches(data, experiment)) {
      const inputs = predictor.inputs(batch);
      try {
        throwIfStopped(signal);
        const { logits, values: logitValues, ms } = await predictTimed(predictor, inputs);
        try {
          checkFinitePredictions(logitValues, label, batch.ids);
        } catch (error) {
          logits.dispose();
          throw error;
        }
        if (batchIndex > 0 || total <= batch.ids.length) perImage.push(ms / batch.ids.length);
        const labels = tf.tidy(() => tf.cast(tf.argMax(logits, 3), 'int32'));
        // Regions: padded parts of a batch (VOC folders) are not scored.
        evaluator.update(labels, batch.labels, { regions: batch.regions });
        await collectPanels(batch, inputs, labels, { wanted: experiment.eval.panels, store: panelStore, predictions, extraTiles, values }, predictor);
        tf.dispose([logits, labels]);
        done += batch.ids.length;
        batchIndex++;
        reporter.update(done);
      } finally {
        tf.dispose([...inputs, batch.images, batch.labels]);
      }
    }
  } finally {
    reporter.stop();
  }
  return { metrics: evaluator.result(), msPerImage: median(perImage), predictions, extras: extraTiles, values };
}

/** Where {@link collectPanels} puts what it collects. */
interface PanelSink {
  wanted: number;
  store: PanelStore;
  predictions: Map<string, Uint8Array>;
  extraTiles: Map<string, PanelTile[]>;
  values: Record<string, readonly number[]>;
}

async function collectPanels(batch: Batch, inputs: tf.Tensor[], predicted: tf.Tensor, sink: PanelSink, predictor: EntryPredictor): Promise<void> {
  const { wanted, store, predictions, extraTiles, values } = sink;
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
    if (predictor.inspect !== undefined) {
      const one = inputs.map((t) => slice(t));
      try {
        const inspection = await predictor.inspect(one);
        extraTiles.set(id, inspection.tiles);
        if (Object.keys(values).length === 0) Object.assign(values, inspection.values);
      } finally {
        tf.dispose(one);
      }
    }
  }
}
