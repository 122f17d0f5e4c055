/**
 * The shape of `runs/<name>/results.json`: every number a bench run measured.
 * @module
 */
import type { Protocol } from './experiment.js';

/** IoU averaged over classes inside one trimap band. */
export interface TrimapPoint {
  /** Half-width of the band around true boundaries, in pixels. */
  radius: number;
  /** Mean IoU over classes of the pixels within `radius` of a boundary. */
  meanIou: number;
}

/** Results of one entry (a backbone + optional neck + refiner, trained and evaluated). */
export interface EntryResult {
  /** Label shown in tables and charts. */
  label: string;
  /** `end-to-end` (trained together) or `refine-frozen` (refiner on frozen scores). */
  protocol: Protocol;
  /** Backbone description, e.g. `sim-deeplab depth 18 ×0.25`. */
  backbone: string;
  /** Refiner id (`none` for the backbone alone). */
  refiner: string;
  /** Neck id, when one is used. */
  neck?: string;
  /** Whether the refiner was trained (non-differentiable refiners are only evaluated). */
  trained: boolean;
  /** Parameters of the whole model (backbone + neck + refiner). */
  params: number;
  /** Parameters of the refiner (and neck) alone. */
  refinerParams: number;
  /** Median inference time per image on the validation split, ms. */
  msPerImage: number;
  /** Wall time spent training this entry, s. */
  trainSeconds: number;
  /** Training loss per step. */
  losses: number[];
  /** Mean IoU over classes (VOC convention). */
  meanIou: number;
  /** Pixel accuracy. */
  pixelAccuracy: number;
  /** IoU per class (null where a class is absent from truth and prediction). */
  perClassIou: (number | null)[];
  /**
   * Validation pixels predicted as each class (the confusion matrix's column
   * sums; pixels whose truth is void are not counted). Tells an entry that
   * predicts a single class; absent in results.json written before it existed.
   */
  predictedPixels?: number[];
  /**
   * What the refiner's `inspect()` reported on the first panel image, e.g.
   * DifNet's learned `mu` and `beta` per walk and `importanceMean`; absent
   * when the refiner has no inspection.
   */
  inspected?: Record<string, readonly number[]>;
  /** Trimap mean IoU for each band half-width. */
  trimap: TrimapPoint[];
  /** Boundary F-score. */
  boundaryF: number;
}

/** Software versions of a run. */
export interface RunVersions {
  /** segrefine's version. */
  segrefine: string;
  /** tfjs's version. */
  tfjs: string;
  /** Node's version. */
  node: string;
}

/** The dataset a run used. */
export interface DatasetSummary {
  /** `synthetic scenes` or `VOC folder <root>`. */
  kind: string;
  /** Training images. */
  trainSize: number;
  /** Validation images. */
  valSize: number;
  /** Image (crop) size, when fixed. */
  imageSize: [number, number] | null;
  /** Class names. */
  classes: string[];
}

/** Everything a bench run writes to `results.json`. */
export interface BenchResults {
  /** Experiment name (the run folder's name). */
  name: string;
  /** Experiment seed. */
  seed: number;
  /** The validated experiment, as run. */
  experiment: unknown;
  /** Backend used, e.g. `wasm`. */
  backend: string;
  /** Versions of segrefine, tfjs and Node. */
  versions: RunVersions;
  /** Dataset description. */
  dataset: DatasetSummary;
  /** ISO time the run started. */
  startedAt: string;
  /** ISO time the run ended (or was stopped). */
  finishedAt: string;
  /** False when stopped early (Ctrl-C): entries holds what finished. */
  complete: boolean;
  /** One result per finished entry. */
  entries: EntryResult[];
}
