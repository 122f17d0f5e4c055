import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultExperiment, fastVariant } from '../../src/bench/default_experiment.js';
import { entryExperiment, loadExperiment, parseExperiment } from '../../src/bench/experiment.js';
import { expandEntries } from '../../src/bench/entries.js';
import { ConfigError, defaultRegistry } from '../../src/index.js';

describe('experiment files', () => {
  it('fill defaults and validate the default experiment', () => {
    const experiment = parseExperiment(defaultExperiment);
    expect(experiment.dataset).toMatchObject({ type: 'synthetic', size: [64, 64] });
    expect(experiment.train.batchSize).toBe(8);
    expect(parseExperiment(fastVariant({ ...defaultExperiment })).train.epochs).toBe(1);
  });

  it('name the field, the rule and the value of a bad entry', () => {
    expect(() => parseExperiment({ train: { epochs: 0 } })).toThrow('Experiment/train/epochs must be >= 1, got 0');
    expect(() => parseExperiment({ dataset: { type: 'voc' } })).toThrow('Experiment/dataset/root is required');
    expect(() => parseExperiment({ dataset: { type: 'cityscapes' } })).toThrow(/Experiment\/dataset\/type must be one of "synthetic", "voc"/);
    expect(() => parseExperiment({ entries: [{ label: 'a', bogus: 1 }] })).toThrow(/Experiment\/entries\/0\/bogus is not a known argument/);
    expect(() => parseExperiment({ entries: [{ label: 'a' }, { label: 'a' }] })).toThrow('Experiment/entries/1/label must be unique, got "a"');
    expect(() => parseExperiment({ entries: [{ label: 'a', neck: { type: 'sdn' } }] })).toThrow(/must not set neck, backbone or model with protocol refine-frozen/);
  });

  it('an entry may set its own training budget over the experiment\'s, without defaults of its own', () => {
    const experiment = parseExperiment({ train: { refinerEpochs: 1, learningRate: 0.004 }, entries: [{ label: 'a', refiner: { type: 'spn' }, train: { refinerEpochs: 3, learningRate: 0.001 } }, { label: 'b' }] });
    const [a, b] = experiment.entries;
    expect(a!.train).toEqual({ refinerEpochs: 3, learningRate: 0.001 });
    expect(entryExperiment(experiment, a!).train).toEqual({ ...experiment.train, refinerEpochs: 3, learningRate: 0.001 });
    expect(entryExperiment(experiment, b!)).toBe(experiment);
    expect(() => parseExperiment({ entries: [{ label: 'a', train: { refinerEpochs: 0 } }] })).toThrow('Experiment/entries/0/train/refinerEpochs must be >= 1, got 0');
    expect(() => parseExperiment({ entries: [{ label: 'a', train: { steps: 3 } }] })).toThrow(/Experiment\/entries\/0\/train\/steps is not a known argument/);
  });

  it('loads files and names a broken file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'segrefine-exp-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ name: 'mine', entries: [{ label: 'x', refiner: { type: 'spn' } }] }));
    expect(loadExperiment(good).name).toBe('mine');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    expect(() => loadExperiment(bad)).toThrow(ConfigError);
    expect(() => loadExperiment(bad)).toThrow(new RegExp(`${bad.replace(/[/.]/g, '\\$&')} must be valid JSON`));
    expect(() => loadExperiment(join(dir, 'missing.json'))).toThrow(/must be a readable experiment file/);
  });

  it('adds a frozen baseline and one entry per registered refiner not listed', () => {
    const entries = expandEntries(parseExperiment({ entries: [{ label: 'E2E', protocol: 'end-to-end', refiner: { type: 'difnet' } }] }));
    expect(entries[0]!.refiner).toEqual({ type: 'none' });
    const refinerIds = defaultRegistry().refiners().map((s) => s.id);
    for (const id of refinerIds.filter((id) => id !== 'none' && id !== 'difnet')) expect(entries.some((e) => e.refiner?.type === id)).toBe(true);
    const only = expandEntries(parseExperiment({ includeAllRefiners: false, protocol: 'end-to-end', entries: [{ label: 'A' }] }));
    expect(only.map((e) => e.label)).toEqual(['A']);
  });
});
