/**
 * `runBench()`: trains and evaluates every entry of an experiment and writes
 * `runs/<name>/` (results.json, report.md, report.html, charts, panels).
 * The report is rewritten after every entry, so a stopped run keeps what finished.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { backendInfo } from '../core/backend.js';
import type { Registry } from '../core/registry.js';
import { openDataset, type BenchData } from './dataset.js';
import { coarseTrainBatches, createCoarseEntry } from './coarse.js';
import { buildEntryModel, evaluateModel, trainEntryModel, type TrainedEntry } from './end_to_end.js';
import { expandEntries, FROZEN_BASELINE, protocolOf, validateEntries } from './entries.js';
import { evaluateEntry, type EntryEvaluation, type PanelStore } from './evaluate.js';
import { entryExperiment, parseExperiment, type Experiment, type ExperimentEntry, type Protocol } from './experiment.js';
import { buildFrozenBackbone, createFrozenEntry, type FrozenBackbone, type RefinerEntry } from './frozen.js';
import { BenchStopped, quietReporter, type ProgressReporter } from './progress.js';
import type { BenchResults, EntryResult } from './results.js';
import type { PanelRef } from './report/html.js';
import { labelTile, writePanel, type PanelTile } from './report/panels.js';
import { writeReport, type ReportFiles } from './report/write.js';

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Progress and log lines (default: silent). */
  reporter?: ProgressReporter;
  /** Stops the run after the current step; finished entries are kept. */
  signal?: AbortSignal;
  /** Registry (default: the built-ins); pass one from `createRegistry` with your own refiner specs. */
  registry?: Registry;
}

/** What {@link runBench} returns. */
export interface BenchRun {
  /** The run folder. */
  dir: string;
  /** Everything measured. */
  results: BenchResults;
  /** The report files. */
  files: ReportFiles;
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** What the runner knows about an entry besides its evaluation. */
type EntryFacts = Omit<EntryResult, 'label' | 'protocol' | 'msPerImage' | 'meanIou' | 'pixelAccuracy' | 'perClassIou' | 'predictedPixels' | 'trimap' | 'boundaryF' | 'inspected'>;

function toEntryResult(protocol: Protocol, evaluation: EntryEvaluation, extra: EntryFacts, label: string): EntryResult {
  const m = evaluation.metrics;
  const trimap = m.trimap ? m.trimap.radii.map((radius, i) => ({ radius, meanIou: m.trimap!.meanIou[i] ?? Number.NaN })) : [];
  return {
    label,
    protocol,
    ...extra,
    msPerImage: evaluation.msPerImage,
    meanIou: m.meanIou,
    pixelAccuracy: m.pixelAccuracy,
    perClassIou: m.perClass.map((c) => c.iou),
    predictedPixels: m.perClass.map((c) => c.predictedPixels),
    trimap,
    boundaryF: m.boundary?.fScore ?? Number.NaN,
    ...(Object.keys(evaluation.values).length > 0 ? { inspected: evaluation.values } : {}),
  };
}

/** Training facts of an entry (untrained: no losses, no time). */
function trainingFacts(trained: TrainedEntry | undefined): Pick<EntryResult, 'trained' | 'trainSeconds' | 'losses'> {
  return { trained: trained !== undefined, trainSeconds: trained?.seconds ?? 0, losses: trained?.losses ?? [] };
}

async function writePanels(dir: string, panels: PanelStore, evaluations: Map<string, EntryEvaluation>): Promise<PanelRef[]> {
  const refs: PanelRef[] = [];
  for (const [index, sample] of [...panels.values()].entries()) {
    const rows: PanelTile[][] = [[{ caption: 'image', rgb: sample.image, width: sample.width, height: sample.height }, labelTile('truth', sample.truth, sample.width, sample.height)]];
    for (const [label, evaluation] of evaluations) {
      const predicted = evaluation.predictions.get(sample.id);
      if (predicted === undefined) continue;
      rows.push([labelTile(label, predicted, sample.width, sample.height), ...(evaluation.extras.get(sample.id) ?? [])]);
    }
    const file = `panels/panel-${index}.png`;
    // Small scenes are upscaled so a tile is about 128 px wide.
    const scale = Math.max(1, Math.round(128 / sample.width));
    await writePanel(join(dir, file), rows, scale);
    refs.push({ file, sampleId: sample.id, captions: rows.map((row) => row.map((t) => t.caption)), tileWidth: sample.width, tileHeight: sample.height, scale });
  }
  return refs;
}

/** Trains a frozen or coarse entry's refiner for the experiment's `refinerEpochs`. */
function trainRefinerEntry(model: tf.LayersModel, protocol: Protocol, data: BenchData, experiment: Experiment, classes: number, reporter: ProgressReporter, label: string, signal?: AbortSignal): Promise<TrainedEntry | undefined> {
  const epochs = experiment.train.refinerEpochs;
  if (protocol === 'refine-coarse') return trainEntryModel(model, data, experiment, reporter, label, signal, { epochs, data: (epoch) => coarseTrainBatches(data, experiment, classes, epoch) });
  return trainEntryModel(model, data, experiment, reporter, label, signal, { epochs });
}

/**
 * Runs an experiment end to end and writes its report.
 * @param experimentInput - an experiment object (validated here)
 * @param options - progress reporter and stop signal
 */
export async function runBench(experimentInput: unknown, options: BenchOptions = {}): Promise<BenchRun> {
  const experiment = parseExperiment(experimentInput);
  // Every entry is checked against the registry before anything trains.
  const entries = expandEntries(experiment, options.registry);
  validateEntries(entries, experiment, options.registry);
  const reporter = options.reporter ?? quietReporter();
  const dir = join(experiment.outputDir, experiment.name);
  const data: BenchData = await openDataset(experiment.dataset, experiment.seed, reporter);
  const classes = data.dataset.numClasses;
  const results: BenchResults = {
    name: experiment.name,
    seed: experiment.seed,
    experiment,
    backend: backendInfo().name,
    versions: { segrefine: packageVersion(), tfjs: tf.version.tfjs, node: process.version },
    dataset: {
      kind: data.kind,
      trainSize: data.dataset.ids(data.trainSplit).length,
      valSize: data.dataset.ids(data.valSplit).length,
      imageSize: experiment.dataset.size ?? null,
      classes: [...data.dataset.classNames],
    },
    startedAt: new Date().toISOString(),
    finishedAt: '',
    complete: false,
    entries: [],
  };
  const panels: PanelStore = new Map();
  const evaluations = new Map<string, EntryEvaluation>();
  let frozen: FrozenBackbone | undefined;
  const writeAll = async (): Promise<ReportFiles> => {
    results.finishedAt = new Date().toISOString();
    return writeReport(dir, results, await writePanels(dir, panels, evaluations));
  };
  let files: ReportFiles | undefined;
  try {
    for (const entry of entries) {
      const protocol = protocolOf(entry, experiment);
      // The entry's own budget, if it sets one; evaluation uses the experiment's settings.
      const training = entryExperiment(experiment, entry);
      if (protocol === 'end-to-end') {
        const built = buildEntryModel(entry, experiment, classes, options.registry);
        try {
          const trained = await trainEntryModel(built.model, data, training, reporter, entry.label, options.signal);
          const evaluation = await evaluateModel(built.model, data, experiment, panels, reporter, entry.label, options.signal);
          evaluations.set(entry.label, evaluation);
          const facts = { backbone: built.backbone, refiner: built.refiner, neck: built.neck, params: built.model.countParams(), refinerParams: built.refinerParams, ...trainingFacts(trained) };
          results.entries.push(toEntryResult(protocol, evaluation, facts, entry.label));
        } finally {
          built.model.dispose();
        }
      } else if (protocol === 'refine-frozen' && frozen === undefined) {
        // The baseline: train the shared backbone with the `none` refiner.
        frozen = buildFrozenBackbone(experiment, classes, options.registry);
        const label = entry.label === FROZEN_BASELINE ? `${frozen.description} (none)` : entry.label;
        const trained = await trainEntryModel(frozen.model, data, training, reporter, label, options.signal);
        const evaluation = await evaluateModel(frozen.model, data, experiment, panels, reporter, label, options.signal);
        evaluations.set(label, evaluation);
        const facts = { backbone: frozen.description, refiner: 'none', params: frozen.model.countParams(), refinerParams: 0, ...trainingFacts(trained) };
        results.entries.push(toEntryResult('end-to-end', evaluation, facts, label));
      } else {
        const built: RefinerEntry = protocol === 'refine-frozen' ? createFrozenEntry(frozen!, entry, options.registry) : createCoarseEntry(entry, experiment, classes, options.registry);
        try {
          const trained = built.model === undefined ? undefined : await trainRefinerEntry(built.model, protocol, data, training, classes, reporter, entry.label, options.signal);
          const evaluation = await evaluateEntry(built.predictor, data, experiment, panels, reporter, entry.label, options.signal);
          evaluations.set(entry.label, evaluation);
          const backboneParams = protocol === 'refine-frozen' ? frozen!.model.countParams() : 0;
          const facts = {
            backbone: protocol === 'refine-frozen' ? frozen!.description : `coarse scores (stride ${experiment.coarse.stride})`,
            refiner: (entry.refiner ?? { type: 'none' }).type,
            params: backboneParams + built.refinerParams,
            refinerParams: built.refinerParams,
            ...trainingFacts(trained),
          };
          results.entries.push(toEntryResult(protocol, evaluation, facts, entry.label));
        } finally {
          built.dispose();
        }
      }
      reporter.log(`finished ${results.entries[results.entries.length - 1]!.label}: mIoU ${(100 * results.entries[results.entries.length - 1]!.meanIou).toFixed(2)}%`);
      files = await writeAll();
    }
    results.complete = true;
  } catch (error) {
    if (!(error instanceof BenchStopped)) throw error;
    reporter.log(`stopped: keeping ${results.entries.length} finished entr${results.entries.length === 1 ? 'y' : 'ies'}`);
  } finally {
    frozen?.model.dispose();
  }
  files = await writeAll();
  return { dir, results, files };
}
