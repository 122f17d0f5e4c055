/**
 * Writes a run's report folder: results.json, report.md, report.html and
 * the chart SVGs (panel PNGs are written by the runner as it goes).
 * @module
 */
import { join } from 'node:path';
import type { BenchResults } from '../results.js';
import { writeFileAtomic } from './atomic.js';
import { accuracySpeedSpec, renderSvg, trimapSpec } from './charts.js';
import { htmlReport, type PanelRef } from './html.js';
import { markdownReport } from './markdown.js';

/** Paths of the files {@link writeReport} wrote. */
export interface ReportFiles {
  /** `results.json`. */
  results: string;
  /** `report.md`. */
  markdown: string;
  /** `report.html`. */
  html: string;
}

/**
 * Writes (atomically) every report file of a run.
 * @param dir - the run folder, `runs/<name>`
 * @param results - what the run measured
 * @param panels - panel PNGs already written into `dir`
 */
export async function writeReport(dir: string, results: BenchResults, panels: readonly PanelRef[]): Promise<ReportFiles> {
  const files = { results: join(dir, 'results.json'), markdown: join(dir, 'report.md'), html: join(dir, 'report.html') };
  writeFileAtomic(files.results, `${JSON.stringify(results, null, 2)}\n`);
  writeFileAtomic(files.markdown, markdownReport(results));
  const charts = { accuracySpeed: await renderSvg(accuracySpeedSpec(results)), trimap: await renderSvg(trimapSpec(results)) };
  writeFileAtomic(join(dir, 'chart-accuracy-speed.svg'), charts.accuracySpeed);
  writeFileAtomic(join(dir, 'chart-trimap.svg'), charts.trimap);
  writeFileAtomic(files.html, htmlReport(results, charts, panels));
  return files;
}
