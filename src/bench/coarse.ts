/**
 * The `refine-coarse` protocol: the refiner gets coarse scores made from the
 * ground truth (`coarseScores`: class fractions per cell, seeded noise, a
 * temperature) and the image, so its table row shows what the refiner adds
 * on its own, independent of any backbone's training.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { defaultRegistry, type Registry } from '../core/registry.js';
import { coarseScores } from '../data/coarse_scores.js';
import type { Batch } from '../data/types.js';
import { resolveRefinerLayer } from '../models/resolve.js';
import { pickLevels, toImageSize } from '../models/segmenter.js';
import type { SegmentationBatch } from '../train/types.js';
import { trainBatches, type BenchData } from './dataset.js';
import { entryModelName } from './end_to_end.js';
import type { EntryPredictor } from './evaluate.js';
import type { Experiment, ExperimentEntry } from './experiment.js';
import { refinerParamsOf, type RefinerEntry } from './frozen.js';
import { modelInspector } from './panel_extras.js';

/**
 * The coarse scores of a batch, as the experiment's `coarse` section and
 * seed define them.
 * @param batch - labels and ids
 * @param experiment - coarse settings and seed
 * @param classes - number of classes
 */
export function batchCoarseScores(batch: Pick<Batch, 'labels' | 'ids'>, experiment: Experiment, classes: number): tf.Tensor4D {
  return coarseScores(batch.labels, batch.ids, { classes, ...experiment.coarse, seed: experiment.seed });
}

/**
 * Training batches carrying their coarse scores as the model's second input.
 * @param data - the dataset
 * @param experiment - budget, coarse settings
 * @param classes - number of classes
 * @param epoch - epoch index
 */
export async function* coarseTrainBatches(data: BenchData, experiment: Experiment, classes: number, epoch: number): AsyncGenerator<SegmentationBatch> {
  for await (const batch of trainBatches(data, experiment, epoch)) {
    yield { images: batch.images, labels: batch.labels, extraInputs: [batchCoarseScores(batch, experiment, classes)] };
  }
}

/**
 * The levels a refiner takes from the coarse protocol's pyramid, which is
 * only the image (with `imageAsFeature`, the default here): every level the
 * refiner asks for is the image unless `featureLevels` says otherwise.
 */
function coarseLevels(entry: ExperimentEntry, pyramidLength: number, wanted: number, refinerId: string): number[] {
  if (entry.featureLevels === undefined && pyramidLength === 1) return Array.from({ length: wanted }, () => 0);
  return pickLevels(pyramidLength, wanted, entry.featureLevels ?? null, refinerId);
}

/**
 * The entry's refiner on coarse scores: a model `[image, coarse scores] →
 * logits at the image size` (a layer refiner, trained with `train()`), or
 * the coarse scores refined eagerly (a refiner that is not a layer).
 * @param entry - the entry (refiner config, levels)
 * @param experiment - coarse settings and seed
 * @param classes - number of classes
 * @param registry - from `createRegistry` (default: the built-ins)
 */
export function createCoarseEntry(entry: ExperimentEntry, experiment: Experiment, classes: number, registry: Registry = defaultRegistry()): RefinerEntry {
  const config = entry.refiner ?? { type: 'none' };
  const inputs = (batch: Batch): tf.Tensor[] => [batch.images, batchCoarseScores(batch, experiment, classes)];
  if (!registry.refinerSpec(config.type).differentiable) {
    const refiner = registry.createRefiner(config);
    const predictor: EntryPredictor = {
      inputs,
      predict: ([images, scores]) => {
        const image = images as tf.Tensor4D;
        return refiner.refine({ scores: scores as tf.Tensor4D, image }, { outputSize: [image.shape[1], image.shape[2]] });
      },
    };
    return { predictor, refinerParams: 0, dispose: () => refiner.dispose() };
  }
  const refiner = resolveRefinerLayer(config, 'refiner', registry);
  const image = tf.input({ shape: [null, null, 3], name: 'image' });
  const scores = tf.input({ shape: [null, null, classes], name: 'coarse_scores' });
  const pyramid = entry.imageAsFeature === false ? [] : [image];
  const roles = refiner.inputRoles();
  const levels = coarseLevels(entry, pyramid.length, roles.features, refiner.refinerId);
  const refinerInputs = [scores, ...levels.map((i) => pyramid[i]!), ...(roles.image ? [image] : [])];
  const refined = refiner.apply(refinerInputs.length === 1 ? refinerInputs[0]! : refinerInputs) as tf.SymbolicTensor;
  const name = entryModelName('coarse', entry.label);
  const model = tf.model({ inputs: [image, scores], outputs: toImageSize(refined, image, `${name}.logits`), name });
  const predictor: EntryPredictor = {
    inputs,
    predict: (modelInputs) => model.predict(modelInputs) as tf.Tensor4D,
    inspect: modelInspector(model),
  };
  return { model, predictor, refinerParams: refinerParamsOf(model), dispose: () => model.dispose() };
}
