/**
 * `runBench()`: trains and evaluates every entry of an experiment and writes
 * `runs/<name>/` (results.json, report.md, report.html, charts, panels).
 * The report is rewritten after every entry, so a stopped run keeps what finished.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { backendInfo } from '../core/backend.js';
import { registryOf } from '../core/registry.js';
import { openDataset, type BenchData } from './dataset.js';
import { buildEntryModel, evaluateModel, trainEndToEnd } from './end_to_end.js';
import type { EntryEvaluation, PanelStore } from './evaluate.js';
import { parseExperiment, type Experiment, type ExperimentEntry } from './experiment.js';
import { buildFrozenBackbone, createFrozenRefiner, evaluateFrozen, trainFrozenRefiner, type FrozenBackbone } from './frozen.js';
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
  /** Registry container (default: the built-ins); pass one with your own refiner specs. */
  container?: DependencyContainer;
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

const BASELINE = '__baseline__';

/**
 * The entries to run: the frozen baseline first (when any entry is frozen),
 * the listed entries, then one frozen entry per registered refiner not listed.
 * @param experiment - the validated experiment
 */
export function expandEntries(experiment: Experiment, container?: DependencyContainer): ExperimentEntry[] {
  const entries = [...experiment.entries];
  const protocolOf = (e: ExperimentEntry): string => e.protocol ?? experiment.protocol;
  if (experiment.includeAllRefiners) {
    const listed = new Set(entries.map((e) => e.refiner?.type ?? (e.model ? e.model.type : 'none')));
    for (const spec of registryOf(container).refiners()) {
      if (spec.kind === 'refiner' && !listed.has(spec.id)) entries.push({ label: spec.id, refiner: { type: spec.id }, protocol: 'refine-frozen' });
    }
  }
  const frozen = entries.filter((e) => protocolOf(e) === 'refine-frozen');
  const isBaseline = (e: ExperimentEntry): boolean => protocolOf(e) === 'refine-frozen' && (e.refiner?.type ?? 'none') === 'none';
  if (frozen.length > 0 && !entries.some(isBaseline)) entries.unshift({ label: BASELINE, protocol: 'refine-frozen', refiner: { type: 'none' } });
  // The baseline trains the shared backbone, so it runs before the other frozen entries.
  const baseline = entries.filter(isBaseline);
  return [...baseline, ...entries.filter((e) => !isBaseline(e))];
}

function toEntryResult(entry: ExperimentEntry, protocol: EntryResult['protocol'], evaluation: EntryEvaluation, extra: Omit<EntryResult, 'label' | 'protocol' | 'msPerImage' | 'meanIou' | 'pixelAccuracy' | 'perClassIou' | 'trimap' | 'boundaryF'>, label: string): EntryResult {
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
    trimap,
    boundaryF: m.boundary?.fScore ?? Number.NaN,
  };
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

/**
 * Runs an experiment end to end and writes its report.
 * @param experimentInput - an experiment object (validated here)
 * @param options - progress reporter and stop signal
 */
export async function runBench(experimentInput: unknown, options: BenchOptions = {}): Promise<BenchRun> {
  const experiment = parseExperiment(experimentInput);
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
    for (const entry of expandEntries(experiment, options.container)) {
      const protocol = entry.protocol ?? experiment.protocol;
      if (protocol === 'end-to-end') {
        const built = buildEntryModel(entry, experiment, classes, options.container);
        try {
          const trained = await trainEndToEnd(built.model, data, experiment, reporter, entry.label, options.signal);
          const evaluation = await evaluateModel(built.model, data, experiment, panels, reporter, entry.label, options.signal);
          evaluations.set(entry.label, evaluation);
          const params = built.model.countParams();
          results.entries.push(toEntryResult(entry, protocol, evaluation, { backbone: built.backbone, refiner: built.refiner, neck: built.neck, trained: true, params, refinerParams: built.refinerParams, trainSeconds: trained.seconds, losses: trained.losses }, entry.label));
        } finally {
          built.model.dispose();
        }
      } else if (frozen === undefined) {
        // The baseline: train the shared backbone with the `none` refiner.
        frozen = buildFrozenBackbone(experiment, classes, options.container);
        const label = entry.label === BASELINE ? `${frozen.description} (none)` : entry.label;
        const trained = await trainEndToEnd(frozen.model, data, experiment, reporter, label, options.signal);
        const evaluation = await evaluateModel(frozen.model, data, experiment, panels, reporter, label, options.signal);
        evaluations.set(label, evaluation);
        results.entries.push(toEntryResult(entry, 'end-to-end', evaluation, { backbone: frozen.description, refiner: 'none', trained: true, params: frozen.model.countParams(), refinerParams: 0, trainSeconds: trained.seconds, losses: trained.losses }, label));
      } else {
        const built = createFrozenRefiner(frozen, entry, options.container);
        try {
          const trained = await trainFrozenRefiner(frozen, built, entry, data, experiment, reporter, options.signal);
          const evaluation = await evaluateFrozen(built, data, experiment, panels, reporter, entry.label, options.signal);
          evaluations.set(entry.label, evaluation);
          const refinerParams = built.refiner instanceof tf.layers.Layer ? built.refiner.countParams() : 0;
          results.entries.push(
            toEntryResult(entry, protocol, evaluation, {
              backbone: frozen.description,
              refiner: (entry.refiner ?? { type: 'none' }).type,
              trained: trained !== undefined,
              params: frozen.model.countParams() + refinerParams,
              refinerParams,
              trainSeconds: trained?.seconds ?? 0,
              losses: trained?.losses ?? [],
            }, entry.label),
          );
        } finally {
          built.refiner.dispose();
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
