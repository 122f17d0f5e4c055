import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultExperiment, fastVariant } from '../../src/bench/default_experiment.js';
import { loadExperiment, parseExperiment } from '../../src/bench/experiment.js';
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
