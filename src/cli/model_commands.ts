/**
 * `segrefine train`, `segrefine eval` and `segrefine refine <image>`.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { openDataset } from '../bench/dataset.js';
import { defaultExperiment, fastVariant } from '../bench/default_experiment.js';
import { buildEntryModel, evaluateModel, trainEntryModel } from '../bench/end_to_end.js';
import { loadExperiment, parseExperiment, type Experiment } from '../bench/experiment.js';
import { startBackend } from './start_backend.js';
import { ConfigError, DataError } from '../core/errors.js';
import { createRefiner } from '../core/registry.js';
import { assertFinite } from '../core/refiner.js';
import { vocPalette } from '../data/palette.js';
import { encodePalettePng } from '../node/voc/png.js';
import { fileSystemIO } from '../node/checkpoint_files.js';
import { terminalReporter } from './progress.js';
import { stopOnInterrupt } from './bench_command.js';

/** Options shared by the model commands. */
export interface ModelCommandOptions {
  /** Backend preference. */
  backend: string;
  /** Tiny budget for a smoke test. */
  fast?: boolean;
}

function experimentFrom(file: string | undefined, fast: boolean | undefined): Experiment {
  let raw: Record<string, unknown> = file === undefined ? { ...defaultExperiment } : (loadExperiment(file) as unknown as Record<string, unknown>);
  if (fast === true || process.env['SEGREFINE_FAST'] === '1') raw = fastVariant(raw);
  return parseExperiment(raw);
}

/**
 * Trains one end-to-end entry of an experiment and saves the model.
 * @param file - experiment JSON (default experiment when undefined)
 * @param options - `entry` label, `save` folder
 */
export async function trainCommand(file: string | undefined, options: ModelCommandOptions & { entry: string; save: string }): Promise<void> {
  const reporter = terminalReporter();
  await startBackend(options.backend, reporter.log);
  const experiment = experimentFrom(file, options.fast);
  const entry = experiment.entries.find((e) => e.label === options.entry);
  if (entry === undefined) throw new ConfigError('--entry', `must be one of ${experiment.entries.map((e) => JSON.stringify(e.label)).join(', ')}`, options.entry);
  const data = await openDataset(experiment.dataset, experiment.seed, reporter);
  const built = buildEntryModel({ ...entry, protocol: 'end-to-end' }, experiment, data.dataset.numClasses);
  const controller = new AbortController();
  const release = stopOnInterrupt(controller, reporter.log);
  try {
    const trained = (await trainEntryModel(built.model, data, experiment, reporter, entry.label, controller.signal)) ?? { seconds: 0, losses: [] };
    await built.model.save(fileSystemIO(options.save));
    reporter.log(`trained ${entry.label} in ${trained.seconds.toFixed(1)} s (final loss ${trained.losses[trained.losses.length - 1]?.toFixed(4)}); saved to ${options.save}`);
  } finally {
    release();
    built.model.dispose();
  }
}

/**
 * Evaluates a saved model on an experiment's validation split.
 * @param file - experiment JSON naming the dataset (default experiment when undefined)
 * @param options - `model` folder
 */
export async function evalCommand(file: string | undefined, options: ModelCommandOptions & { model: string }): Promise<void> {
  const reporter = terminalReporter();
  await startBackend(options.backend, reporter.log);
  const experiment = experimentFrom(file, options.fast);
  const data = await openDataset(experiment.dataset, experiment.seed, reporter);
  const model = await tf.loadLayersModel(fileSystemIO(options.model));
  try {
    const outputShape = model.outputs[0]?.shape ?? [];
    const classes = outputShape[outputShape.length - 1];
    if (classes !== data.dataset.numClasses) {
      throw new ConfigError('--model', `must predict the dataset's ${data.dataset.numClasses} classes (${options.model} outputs ${classes ?? 'an unknown number of'} classes)`, `${classes ?? 'unknown'} classes`);
    }
    const evaluation = await evaluateModel(model, data, experiment, new Map(), reporter, options.model);
    const m = evaluation.metrics;
    console.log(`mIoU ${(100 * m.meanIou).toFixed(2)}%  pixel accuracy ${(100 * m.pixelAccuracy).toFixed(2)}%  boundary F ${(100 * (m.boundary?.fScore ?? NaN)).toFixed(2)}%  ${evaluation.msPerImage.toFixed(1)} ms/image`);
    for (const c of m.perClass) console.log(`  ${c.name.padEnd(16)} IoU ${c.iou === null ? '–' : (100 * c.iou).toFixed(2)}`);
  } finally {
    model.dispose();
  }
}

/**
 * Segments one image with a saved model (optionally followed by a
 * non-differentiable refiner such as `dense-crf`) and writes the label map as
 * a palette PNG.
 * @param imagePath - any image sharp reads
 * @param options - `model` folder, `out` PNG (its folder is created if missing), optional `refiner` id
 */
export async function refineCommand(imagePath: string, options: ModelCommandOptions & { model: string; out: string; refiner?: string }): Promise<void> {
  const reporter = terminalReporter();
  await startBackend(options.backend, reporter.log);
  let decoded: { data: Buffer; info: { width: number; height: number } };
  try {
    decoded = await sharp(imagePath).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new DataError(imagePath, 'must be a readable image', (error as Error).message);
  }
  const { width, height } = decoded.info;
  const model = await tf.loadLayersModel(fileSystemIO(options.model));
  const refiner = options.refiner === undefined ? undefined : createRefiner({ type: options.refiner });
  try {
    const image = tf.tidy(() => tf.div(tf.tensor4d(Uint8Array.from(decoded.data), [1, height, width, 3], 'int32'), 255) as tf.Tensor4D);
    let logits = model.predict(image) as tf.Tensor4D;
    try {
      assertFinite(logits, `predictions of ${options.model}`);
    } catch (error) {
      tf.dispose([image, logits]);
      throw error;
    }
    if (refiner !== undefined) {
      const refined = refiner.refine({ scores: logits, image }, { outputSize: [height, width] });
      logits.dispose();
      logits = refined;
    }
    const labels = tf.tidy(() => tf.cast(tf.argMax(logits, 3), 'int32'));
    const png = encodePalettePng(Uint8Array.from(await labels.data()), width, height, vocPalette());
    tf.dispose([image, logits, labels]);
    // Like --save and bench's --out, a missing folder is created.
    try {
      mkdirSync(dirname(options.out), { recursive: true });
      writeFileSync(options.out, png);
    } catch (error) {
      throw new DataError('--out', 'must be a writable file path', `${options.out}: ${(error as Error).message.split('\n')[0]}`);
    }
    reporter.log(`wrote ${options.out} (${width}×${height} label map${refiner ? `, refined by ${options.refiner}` : ''})`);
  } finally {
    model.dispose();
    refiner?.dispose();
  }
}
