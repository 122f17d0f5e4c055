/**
 * The `refine-frozen` protocol: the backbone is trained once (as SPN and the
 * dense CRF are used in their papers), then each refiner is put on the
 * frozen backbone with `createSegmenter({ freezeBackbone: true })` and
 * trained with the library's `train()`, or only evaluated when it is not
 * differentiable.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../core/backbone.js';
import { RefinerLayer } from '../core/refiner.js';
import { defaultRegistry, type Registry } from '../core/registry.js';
import { createSegmenter } from '../models/segmenter.js';
import { describeBackbone, entryModelName, modelPredictor, withClasses } from './end_to_end.js';
import type { EntryPredictor } from './evaluate.js';
import type { Experiment, ExperimentEntry } from './experiment.js';

/** The backbone shared by every frozen entry, and its model (backbone + `none`). */
export interface FrozenBackbone {
  /** The backbone (its layers carry the trained weights). */
  backbone: Backbone;
  /** image → the backbone's scores at the image size. */
  model: tf.LayersModel;
  /** Description for the report. */
  description: string;
}

/**
 * Builds the experiment's backbone as a `none` segmenter (to be trained once).
 * @param experiment - backbone config and seed
 * @param classes - number of classes
 * @param registry - from `createRegistry` (default: the built-ins)
 */
export function buildFrozenBackbone(experiment: Experiment, classes: number, registry: Registry = defaultRegistry()): FrozenBackbone {
  const backbone = registry.createBackbone(withClasses(experiment.backbone, classes, experiment.seed));
  const model = createSegmenter({ backbone, refiner: { type: 'none' }, name: 'frozen_backbone', registry });
  return { backbone, model, description: describeBackbone(experiment.backbone) };
}

/**
 * Parameters of a model's refiner layers (the refiner's share of a frozen or
 * coarse entry).
 * @param model - an entry's model
 */
export function refinerParamsOf(model: tf.LayersModel): number {
  return model.layers.filter((l) => l instanceof RefinerLayer).reduce((sum, l) => sum + l.countParams(), 0);
}

/** A refiner entry's model (when it is a layer) and predictor, for the frozen and coarse protocols. */
export interface RefinerEntry {
  /** The trainable model; absent for a refiner that is not a layer (evaluated only). */
  model?: tf.LayersModel;
  /** Turns validation batches into logits. */
  predictor: EntryPredictor;
  /** The refiner's own parameters. */
  refinerParams: number;
  /** Releases the entry (never the shared backbone). */
  dispose(): void;
}

/**
 * The entry's refiner on the frozen backbone: a segmenter whose backbone does
 * not train (a layer refiner), or the backbone's scores refined eagerly
 * (a refiner that is not a layer, e.g. the dense CRF).
 * @param frozen - the trained backbone
 * @param entry - the entry (refiner config, levels)
 * @param registry - from `createRegistry` (default: the built-ins)
 */
export function createFrozenEntry(frozen: FrozenBackbone, entry: ExperimentEntry, registry: Registry = defaultRegistry()): RefinerEntry {
  const config = entry.refiner ?? { type: 'none' };
  const name = entryModelName('frozen', entry.label);
  if (registry.refinerSpec(config.type).differentiable) {
    const model = createSegmenter({
      backbone: frozen.backbone,
      freezeBackbone: true,
      refiner: config,
      featureLevels: entry.featureLevels ?? null,
      imageAsFeature: entry.imageAsFeature ?? false,
      name,
      registry,
    });
    return { model, predictor: modelPredictor(model), refinerParams: refinerParamsOf(model), dispose: () => model.dispose() };
  }
  const refiner = registry.createRefiner(config);
  const predictor: EntryPredictor = {
    inputs: (batch) => [batch.images],
    predict: (inputs) => {
      const images = inputs[0] as tf.Tensor4D;
      const scores = tf.tidy(() => frozen.backbone.apply(images, { training: false }).scores);
      try {
        return refiner.refine({ scores, image: images }, { outputSize: [images.shape[1], images.shape[2]] });
      } finally {
        scores.dispose();
      }
    },
  };
  return { predictor, refinerParams: 0, dispose: () => refiner.dispose() };
}
