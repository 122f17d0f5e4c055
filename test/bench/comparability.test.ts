// comparabilityWarnings(): the report says when it cannot compare — an entry
// that predicts one class everywhere, or every entry with the same mIoU.
import { describe, expect, it } from 'vitest';
import { comparabilityWarnings, singleClassPrediction, TIE_TOLERANCE } from '../../src/bench/comparability.js';
import { backgroundOnly, entry, results } from './results_fixture.js';

describe('comparabilityWarnings', () => {
  it('gives no warning for a normal run whose entries predict several classes and differ', () => {
    const run = results([entry('FCN', 0.6), entry('FCN + SPN', 0.63), entry('FCN + dense-crf', 0.61)]);
    expect(comparabilityWarnings(run)).toEqual([]);
  });

  it('flags an entry that predicts a single class, naming the entry and the class', () => {
    const run = results([entry('FCN', 0.6), backgroundOnly('Sim-DeepLab-18 + SDN'), entry('FCN + SPN', 0.62)]);
    const warnings = comparabilityWarnings(run);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.kind).toBe('single-class');
    expect(warnings[0]!.entries).toEqual(['Sim-DeepLab-18 + SDN']);
    expect(warnings[0]!.message).toBe(`"Sim-DeepLab-18 + SDN" predicts only 'background' on every validation pixel: it did not learn; the comparison cannot rank it.`);
  });

  it('names the class an entry predicts even when that class is not the majority', () => {
    const forkOnly = entry('coarse: dense-crf', 0.1 / 3, { pixelAccuracy: 0.1, perClassIou: [0, 0, 0.1], predictedPixels: [0, 0, 1000] });
    const warnings = comparabilityWarnings(results([entry('FCN', 0.6), forkOnly]));
    expect(warnings.map((w) => w.message)).toEqual([`"coarse: dense-crf" predicts only 'fork' on every validation pixel: it did not learn; the comparison cannot rank it.`]);
  });

  it('trusts predictedPixels over the per-class IoU when both are there', () => {
    // IoU looks like a constant predictor, but the entry predicted two classes.
    const twoClasses = backgroundOnly('two classes', { predictedPixels: [950, 50, 0] });
    expect(singleClassPrediction(twoClasses)).toBeUndefined();
    expect(comparabilityWarnings(results([entry('FCN', 0.6), twoClasses]))).toEqual([]);
  });

  it('infers a single-class entry from per-class IoU and pixel accuracy in results.json without predictedPixels', () => {
    const old = backgroundOnly('old run', { predictedPixels: undefined });
    expect(singleClassPrediction(old)).toEqual({ classIndex: 0, evidence: 'inferred' });
    const warnings = comparabilityWarnings(results([entry('FCN', 0.6, { predictedPixels: undefined }), old]));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.entries).toEqual(['old run']);
    expect(warnings[0]!.message).toContain(`"old run" appears to predict only 'background'`);
    expect(warnings[0]!.message).toContain('the comparison cannot rank it');
  });

  it('does not infer a single class when the only positive IoU differs from the pixel accuracy (other classes were predicted, wrongly)', () => {
    const wrong = backgroundOnly('wrong but varied', { predictedPixels: undefined, perClassIou: [0.6, 0, 0], pixelAccuracy: 0.65 });
    expect(singleClassPrediction(wrong)).toBeUndefined();
    const twoPositive = entry('two positive', 0.4, { predictedPixels: undefined, perClassIou: [0.7, 0.5, 0], pixelAccuracy: 0.7 });
    expect(singleClassPrediction(twoPositive)).toBeUndefined();
  });

  it('flags every single-class entry, in entry order', () => {
    const run = results([backgroundOnly('A'), entry('B', 0.6), backgroundOnly('C')]);
    expect(comparabilityWarnings(run).map((w) => [w.kind, w.entries])).toEqual([
      ['single-class', ['A']],
      ['single-class', ['C']],
    ]);
  });

  it('flags a run whose entries all tie on mIoU, naming them all', () => {
    const run = results([entry('FCN', 0.5), entry('FCN + SPN', 0.5 + 0.6 * TIE_TOLERANCE), entry('FCN + dense-crf', 0.5 - 0.3 * TIE_TOLERANCE)]);
    const warnings = comparabilityWarnings(run);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.kind).toBe('all-tie');
    expect(warnings[0]!.entries).toEqual(['FCN', 'FCN + SPN', 'FCN + dense-crf']);
    expect(warnings[0]!.message).toMatch(/^All 3 entries \("FCN", "FCN \+ SPN", "FCN \+ dense-crf"\) have the same mIoU, 50\.00%: the comparison cannot rank them/);
  });

  it('reports both when every entry predicts the same single class', () => {
    const warnings = comparabilityWarnings(results([backgroundOnly('A'), backgroundOnly('B')]));
    expect(warnings.map((w) => w.kind)).toEqual(['single-class', 'single-class', 'all-tie']);
  });

  it('does not call a tie when mIoU differ by more than the tolerance, or when there is one entry', () => {
    expect(comparabilityWarnings(results([entry('FCN', 0.5), entry('FCN + SPN', 0.5 + 2 * TIE_TOLERANCE)]))).toEqual([]);
    expect(comparabilityWarnings(results([entry('FCN', 0.5)]))).toEqual([]);
    expect(comparabilityWarnings(results([]))).toEqual([]);
  });

  it('leaves entries without a finite mIoU out of the tie', () => {
    expect(comparabilityWarnings(results([entry('FCN', 0.5), entry('broken', Number.NaN)]))).toEqual([]);
    const warnings = comparabilityWarnings(results([entry('FCN', 0.5), entry('broken', Number.NaN), entry('FCN + SPN', 0.5)]));
    expect(warnings.map((w) => w.entries)).toEqual([['FCN', 'FCN + SPN']]);
  });
});
