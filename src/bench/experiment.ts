/**
 * Experiment files for `segrefine bench`: schema-validated JSON naming the
 * dataset, the backbone, the entries (refiners, necks, whole models), the
 * training budget, the seed and the output folder.
 * @module
 */
import { readFileSync } from 'node:fs';
import { compileArgs, parseArgs } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { experimentFileSchema, type Experiment, type ExperimentEntry } from './experiment_schema.js';

export type { CoarseConfig, DatasetConfig, SyntheticDatasetConfig, VocDatasetConfig, EvaluationConfig, Experiment, ExperimentEntry, ExperimentFile, Protocol, RefinerProtocol, TrainingConfig } from './experiment_schema.js';

const experimentSchema = compileArgs('Experiment', experimentFileSchema);

/** The JSON schema of experiment files (for editors and docs). */
export const experimentJsonSchema: object = experimentSchema.schema;

/**
 * Validates an experiment object (defaults filled, unique labels, entry
 * fields consistent with their protocol).
 * @param value - parsed JSON
 */
export function parseExperiment(value: unknown): Experiment {
  // The schema's defaults fill in every field Experiment requires.
  const experiment = parseArgs(experimentSchema, value ?? {}) as Experiment;
  const labels = new Set<string>();
  experiment.entries.forEach((entry, i) => {
    if (labels.has(entry.label)) throw new ConfigError(`Experiment/entries/${i}/label`, 'must be unique', entry.label);
    labels.add(entry.label);
    const protocol = entry.protocol ?? experiment.protocol;
    if (protocol !== 'end-to-end' && (entry.neck || entry.backbone || entry.model)) {
      throw new ConfigError(`Experiment/entries/${i}`, `must not set neck, backbone or model with protocol ${protocol} (they are trained end-to-end)`, entry.label);
    }
    if (entry.model && (entry.refiner || entry.neck || entry.backbone)) {
      throw new ConfigError(`Experiment/entries/${i}/model`, 'replaces backbone, neck and refiner: set only one of them', entry.label);
    }
  });
  return experiment;
}

/**
 * The experiment as one entry trains under it: the entry's `train` fields
 * over the experiment's (evaluation keeps the experiment's batch size).
 * @param experiment - the validated experiment
 * @param entry - one of its entries
 */
export function entryExperiment(experiment: Experiment, entry: ExperimentEntry): Experiment {
  return entry.train === undefined ? experiment : { ...experiment, train: { ...experiment.train, ...entry.train } };
}

/**
 * Reads and validates an experiment file; errors name the file.
 * @param path - a JSON file
 */
export function loadExperiment(path: string): Experiment {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, 'must be a readable experiment file', (error as Error).message);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, 'must be valid JSON', (error as Error).message);
  }
  return parseExperiment(json);
}
