// scripts/comparison-page.ts on a small hand-made run folder: the page's
// tables come from results.json, the charts and the prediction figure are
// copied/cut from the run, and a --fast or custom run is labelled as such.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultExperiment, fastVariant, parseExperiment, type BenchResults, type EntryResult } from '../../src/bench/index.js';
import { labelTile, writePanel } from '../../src/bench/report/panels.js';
import { experimentKind, writeComparisonPage } from '../../scripts/comparison-page.js';
import { results as fakeResults } from '../bench/results_fixture.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function entry(label: string, refiner: string, meanIou: number, extra: Partial<EntryResult> = {}): EntryResult {
  return {
    label,
    protocol: refiner === 'none' ? 'end-to-end' : 'refine-frozen',
    backbone: 'fcn',
    refiner,
    trained: true,
    params: 1000,
    refinerParams: refiner === 'none' ? 0 : 40,
    msPerImage: 2.5,
    trainSeconds: 3,
    losses: [1, 0.5],
    meanIou,
    pixelAccuracy: 0.9,
    perClassIou: [0.9, 0.5, null],
    trimap: [
      { radius: 1, meanIou: meanIou - 0.2 },
      { radius: 5, meanIou: meanIou - 0.1 },
    ],
    boundaryF: 0.3,
    ...extra,
  };
}

async function fakeRun(experiment: Record<string, unknown>, entries: EntryResult[], panelRows = 1 + entries.length): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'segrefine-comparison-'));
  dirs.push(dir);
  const results: BenchResults = { ...fakeResults(entries), experiment: parseExperiment(experiment) };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results));
  for (const chart of ['accuracy-speed', 'trimap']) writeFileSync(join(dir, `chart-${chart}.svg`), `<svg xmlns="http://www.w3.org/2000/svg"><title>${chart}</title></svg>`);
  mkdirSync(join(dir, 'panels'));
  // Panel rows as the runner writes them: image + truth, then one row per entry (tile 0 = its prediction).
  const tile = (caption: string, value: number) => labelTile(caption, new Uint8Array(32 * 32).fill(value), 32, 32);
  const rows = [[tile('image', 0), tile('truth', 1)], ...Array.from({ length: panelRows - 1 }, (_, r) => [tile(`entry ${r}`, (r % 2) + 1)])];
  await writePanel(join(dir, 'panels', 'panel-0.png'), rows, 4);
  return dir;
}

describe('comparison page', () => {
  it('tells the default, fast and custom experiments apart', () => {
    expect(experimentKind({ ...defaultExperiment, name: 'other', outputDir: '/tmp/x' })).toBe('default');
    expect(experimentKind(fastVariant({ ...defaultExperiment }))).toBe('fast');
    expect(experimentKind({ ...defaultExperiment, seed: 2 })).toBe('custom');
  });

  it('writes the tables, the charts and the prediction figure from the run', async () => {
    const entries = [entry('Backbone', 'none', 0.5), entry('SPN', 'spn', 0.55), entry('CRF', 'dense-crf', 0.45, { trained: false })];
    const run = await fakeRun(fastVariant({ ...defaultExperiment }), entries);
    const out = mkdtempSync(join(tmpdir(), 'segrefine-comparison-page-'));
    dirs.push(out);
    await writeComparisonPage(run, join(out, 'comparison.md'), join(out, 'media'));
    const page = readFileSync(join(out, 'comparison.md'), 'utf8');
    expect(page).toMatch(/^---\ntitle: Refiner comparison\n/);
    expect(page).toContain('generated from a `--fast` smoke run');
    expect(page).toContain('node bin/segrefine.js bench --fast');
    expect(page).toMatch(/\| SPN \| .*`spn`.* \| refine-frozen \| 1\.0 k \| 40 \| 2\.5 \| 3 \| \*\*55\.00\*\* \| \+5\.00 \| 45\.00 \| 30\.00 \|/);
    expect(page).toMatch(/\| CRF \| .*`dense-crf`.* \| refine-frozen \(eval only\) \|.*\| −5\.00 \|/);
    expect(page).toContain('| Entry | background | ring | fork |');
    expect(page).toContain('| SPN | 90.00 | 50.00 | – |');
    expect(page).toContain('| Entry | 1 px | 5 px |');
    expect(page).toContain('3.0 min in all');
    expect(page).not.toContain('single class everywhere');
    for (const file of ['comparison-accuracy-speed.svg', 'comparison-trimap.svg', 'comparison-panels.png']) expect(existsSync(join(out, 'media', file))).toBe(true);
    expect(page).toContain('![predictions of every entry](media/comparison-panels.png)');
    // One row (the panel's image), 2 + 3 tiles of 32 px upscaled ×4 (≈ 112 px), gaps of 8 px.
    const figure = await sharp(join(out, 'media', 'comparison-panels.png')).metadata();
    expect(figure.width).toBe(5 * (128 + 8) + 8);
  });

  it('says when models predict a single class everywhere', async () => {
    const one = { perClassIou: [0.88, 0, 0], predictedPixels: [1000, 0, 0] };
    const run = await fakeRun(defaultExperiment as Record<string, unknown>, [entry('Backbone', 'none', 0.29, one), entry('SPN', 'spn', 0.29, one)]);
    const out = mkdtempSync(join(tmpdir(), 'segrefine-comparison-page-'));
    dirs.push(out);
    await writeComparisonPage(run, join(out, 'comparison.md'), join(out, 'media'));
    const tied = readFileSync(join(out, 'comparison.md'), 'utf8');
    // The same warnings as the report's banner.
    expect(tied).toContain(`> **Warning:** "Backbone" predicts only 'background' on every validation pixel`);
    expect(tied).toContain('have the same mIoU');
    const partly = await fakeRun(defaultExperiment as Record<string, unknown>, [entry('Backbone', 'none', 0.29, one), entry('SPN', 'spn', 0.55)]);
    await writeComparisonPage(partly, join(out, 'comparison.md'), join(out, 'media'));
    const partlyPage = readFileSync(join(out, 'comparison.md'), 'utf8');
    expect(partlyPage).toContain('"Backbone" predicts only');
    expect(partlyPage).not.toContain('"SPN" predicts only');
    expect(partlyPage).not.toContain('have the same mIoU');
  });

  it('refuses panels that do not match the entries', async () => {
    const run = await fakeRun(defaultExperiment as Record<string, unknown>, [entry('Backbone', 'none', 0.5), entry('SPN', 'spn', 0.55)], 2);
    const out = mkdtempSync(join(tmpdir(), 'segrefine-comparison-page-'));
    dirs.push(out);
    await expect(writeComparisonPage(run, join(out, 'comparison.md'), join(out, 'media'))).rejects.toThrow(/expected .* for 3 rows/);
  });
});
