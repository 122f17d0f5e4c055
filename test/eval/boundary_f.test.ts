import { describe, expect, it } from 'vitest';
import { BoundaryFScore, ConfigError, boundaryFScore } from '../../src/index.js';

/** A height × width map whose column x has label columns[x]. */
function columns(height: number, labels: number[]): number[] {
  return Array.from({ length: height * labels.length }, (_, i) => labels[i % labels.length] as number);
}

describe('BoundaryFScore', () => {
  // Truth: columns 0–2 class 0, 3–5 class 1 → boundary pixels in columns 2 and 3 (12 pixels on 6 rows).
  const truth = columns(6, [0, 0, 0, 1, 1, 1]);

  it('is 1 for a perfect prediction', () => {
    const result = boundaryFScore([truth], [truth], 2, {}, [6, 6]);
    expect([result.precision, result.recall, result.fScore]).toEqual([1, 1, 1]);
    expect(result.truthPixels).toBe(12);
  });

  it('hand case: a boundary shifted by one column', () => {
    // Prediction boundary in columns 3 and 4. Tolerance 0: column 3 matches both ways → P = R = 6/12.
    const pred = columns(6, [0, 0, 0, 0, 1, 1]);
    const strict = boundaryFScore([pred], [truth], 2, { tolerance: 0 }, [6, 6]);
    expect(strict).toMatchObject({ precision: 0.5, recall: 0.5, fScore: 0.5, predictedPixels: 12, matchedPredicted: 6, truthPixels: 12, matchedTruth: 6 });
    expect(boundaryFScore([pred], [truth], 2, { tolerance: 1 }, [6, 6]).fScore).toBe(1);
    // Shifted by two (pred boundary in columns 4, 5), tolerance 1: column 4 ↔ column 3 only → P = R = 1/2.
    const far = boundaryFScore([columns(6, [0, 0, 0, 0, 0, 1])], [truth], 2, { tolerance: 1 }, [6, 6]);
    expect([far.precision, far.recall]).toEqual([0.5, 0.5]);
    // A fraction of the diagonal: 6×8 has diagonal 10, so 0.1 means 1 px.
    const wide = columns(6, [0, 0, 0, 0, 1, 1, 1, 1]);
    const wideTruth = columns(6, [0, 0, 0, 1, 1, 1, 1, 1]);
    expect(boundaryFScore([wide], [wideTruth], 2, { toleranceFraction: 0.1 }, [6, 8])).toMatchObject({ fScore: 1, tolerance: 0.1, toleranceIsFraction: true });
    expect(boundaryFScore([wide], [wideTruth], 2, { toleranceFraction: 0.09 }, [6, 8]).fScore).toBe(0.5);
  });

  it('empty cases follow DAVIS: none predicted → P 1, R 0; none true → P 0, R 1; neither → 1', () => {
    const flat = new Array(36).fill(0);
    expect(boundaryFScore([flat], [truth], 2, {}, [6, 6])).toMatchObject({ precision: 1, recall: 0, fScore: 0 });
    expect(boundaryFScore([truth], [flat], 2, {}, [6, 6])).toMatchObject({ precision: 0, recall: 1, fScore: 0 });
    expect(boundaryFScore([flat], [flat], 2, {}, [6, 6])).toMatchObject({ precision: 1, recall: 1, fScore: 1 });
  });

  it('void: a band contributes its edges; predicted boundaries deep inside void are not scored', () => {
    // Void band in columns 2, 3: true boundary = columns 1 and 4; a prediction changing at 2|3 lies in the band.
    const banded = columns(4, [0, 0, 255, 255, 1, 1]);
    const pred = columns(4, [0, 0, 0, 1, 1, 1]);
    expect(boundaryFScore([pred], [banded], 2, { tolerance: 1 }, [4, 6]).fScore).toBe(1);
    expect(boundaryFScore([pred], [banded], 2, { tolerance: 0 }, [4, 6]).fScore).toBe(0);
    // A large void region (columns 5–9). Predicted boundaries at 4|5 (scored: columns 4, 5) and at 7|8
    // (columns 7, 8 are 3 and 4 px from labelled pixels: not scored with tolerance 2) → P = R = 1.
    const region = columns(3, [0, 0, 0, 0, 0, 255, 255, 255, 255, 255]);
    const guess = columns(3, [0, 0, 0, 0, 0, 1, 1, 1, 0, 0]);
    const result = boundaryFScore([guess], [region], 2, { tolerance: 2 }, [3, 10]);
    expect(result).toMatchObject({ precision: 1, recall: 1, predictedPixels: 6, truthPixels: 3 });
  });

  it('accumulates counts over images (micro average) and merges', () => {
    const shifted = columns(6, [0, 0, 0, 0, 1, 1]);
    const flat = new Array(36).fill(0);
    const split = boundaryFScore([truth, flat], [truth, truth], 2, { tolerance: 0 }, [6, 6]);
    // Image 1: 12/12 matched both ways; image 2: nothing predicted, 0/12 true matched → P = 1, R = 12/24.
    expect([split.precision, split.recall]).toEqual([1, 0.5]);
    const merged = new BoundaryFScore(2, { tolerance: 0 }).update(truth, truth, [6, 6]).merge(new BoundaryFScore(2, { tolerance: 0 }).update(flat, truth, [6, 6]));
    expect(merged.result()).toEqual(split);
    expect(new BoundaryFScore(2).update(shifted, truth, [1, 6, 6]).result().fScore).toBe(1);
  });

  it('validates options', () => {
    expect(() => new BoundaryFScore(2, { tolerance: -1 })).toThrow(/BoundaryFOptions\/tolerance must be a finite number >= 0, got -1/);
    expect(() => new BoundaryFScore(2, { toleranceFraction: 2 })).toThrow(ConfigError);
    expect(() => new BoundaryFScore(2).merge(new BoundaryFScore(2, { tolerance: 1 }))).toThrow(ConfigError);
    expect(() => boundaryFScore([truth], [], 2)).toThrow(ConfigError);
  });
});
