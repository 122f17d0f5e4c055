/**
 * The entries an experiment runs — the listed ones, one per registered
 * refiner for each protocol `includeAllRefiners` names, and the baselines
 * each protocol needs — and their validation against the registry before
 * anything trains.
 * @module
 */
import { parseArgs } from '../core/config.js';
import { ConfigError, SegrefineError } from '../core/errors.js';
import { defaultRegistry, type Registry, type TypedConfig } from '../core/registry.js';
import { difNetSchema } from '../models/difnet.js';
import type { Experiment, ExperimentEntry, Protocol, RefinerProtocol } from './experiment.js';

/** Label of the frozen baseline when no entry is one (named after the backbone when run). */
export const FROZEN_BASELINE = '__baseline__';
/** Label of the coarse input itself when no `refine-coarse` entry uses the `none` refiner. */
export const COARSE_BASELINE = 'coarse input';

/** The protocol an entry runs under. */
export function protocolOf(entry: ExperimentEntry, experiment: Experiment): Protocol {
  return entry.protocol ?? experiment.protocol;
}

/** Whether an entry is a protocol's baseline: the `none` refiner on frozen or coarse scores. */
export function isBaseline(entry: ExperimentEntry, experiment: Experiment): boolean {
  return protocolOf(entry, experiment) !== 'end-to-end' && (entry.refiner?.type ?? 'none') === 'none';
}

function includedProtocols(experiment: Experiment): RefinerProtocol[] {
  const include = experiment.includeAllRefiners;
  return include === true ? ['refine-frozen'] : include === false ? [] : include;
}

/**
 * The entries to run, in order: the frozen baseline first (it trains the
 * shared backbone), then the listed entries and one entry with default
 * arguments per registered refiner not yet listed under each protocol of
 * `includeAllRefiners`; the `refine-coarse` entries come last, after their
 * baseline (the coarse input itself).
 * @param experiment - the validated experiment
 * @param registry - from `createRegistry` (default: the built-ins)
 */
export function expandEntries(experiment: Experiment, registry: Registry = defaultRegistry()): ExperimentEntry[] {
  const entries = [...experiment.entries];
  for (const protocol of includedProtocols(experiment)) {
    const listed = new Set(entries.filter((e) => protocolOf(e, experiment) === protocol).map((e) => e.refiner?.type ?? 'none'));
    for (const spec of registry.refiners()) {
      if (listed.has(spec.id)) continue;
      const label = protocol === 'refine-frozen' ? spec.id : spec.id === 'none' ? COARSE_BASELINE : `${spec.id} (coarse)`;
      entries.push({ label, refiner: { type: spec.id }, protocol });
    }
  }
  const uses = (protocol: Protocol): boolean => entries.some((e) => protocolOf(e, experiment) === protocol);
  const hasBaseline = (protocol: Protocol): boolean => entries.some((e) => protocolOf(e, experiment) === protocol && isBaseline(e, experiment));
  if (uses('refine-coarse') && !hasBaseline('refine-coarse')) entries.push({ label: COARSE_BASELINE, protocol: 'refine-coarse', refiner: { type: 'none' } });
  if (uses('refine-frozen') && !hasBaseline('refine-frozen')) entries.unshift({ label: FROZEN_BASELINE, protocol: 'refine-frozen', refiner: { type: 'none' } });
  // The frozen baseline trains the shared backbone, so it runs first; coarse entries follow the rest, their baseline first.
  const rank = (e: ExperimentEntry): number => {
    const protocol = protocolOf(e, experiment);
    if (protocol === 'refine-frozen' && isBaseline(e, experiment)) return 0;
    if (protocol !== 'refine-coarse') return 1;
    return isBaseline(e, experiment) ? 2 : 3;
  };
  return entries.map((entry, index) => ({ entry, index })).sort((a, b) => rank(a.entry) - rank(b.entry) || a.index - b.index).map(({ entry }) => entry);
}

/** Placeholder class count for validating backbone configs before the dataset is open (the real one replaces it). */
const PLACEHOLDER_CLASSES = 21;

function checkEntry(entry: ExperimentEntry, experiment: Experiment, registry: Registry): void {
  const protocol = protocolOf(entry, experiment);
  const withClasses = (config: TypedConfig): TypedConfig => ({ ...config, classes: PLACEHOLDER_CLASSES, seed: config['seed'] ?? experiment.seed });
  if (entry.model !== undefined) {
    const { type, ...args } = entry.model;
    if (type !== 'difnet') throw new ConfigError('model.type', "must be 'difnet' (use backbone + refiner for other models)", type);
    parseArgs(difNetSchema, { ...args, classes: PLACEHOLDER_CLASSES });
    return;
  }
  if (protocol !== 'refine-coarse') registry.checkBackbone(withClasses(entry.backbone ?? experiment.backbone));
  if (entry.neck !== undefined) registry.checkNeck(entry.neck);
  const spec = registry.checkRefiner(entry.refiner ?? { type: 'none' });
  if (protocol === 'end-to-end' && !spec.differentiable) {
    throw new ConfigError('refiner.type', 'must be differentiable to train end to end (use protocol refine-frozen or refine-coarse)', spec.id);
  }
}

/**
 * Checks every entry against the registry and the schemas before anything
 * trains; an error names the entry's label.
 * @param entries - from {@link expandEntries}
 * @param experiment - the validated experiment
 * @param registry - from `createRegistry` (default: the built-ins)
 */
export function validateEntries(entries: readonly ExperimentEntry[], experiment: Experiment, registry: Registry = defaultRegistry()): void {
  for (const entry of entries) {
    try {
      checkEntry(entry, experiment, registry);
    } catch (error) {
      if (!(error instanceof SegrefineError)) throw error;
      const ErrorClass = error.constructor as new (argument: string, rule: string, value: unknown) => SegrefineError;
      throw new ErrorClass(`Experiment entry "${entry.label}": ${error.argument}`, error.rule, error.value);
    }
  }
}
