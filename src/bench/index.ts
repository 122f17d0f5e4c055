/**
 * The benchmark (`segrefine/bench`, Node): experiments, the runner and its
 * report. `npx segrefine bench` runs the default experiment.
 *
 * ```ts illustrative
 * import { initBackend } from 'segrefine';
 * import { runBench, defaultExperiment } from 'segrefine/bench';
 * await initBackend();
 * const run = await runBench(defaultExperiment);
 * ```
 * @module segrefine/bench
 */
import '../specs.js';
// Experiment files name weights by path: the file reader of segrefine/node.
import '../node/weights_files.js';

export { runBench, type BenchOptions, type BenchRun } from './runner.js';
export { expandEntries, validateEntries } from './entries.js';
export { comparabilityWarnings, singleClassPrediction, TIE_TOLERANCE, type ComparabilityWarning, type ComparabilityWarningKind, type SingleClassPrediction } from './comparability.js';
export { parseExperiment, loadExperiment, experimentJsonSchema, type Experiment, type ExperimentFile, type ExperimentEntry, type DatasetConfig, type SyntheticDatasetConfig, type VocDatasetConfig, type TrainingConfig, type EvaluationConfig, type Protocol, type RefinerProtocol, type CoarseConfig } from './experiment.js';
export { defaultExperiment, fastVariant } from './default_experiment.js';
export { quietReporter, BenchStopped, type ProgressReporter } from './progress.js';
export type { BenchResults, EntryResult, TrimapPoint, RunVersions, DatasetSummary } from './results.js';
export { resultsTable, markdownReport } from './report/markdown.js';
export { writeReport, type ReportFiles } from './report/write.js';
export type { PanelRef } from './report/html.js';
