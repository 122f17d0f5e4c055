/**
 * The `segrefine` command line (commander).
 * @module
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import '../specs.js';
// Experiment files name weights by path: the file reader of segrefine/node.
import '../node/weights_files.js';
import { SegrefineError } from '../core/errors.js';
import { benchCommand } from './bench_command.js';
import { dataExportCommand } from './data_command.js';
import { runDemo } from './demo.js';
import { evalCommand, refineCommand, trainCommand } from './model_commands.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const BACKEND_HELP = 'auto | tensorflow | wasm | cpu (SEGREFINE_BACKEND overrides)';

/** Builds the command tree (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('segrefine')
    .description('Refiners for semantic segmentation on TensorFlow.js')
    .version(packageVersion())
    .showHelpAfterError();
  program
    .command('bench')
    .description('train and evaluate a backbone with each refiner, write runs/<name>/report.{md,html}')
    .argument('[experiment]', 'experiment JSON (default: the built-in experiment on synthetic scenes)')
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--out <dir>', 'folder of run folders (overrides outputDir)')
    .option('--name <name>', 'run name (overrides name)')
    .option('--fast', 'tiny budget, for a smoke test; runs as <name>-fast unless --name is given')
    .action((file: string | undefined, options) => benchCommand(file, options));
  program
    .command('train')
    .description('train one end-to-end entry of an experiment and save the model')
    .argument('[experiment]', 'experiment JSON (default: the built-in experiment)')
    .requiredOption('--entry <label>', 'entry label')
    .requiredOption('--save <dir>', 'folder to save the model to')
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--fast', 'tiny budget, for a smoke test')
    .action((file: string | undefined, options) => trainCommand(file, options));
  program
    .command('eval')
    .description("evaluate a saved model on an experiment's validation split")
    .argument('[experiment]', 'experiment JSON naming the dataset (default: the built-in experiment)')
    .requiredOption('--model <dir>', 'saved model folder')
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .option('--fast', 'evaluate a few images only')
    .action((file: string | undefined, options) => evalCommand(file, options));
  program
    .command('refine')
    .description('segment an image with a saved model (optionally + a refiner) and write a palette PNG')
    .argument('<image>', 'input image')
    .requiredOption('--model <dir>', 'saved model folder')
    .option('--out <png>', 'output PNG (its folder is created if missing)', 'labels.png')
    .option('--refiner <id>', 'refiner applied to the model output, e.g. dense-crf')
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .action((image: string, options) => refineCommand(image, options));
  const data = program.command('data').description('datasets');
  data
    .command('export')
    .description('write the built-in synthetic scenes in VOC layout')
    .argument('<dir>', 'target folder')
    .option('--seed <n>', 'generator seed', '1')
    .option('--size <HxW>', 'scene size', '128x128')
    .option('--train <n>', 'training scenes', '256')
    .option('--val <n>', 'validation scenes', '64')
    .option('--classes <n>', 'number of classes', '6')
    .option('--format <png|jpeg>', 'image format (png is lossless)', 'png')
    .action((dir: string, options) => dataExportCommand(dir, options));
  program
    .command('demo')
    .description('refine a synthetic score map with a DiffusionHead and print what it did')
    .option('--backend <name>', BACKEND_HELP, 'auto')
    .action(async (options: { backend: string }) => {
      await runDemo({ backend: options.backend });
    });
  return program;
}

/**
 * Runs the CLI. segrefine's typed errors print as one line, without a stack.
 * @param argv - `process.argv`
 */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (!(error instanceof SegrefineError)) throw error;
    console.error(`segrefine: ${error.name}: ${error.message}`);
    process.exitCode = 1;
  }
}
