import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { quietReporter } from '../../src/bench/progress.js';
import { runBench } from '../../src/bench/runner.js';
import type { BenchResults } from '../../src/bench/results.js';

const tiny = (outputDir: string, name: string): Record<string, unknown> => ({
  name,
  outputDir,
  dataset: { type: 'synthetic', size: [32, 32], train: 8, val: 4 },
  backbone: { type: 'fcn' },
  includeAllRefiners: false,
  entries: [
    { label: 'FCN', refiner: { type: 'none' } },
    // Its own budget: two refiner epochs where the experiment says one.
    { label: 'DifNet head', refiner: { type: 'difnet', walks: 2, embeddingDim: 8 }, imageAsFeature: true, train: { refinerEpochs: 2 } },
    { label: 'FCN + DifNet e2e', protocol: 'end-to-end', refiner: { type: 'difnet', walks: 2, embeddingDim: 8 } },
  ],
  train: { epochs: 1, refinerEpochs: 1, batchSize: 4 },
  eval: { panels: 1, trimapRadii: [1, 5] },
});

describe('runBench', () => {
  it('trains and evaluates every entry and writes results.json, report.md, report.html, charts and panels', async () => {
    const out = mkdtempSync(join(tmpdir(), 'segrefine-bench-'));
    const before = tf.memory().numTensors;
    const run = await runBench(tiny(out, 'tiny'), { reporter: quietReporter() });
    expect(tf.memory().numTensors).toBe(before);
    const results = JSON.parse(readFileSync(join(out, 'tiny', 'results.json'), 'utf8')) as BenchResults;
    expect(results.complete).toBe(true);
    expect(results.entries.map((e) => e.label)).toEqual(['FCN', 'DifNet head', 'FCN + DifNet e2e']);
    expect(results.entries.map((e) => e.protocol)).toEqual(['end-to-end', 'refine-frozen', 'end-to-end']);
    for (const e of results.entries) {
      expect(e.meanIou).toBeGreaterThanOrEqual(0);
      expect(e.meanIou).toBeLessThanOrEqual(1);
      expect(e.msPerImage).toBeGreaterThan(0);
      expect(e.trimap.map((p) => p.radius)).toEqual([1, 5]);
      expect(e.params).toBeGreaterThan(0);
      expect(e.losses.length).toBeGreaterThan(0);
    }
    expect(results.entries[1]!.params).toBe(results.entries[0]!.params + results.entries[1]!.refinerParams);
    // 8 images in batches of 4: 2 steps per epoch; the head's own budget doubles its epochs.
    expect(results.entries.map((e) => e.losses.length)).toEqual([2, 4, 2]);
    expect(results.versions.tfjs).toBe(tf.version.tfjs);
    const markdown = readFileSync(run.files.markdown, 'utf8');
    expect(markdown).toContain('| FCN + DifNet e2e | difnet | fcn | end-to-end |');
    const html = readFileSync(run.files.html, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('panels/panel-0.png');
    expect(html).toContain('>importance M<');
    expect(html).toContain('>DifNet head<');
    expect(existsSync(join(out, 'tiny', 'panels', 'panel-0.png'))).toBe(true);
    expect(existsSync(join(out, 'tiny', 'chart-trimap.svg'))).toBe(true);
  });

  it('stops cleanly on abort and keeps finished entries', async () => {
    const out = mkdtempSync(join(tmpdir(), 'segrefine-bench-'));
    const controller = new AbortController();
    const reporter = { ...quietReporter(), log: (line: string) => (line.startsWith('finished') ? controller.abort() : undefined) };
    const run = await runBench(tiny(out, 'stopped'), { reporter, signal: controller.signal });
    expect(run.results.complete).toBe(false);
    expect(run.results.entries.map((e) => e.label)).toEqual(['FCN']);
    const results = JSON.parse(readFileSync(join(out, 'stopped', 'results.json'), 'utf8')) as BenchResults;
    expect(results.complete).toBe(false);
    expect(readFileSync(run.files.markdown, 'utf8')).toContain('Stopped early');
  });
});
