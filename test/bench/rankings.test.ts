import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDataset } from '../../src/bench/dataset.js';
import { defaultExperiment } from '../../src/bench/default_experiment.js';
import { parseExperiment } from '../../src/bench/experiment.js';
import { quietReporter } from '../../src/bench/progress.js';
import { runBench } from '../../src/bench/runner.js';

const out = (): string => mkdtempSync(join(tmpdir(), 'segrefine-rank-'));

// These train for real (tens of seconds each): they check that the bench can tell things apart.
// Each test trains a small model: allowed 5 minutes on a loaded 2-core machine (about 1 when idle).
describe('the bench ranks refiners', () => {
  it('the default experiment reduced to its baseline: Sim-DeepLab learns every class, clearly above the majority-class predictor', async () => {
    const run = await runBench(
      {
        ...defaultExperiment,
        name: 'reduced-default',
        outputDir: out(),
        includeAllRefiners: false,
        entries: [{ label: 'Sim-DeepLab-18', refiner: { type: 'none' } }],
        // The default's own budget: the default bench's first row, trained alone (about a minute).
        eval: { panels: 0 },
      },
      { reporter: quietReporter() },
    );
    const baseline = run.results.entries[0]!;
    // The majority-class predictor labels every pixel background: IoU = background share on background, 0 elsewhere.
    const dataset = defaultExperiment['dataset'] as { classes: number };
    const truthCounts = new Array<number>(dataset.classes).fill(0);
    const data = await openDataset(parseExperiment(defaultExperiment).dataset, 1, quietReporter());
    for (const id of data.dataset.ids('val')) for (const v of (await data.dataset.load(id)).label) if (v < dataset.classes) truthCounts[v]! += 1;
    const majority = truthCounts[0]! / truthCounts.reduce((a, b) => a + b, 0) / dataset.classes;
    for (const [k, iou] of baseline.perClassIou.entries()) expect(iou, `class ${k} IoU`).toBeGreaterThan(0.15);
    expect(baseline.predictedPixels!.every((n) => n > 0)).toBe(true);
    expect(baseline.meanIou).toBeGreaterThan(majority + 0.15);
  }, 300_000);

  it('refine-coarse: the dense CRF, a trained DiffusionHead and a trained SpnRefiner raise boundary F over the coarse input', async () => {
    const run = await runBench(
      {
        ...defaultExperiment,
        name: 'coarse',
        outputDir: out(),
        protocol: 'refine-coarse',
        includeAllRefiners: false,
        entries: [
          { label: 'coarse', refiner: { type: 'none' } },
          { label: 'dense-crf', refiner: { type: 'dense-crf' } },
          { label: 'difnet', refiner: { type: 'difnet', walks: 2, embeddingDim: 16, gateRate: 10 }, imageAsFeature: true },
          // SPN's guidance network needs more steps at a lower rate (as in the default experiment: 72 steps there, 80 here).
          { label: 'spn', refiner: { type: 'spn' }, train: { refinerEpochs: 5, learningRate: 0.001 } },
        ],
        dataset: { ...(defaultExperiment['dataset'] as object), train: 128, val: 32 },
        train: { ...(defaultExperiment['train'] as object), refinerEpochs: 3, batchSize: 8 },
        eval: { panels: 1 },
      },
      { reporter: quietReporter() },
    );
    const [coarse, crf, difnet, spn] = run.results.entries;
    expect(difnet!.trained).toBe(true);
    expect(crf!.boundaryF).toBeGreaterThan(coarse!.boundaryF + 0.02);
    expect(difnet!.boundaryF).toBeGreaterThan(coarse!.boundaryF + 0.01);
    expect(difnet!.inspected?.['mu']).toHaveLength(2);
    expect(spn!.boundaryF).toBeGreaterThan(coarse!.boundaryF + 0.02);
    expect(spn!.meanIou).toBeGreaterThan(coarse!.meanIou);
  }, 300_000);
});
