/**
 * `segrefine bench [experiment.json]`.
 * @module
 */
import { comparabilityWarnings, type ComparabilityWarning } from '../bench/comparability.js';
import { fastVariant, defaultExperiment } from '../bench/default_experiment.js';
import { loadExperiment, parseExperiment } from '../bench/experiment.js';
import { resultsTable } from '../bench/report/markdown.js';
import { runBench } from '../bench/runner.js';
import { startBackend } from './start_backend.js';
import { terminalReporter } from './progress.js';

/** Options of the bench command. */
export interface BenchCommandOptions {
  /** Backend preference. */
  backend: string;
  /** Folder of run folders (overrides the experiment's `outputDir`). */
  out?: string;
  /** Run name (overrides the experiment's `name`). */
  name?: string;
  /** Tiny budget for a smoke test; without `name` the run is `<experiment name>-fast`. */
  fast?: boolean;
}

/** Calls `abort()` on the first Ctrl-C; a second Ctrl-C exits at once. */
export function stopOnInterrupt(controller: AbortController, log: (line: string) => void): () => void {
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130);
    log('\nstopping after the current step (Ctrl-C again to quit now)…');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  return () => process.off('SIGINT', onSignal);
}

/**
 * The experiment the command runs: the file's (or the default), with the
 * fast budget when `options.fast` is set or `SEGREFINE_FAST=1`, then
 * `out` and `name` applied. A fast run without `name` is named
 * `<experiment name>-fast` (e.g. `default-fast`), so it never overwrites
 * the full run's folder.
 * @param file - experiment JSON, or undefined for the default
 * @param options - output folder, run name, fast mode (`backend` is not used)
 * @param env - environment read for `SEGREFINE_FAST` (default `process.env`)
 */
export function benchExperiment(file: string | undefined, options: Omit<BenchCommandOptions, 'backend'>, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  let experiment: Record<string, unknown> = file === undefined ? { ...defaultExperiment } : (loadExperiment(file) as unknown as Record<string, unknown>);
  const fast = options.fast === true || env['SEGREFINE_FAST'] === '1';
  if (fast) experiment = fastVariant(experiment);
  if (options.out !== undefined) experiment = { ...experiment, outputDir: options.out };
  if (options.name !== undefined) experiment = { ...experiment, name: options.name };
  else if (fast) experiment = { ...experiment, name: `${typeof experiment['name'] === 'string' ? experiment['name'] : parseExperiment({}).name}-fast` };
  return experiment;
}

/**
 * The warnings as terminal lines, `Warning: …` each; yellow when `colour`.
 * Empty when there are none.
 * @param warnings - from {@link comparabilityWarnings}
 * @param colour - wrap each line in ANSI yellow (for a TTY)
 */
export function formatWarnings(warnings: readonly ComparabilityWarning[], colour: boolean): string[] {
  return warnings.map((w) => (colour ? `\u001b[33mWarning: ${w.message}\u001b[39m` : `Warning: ${w.message}`));
}

/**
 * Runs an experiment file (or the default experiment) and prints the
 * warnings (if the run cannot compare its entries) and the table.
 * @param file - experiment JSON, or undefined for the default
 * @param options - backend, output folder, fast mode
 */
export async function benchCommand(file: string | undefined, options: BenchCommandOptions): Promise<void> {
  const reporter = terminalReporter();
  await startBackend(options.backend, reporter.log);
  const experiment = benchExperiment(file, options);
  const controller = new AbortController();
  const release = stopOnInterrupt(controller, reporter.log);
  try {
    const run = await runBench(experiment, { reporter, signal: controller.signal });
    const colour = process.stdout.isTTY === true && process.env['NO_COLOR'] === undefined;
    const warnings = formatWarnings(comparabilityWarnings(run.results), colour);
    console.log(`\n${warnings.map((line) => `${line}\n`).join('')}${warnings.length > 0 ? '\n' : ''}${resultsTable(run.results)}\n`);
    console.log(`${run.results.complete ? 'report' : 'partial report'}: ${run.files.html}`);
  } finally {
    release();
  }
}
