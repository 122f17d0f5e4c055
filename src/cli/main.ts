/**
 * The `segrefine` command line (commander).
 * @module
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { runDemo } from './demo.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Builds the command tree (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('segrefine')
    .description('Refiners for semantic segmentation on TensorFlow.js')
    .version(packageVersion())
    .showHelpAfterError();
  program
    .command('demo')
    .description('refine a synthetic score map and print what each step did')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu', 'auto')
    .action(async (options: { backend: string }) => {
      await runDemo({ backend: options.backend });
    });
  return program;
}

/**
 * Runs the CLI.
 * @param argv - `process.argv`
 */
export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
