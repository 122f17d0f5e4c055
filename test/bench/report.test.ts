// The report files say when the run cannot compare (a warning banner at the
// top of report.md and report.html, absent otherwise), and the charts name
// every entry, however many there are.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { accuracySpeedSpec, renderSvg, trimapSpec } from '../../src/bench/report/charts.js';
import { htmlReport, htmlWarnings } from '../../src/bench/report/html.js';
import { markdownReport, markdownWarnings } from '../../src/bench/report/markdown.js';
import { writeReport } from '../../src/bench/report/write.js';
import { backgroundOnly, entry, results } from './results_fixture.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const varied = results([entry('FCN', 0.6), entry('FCN + SPN', 0.63)]);
const stuck = results([entry('FCN', 0.6), backgroundOnly('Sim-DeepLab-18 + SDN')]);
const charts = { accuracySpeed: '<svg></svg>', trimap: '<svg></svg>' };
const stuckMessage = `"Sim-DeepLab-18 + SDN" predicts only 'background' on every validation pixel: it did not learn; the comparison cannot rank it.`;

describe('report.md warning banner', () => {
  it('is a blockquote right under the title, before the table, when an entry predicts one class', () => {
    const lines = markdownReport(stuck).split('\n');
    expect(lines[0]).toBe('# segrefine bench: fake');
    expect(lines[1]).toBe('');
    expect(lines[2]).toBe(`> **Warning:** ${stuckMessage}`);
    expect(lines[3]).toBe('');
    expect(lines.findIndex((l) => l.startsWith('| Entry |'))).toBeGreaterThan(3);
  });

  it('puts every warning in one blockquote, one paragraph each', () => {
    const tied = results([backgroundOnly('A'), backgroundOnly('B')]);
    const quote = markdownReport(tied).split('\n\n')[1]!;
    expect(quote.split('\n').every((line) => line.startsWith('>'))).toBe(true);
    expect(quote.match(/\*\*Warning:\*\*/g)).toHaveLength(3);
    expect(quote).toContain('All 2 entries ("A", "B") have the same mIoU');
  });

  it('is absent when there is nothing to warn about', () => {
    const markdown = markdownReport(varied);
    expect(markdown).not.toContain('Warning');
    expect(markdown.split('\n').some((l) => l.startsWith('>'))).toBe(false);
    expect(markdownWarnings([])).toBe('');
  });
});

describe('report.html warning box', () => {
  it('is a visible box under the title, before the results, when an entry predicts one class', () => {
    const html = htmlReport(stuck, charts, []);
    const box = html.indexOf('<div class="warnings" role="alert">');
    expect(box).toBeGreaterThan(html.indexOf('<h1>'));
    expect(box).toBeLessThan(html.indexOf('<h2>Results</h2>'));
    expect(html).toContain(`<p><strong>Warning:</strong> ${stuckMessage.replace(/"/g, '&quot;')}</p>`);
    // Styled: a CSS rule for the box (background and border).
    expect(html).toMatch(/\.warnings \{[^}]*background:[^}]*border:/);
  });

  it('escapes the labels it names', () => {
    const html = htmlWarnings([{ kind: 'single-class', entries: ['<b>'], message: '"<b>" predicts only \'a\'' }]);
    expect(html).toContain('&quot;&lt;b&gt;&quot; predicts only');
    expect(html).not.toContain('<b>');
  });

  it('is absent when there is nothing to warn about', () => {
    const html = htmlReport(varied, charts, []);
    expect(html).not.toContain('class="warnings"');
    expect(html).not.toContain('Warning:');
    expect(htmlWarnings([])).toBe('');
  });
});

describe('writeReport', () => {
  it('writes the banner into both report.md and report.html of a run that cannot compare', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segrefine-report-'));
    dirs.push(dir);
    const files = await writeReport(dir, stuck, []);
    expect(readFileSync(files.markdown, 'utf8')).toContain(`> **Warning:** ${stuckMessage}`);
    expect(readFileSync(files.html, 'utf8')).toContain('<div class="warnings" role="alert">');
  });
});

// Fifteen entries with long labels, as the default experiment has.
const labels = [
  'Sim-DeepLab-18 ×0.25 (none)', 'DifNet-18', 'Sim-DeepLab-18 + SDN', 'DifNet head (frozen)', 'coarse: dense-crf', 'conv-crf', 'spn', 'segaware',
  'difnet', 'sdn', 'bilateral', 'guided-filter', 'domain-transform', 'my-refiner with a rather long name', 'none',
];
const many = results(labels.map((label, i) => entry(label, 0.55 + 0.001 * i, { msPerImage: 10 + 0.1 * i })));
const textsOf = (svg: string): string[] => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"'));

describe('charts with 15 entries', () => {
  it('accuracy chart: every label whole on the bar axis and in the legend, none as a free text next to a point', async () => {
    const texts = textsOf(await renderSvg(accuracySpeedSpec(many)));
    // Once on the bar chart's axis, once in the legend; never cut short (…).
    for (const label of labels) expect(texts.filter((t) => t === label), label).toHaveLength(2);
    expect(texts.some((t) => t.includes('…'))).toBe(false);
  });

  it('accuracy chart: bars best first', () => {
    const spec = accuracySpeedSpec(many) as { vconcat: { encoding?: { y?: { sort?: unknown } } }[] };
    expect(spec.vconcat[0]!.encoding!.y!.sort).toEqual([...labels].reverse());
  });

  it('trimap chart: every label whole in the legend, lines told apart by colour and dash beyond 10 entries', async () => {
    const texts = textsOf(await renderSvg(trimapSpec(many)));
    for (const label of labels) expect(texts.filter((t) => t === label), label).toHaveLength(1);
    const encoding = (trimapSpec(many) as { encoding: Record<string, { scale?: { range?: unknown[] } }> }).encoding;
    const pairs = labels.map((_, i) => JSON.stringify([encoding['color']!.scale!.range![i], encoding['strokeDash']!.scale!.range![i]]));
    expect(new Set(pairs).size).toBe(labels.length);
  });

  it('trimap chart: solid lines (no dash) with 10 entries or fewer', () => {
    const few = results(labels.slice(0, 10).map((label, i) => entry(label, 0.5 + 0.01 * i)));
    const encoding = (trimapSpec(few) as { encoding: Record<string, unknown> }).encoding;
    expect(encoding['strokeDash']).toBeUndefined();
    expect(new Set((encoding['color'] as { scale: { range: string[] } }).scale.range).size).toBe(10);
  });
});
