import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/index.js';
import { COARSE_BASELINE, expandEntries, FROZEN_BASELINE, validateEntries } from '../../src/bench/entries.js';
import { parseExperiment } from '../../src/bench/experiment.js';
import { quietReporter } from '../../src/bench/progress.js';
import { runBench } from '../../src/bench/runner.js';

describe('bench entries', () => {
  it('adds every registered refiner under each protocol includeAllRefiners lists, and each protocol its baseline', () => {
    const experiment = parseExperiment({ includeAllRefiners: ['refine-frozen', 'refine-coarse'], entries: [{ label: 'head', refiner: { type: 'difnet' }, protocol: 'refine-coarse', imageAsFeature: true }] });
    const entries = expandEntries(experiment);
    const labels = entries.map((e) => e.label);
    expect(labels[0]).toBe('none'); // the frozen baseline (the `none` refiner) runs first: it trains the backbone
    expect(labels).toContain(COARSE_BASELINE);
    expect(labels).toContain('dense-crf (coarse)');
    expect(labels).toContain('dense-crf');
    expect(labels).not.toContain('difnet (coarse)'); // listed already, as 'head'
    expect(entries.filter((e) => (e.protocol ?? experiment.protocol) === 'refine-coarse').length).toBe(entries.filter((e) => (e.protocol ?? experiment.protocol) === 'refine-frozen').length);
    const frozenOnly = expandEntries(parseExperiment({ includeAllRefiners: false, entries: [{ label: 'spn', refiner: { type: 'spn' } }] }));
    expect(frozenOnly.map((e) => e.label)).toEqual([FROZEN_BASELINE, 'spn']);
  });

  it('names the entry whose config is wrong, for every kind of config', () => {
    const check = (entry: Record<string, unknown>): void => {
      const experiment = parseExperiment({ includeAllRefiners: false, entries: [entry] });
      validateEntries(expandEntries(experiment), experiment);
    };
    expect(() => check({ label: 'typo', refiner: { type: 'difnett' } })).toThrow(/Experiment entry "typo": .*must be one of/);
    expect(() => check({ label: 'walks', refiner: { type: 'difnet', walks: 0 } })).toThrow(/Experiment entry "walks": difnet\/walks must be >= 1/);
    expect(() => check({ label: 'extra', refiner: { type: 'spn', nope: 1 } })).toThrow(/Experiment entry "extra"/);
    expect(() => check({ label: 'neck', protocol: 'end-to-end', neck: { type: 'sdn', mode: 'sideways' } })).toThrow(/Experiment entry "neck"/);
    expect(() => check({ label: 'bb', protocol: 'end-to-end', backbone: { type: 'resnet', depth: 19 } })).toThrow(/Experiment entry "bb"/);
    expect(() => check({ label: 'model', protocol: 'end-to-end', model: { type: 'difnet', walks: 9 } })).toThrow(/Experiment entry "model": DifNetArgs\/walks/);
    expect(() => check({ label: 'crf e2e', protocol: 'end-to-end', refiner: { type: 'dense-crf' } })).toThrow(/Experiment entry "crf e2e": refiner.type must be differentiable/);
    expect(() => check({ label: 'coarse neck', protocol: 'refine-coarse', neck: { type: 'sdn' } })).toThrow(ConfigError);
  });

  it('rejects a bad third entry before the first two train', async () => {
    const started: string[] = [];
    const reporter = { ...quietReporter(), start: (label: string) => void started.push(label) };
    const experiment = {
      outputDir: mkdtempSync(join(tmpdir(), 'segrefine-entries-')),
      dataset: { type: 'synthetic', size: [32, 32], train: 8, val: 4 },
      includeAllRefiners: false,
      entries: [{ label: 'one', refiner: { type: 'none' } }, { label: 'two', refiner: { type: 'spn' } }, { label: 'three', refiner: { type: 'not-a-refiner' } }],
      train: { epochs: 1, refinerEpochs: 1, batchSize: 4 },
    };
    await expect(runBench(experiment, { reporter })).rejects.toThrow(/Experiment entry "three": refiner.type must be one of/);
    expect(started).toEqual([]);
  });
});
