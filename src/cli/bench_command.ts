/**
 * `segrefine bench [experiment.json]`.
 * @module
 */
import { fastVariant, defaultExperiment } from '../bench/default_experiment.js';
import { loadExperiment } from '../bench/experiment.js';
import { resultsTable } from '../bench/report/markdown.js';
import { runBench } from '../bench/runner.js';
import { describeBackend, initBackend, type BackendPreference } from '../core/backend.js';
import { terminalReporter } from './progress.js';

/** Options of the bench command. */
export interface BenchCommandOptions {
  /** Backend preference. */
  backend: string;
  /** Folder of run folders (overrides the experiment's `outputDir`). */
  out?: string;
  /** Run name (overrides the experiment's `name`). */
  name?: string;
  /** Tiny budget for a smoke test. */
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
 * Runs an experiment file (or the default experiment) and prints the table.
 * @param file - experiment JSON, or undefined for the default
 * @param options - backend, output folder, fast mode
 */
export async function benchCommand(file: string | undefined, options: BenchCommandOptions): Promise<void> {
  const reporter = terminalReporter();
  const info = await initBackend(options.backend as BackendPreference);
  reporter.log(`backend: ${describeBackend(info)}`);
  let experiment: Record<string, unknown> = file === undefined ? { ...defaultExperiment } : (loadExperiment(file) as unknown as Record<string, unknown>);
  if (options.fast === true || process.env['SEGREFINE_FAST'] === '1') experiment = fastVariant(experiment);
  if (options.out !== undefined) experiment = { ...experiment, outputDir: options.out };
  if (options.name !== undefined) experiment = { ...experiment, name: options.name };
  const controller = new AbortController();
  const release = stopOnInterrupt(controller, reporter.log);
  try {
    const run = await runBench(experiment, { reporter, signal: controller.signal });
    console.log(`\n${resultsTable(run.results)}\n`);
    console.log(`${run.results.complete ? 'report' : 'partial report'}: ${run.files.html}`);
  } finally {
    release();
  }
}
