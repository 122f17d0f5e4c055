import { describe, expect, it } from 'vitest';
import { ConfigError, IGNORE_LABEL, SYNTHETIC_CLASS_NAMES, SeededRandom, SyntheticScenes, createSyntheticDataset, squaredDistanceTransform, type Sample } from '../../src/index.js';
import { markVoidBand } from '../../src/data/synthetic/render.js';
import { SHAPE_FAMILIES } from '../../src/data/synthetic/shapes.js';

function sha(sample: Sample): string {
  // A cheap content fingerprint (FNV-1a over image and label bytes).
  let h = 0x811c9dc5;
  for (const bytes of [sample.image, sample.label]) for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193) >>> 0;
  return h.toString(16);
}

/**
 * Fits P(colour bin, class) on training object pixels and classifies validation object pixels by
 * colour alone. Also returns the smallest histogram intersection of two object classes' colours.
 */
function colourOnlyClassifier(data: SyntheticScenes): { accuracy: number; majority: number; minOverlap: number } {
  const bins = 8;
  const binOf = (image: Uint8Array, p: number): number =>
    (((image[3 * p] as number) >> 5) * bins + ((image[3 * p + 1] as number) >> 5)) * bins + ((image[3 * p + 2] as number) >> 5);
  const joint = Array.from({ length: data.numClasses }, () => new Float64Array(bins ** 3));
  for (let i = 0; i < data.count('train'); i++) {
    const { image, label } = data.sample('train', i);
    for (let p = 0; p < label.length; p++) {
      const c = label[p] as number;
      if (c !== IGNORE_LABEL && c > 0) joint[c]![binOf(image, p)] += 1;
    }
  }
  let correct = 0;
  let pixels = 0;
  const perClass = new Array<number>(data.numClasses).fill(0);
  for (let i = 0; i < data.count('val'); i++) {
    const { image, label } = data.sample('val', i);
    for (let p = 0; p < label.length; p++) {
      const c = label[p] as number;
      if (c === IGNORE_LABEL || c === 0) continue;
      const bin = binOf(image, p);
      let best = 1;
      for (let k = 2; k < data.numClasses; k++) if (joint[k]![bin]! > joint[best]![bin]!) best = k;
      if (best === c) correct++;
      pixels++;
      perClass[c]! += 1;
    }
  }
  const normalised = joint.map((h) => {
    const sum = h.reduce((a, b) => a + b, 0);
    return h.map((v) => v / Math.max(sum, 1));
  });
  let minOverlap = 1;
  for (let a = 1; a < data.numClasses; a++) {
    for (let b = a + 1; b < data.numClasses; b++) {
      let overlap = 0;
      for (let i = 0; i < bins ** 3; i++) overlap += Math.min(normalised[a]![i]!, normalised[b]![i]!);
      minOverlap = Math.min(minOverlap, overlap);
    }
  }
  return { accuracy: correct / pixels, majority: Math.max(...perClass) / pixels, minOverlap };
}

describe('SyntheticScenes', () => {
  const data = createSyntheticDataset({ seed: 7, numTrain: 64, numVal: 32 });

  it('has the documented shape, classes and ids', () => {
    const sample = data.sample('train', 0);
    expect(sample.height).toBe(128);
    expect(sample.width).toBe(128);
    expect(sample.image).toBeInstanceOf(Uint8Array);
    expect(sample.image.length).toBe(128 * 128 * 3);
    expect(sample.label.length).toBe(128 * 128);
    expect(sample.id).toBe('train_000000');
    expect(data.numClasses).toBe(6);
    expect(data.classNames).toEqual(SYNTHETIC_CLASS_NAMES.slice(0, 6));
    expect(data.ids('val')).toHaveLength(32);
    expect(data.ids('val')[31]).toBe('val_000031');
    const small = new SyntheticScenes({ size: [48, 64], numClasses: 8 });
    const s = small.sample('val', 2);
    expect([s.height, s.width, s.image.length]).toEqual([48, 64, 48 * 64 * 3]);
    expect(small.classNames).toEqual(SYNTHETIC_CLASS_NAMES);
  });

  it('is deterministic: same seed → identical bytes, in any order; other seed or split → different', async () => {
    const again = new SyntheticScenes({ seed: 7, numTrain: 64, numVal: 32 });
    const forward = [0, 1, 2, 3].map((i) => sha(data.sample('train', i)));
    const backward = [3, 2, 1, 0].map((i) => sha(again.sample('train', i))).reverse();
    expect(backward).toEqual(forward);
    const loaded = await again.load('train_000002');
    expect(Buffer.from(loaded.image).equals(Buffer.from(data.sample('train', 2).image))).toBe(true);
    expect(sha(new SyntheticScenes({ seed: 8 }).sample('train', 0))).not.toBe(forward[0]);
    expect(sha(data.sample('val', 0))).not.toBe(forward[0]);
    expect(new Set(forward).size).toBe(4);
  });

  it('shows every class, a void band along every boundary, and no void with voidRadius 0', () => {
    const seen = new Set<number>();
    let voidPixels = 0;
    let total = 0;
    let touchingClasses = 0;
    for (let i = 0; i < 24; i++) {
      const { label, height, width } = data.sample('train', i);
      for (let p = 0; p < label.length; p++) {
        seen.add(label[p] as number);
        if (label[p] === IGNORE_LABEL) voidPixels++;
      }
      total += label.length;
      // Two 4-adjacent labelled pixels never have different classes: the band separates them.
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const a = label[y * width + x] as number;
          if (a === IGNORE_LABEL) continue;
          const right = x + 1 < width ? (label[y * width + x + 1] as number) : a;
          const down = y + 1 < height ? (label[(y + 1) * width + x] as number) : a;
          if (right !== IGNORE_LABEL && right !== a) touchingClasses++;
          if (down !== IGNORE_LABEL && down !== a) touchingClasses++;
        }
      }
    }
    expect(touchingClasses).toBe(0);
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, IGNORE_LABEL]);
    expect(voidPixels / total).toBeGreaterThan(0.02);
    expect(voidPixels / total).toBeLessThan(0.3);

    const noVoid = new SyntheticScenes({ seed: 7, voidRadius: 0 });
    for (let i = 0; i < 4; i++) expect(noVoid.sample('train', i).label.includes(IGNORE_LABEL)).toBe(false);
  });

  it('colour alone does not decide the class (a colour-only Bayes classifier barely beats the majority class)', () => {
    const { accuracy, majority, minOverlap } = colourOnlyClassifier(data);
    expect(accuracy).toBeLessThan(majority + 0.2);
    expect(minOverlap).toBeGreaterThan(0.1);
    // The check can fail: when colours follow the class (colourBias 1), the same classifier wins easily.
    const coloured = colourOnlyClassifier(new SyntheticScenes({ seed: 7, numTrain: 64, numVal: 32, colourBias: 1 }));
    expect(coloured.accuracy).toBeGreaterThan(coloured.majority + 0.2);
  });

  it('shape families: rings, windows and ladders have holes; forks, windows, ladders and stars have thin parts', () => {
    // Rasterise each family at radius 30 px with 2 px half-width thin parts.
    const size = 80;
    const radius = 30;
    const stats = new Map<string, { holes: number; thinFraction: number }>();
    for (const family of SHAPE_FAMILIES) {
      const inside = family.create(new SeededRandom(3), 2 / radius);
      const mask = new Uint8Array(size * size);
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) mask[y * size + x] = inside((x + 0.5 - size / 2) / radius, (y + 0.5 - size / 2) / radius) ? 1 : 0;
      // Holes: connected components of the outside that do not touch the border (4-connectivity flood fill).
      const seen = new Uint8Array(size * size);
      let holes = 0;
      for (let start = 0; start < size * size; start++) {
        if (mask[start] === 1 || seen[start] === 1) continue;
        let touchesBorder = false;
        const stack = [start];
        seen[start] = 1;
        while (stack.length > 0) {
          const i = stack.pop() as number;
          const x = i % size;
          const y = Math.floor(i / size);
          if (x === 0 || y === 0 || x === size - 1 || y === size - 1) touchesBorder = true;
          for (const j of [x > 0 ? i - 1 : -1, x < size - 1 ? i + 1 : -1, y > 0 ? i - size : -1, y < size - 1 ? i + size : -1]) {
            if (j >= 0 && mask[j] === 0 && seen[j] === 0) {
              seen[j] = 1;
              stack.push(j);
            }
          }
        }
        if (!touchesBorder) holes++;
      }
      // Thin parts: share of shape pixels within 3 px of the outside.
      const toOutside = squaredDistanceTransform(mask.map((v) => 1 - v), size, size);
      let near = 0;
      let area = 0;
      for (let i = 0; i < mask.length; i++) {
        if (mask[i] === 0) continue;
        area++;
        if ((toOutside[i] as number) <= 9) near++;
      }
      stats.set(family.name, { holes, thinFraction: near / area });
    }
    for (const name of ['ring', 'window', 'ladder']) expect(stats.get(name)!.holes).toBeGreaterThan(0);
    for (const name of ['blob', 'star', 'crescent', 'fork']) expect(stats.get(name)!.holes).toBe(0);
    for (const name of ['fork', 'window', 'ladder', 'star']) expect(stats.get(name)!.thinFraction).toBeGreaterThan(0.5);
    expect(stats.get('blob')!.thinFraction).toBeLessThan(0.3);
  });

  it('markVoidBand marks a band 2r wide along label changes', () => {
    const width = 8;
    const label = new Uint8Array(2 * width);
    for (let y = 0; y < 2; y++) for (let x = 4; x < width; x++) label[y * width + x] = 3;
    const r1 = label.slice();
    markVoidBand(r1, 2, width, 1);
    expect([...r1.subarray(0, width)]).toEqual([0, 0, 0, 255, 255, 3, 3, 3]);
    const r2 = label.slice();
    markVoidBand(r2, 2, width, 2);
    expect([...r2.subarray(width)]).toEqual([0, 0, 255, 255, 255, 255, 3, 3]);
  });

  it('rejects bad arguments with ConfigErrors naming them', async () => {
    expect(() => new SyntheticScenes({ numClasses: 9 })).toThrow(/SyntheticDatasetArgs\/numClasses must be <= 8, got 9/);
    expect(() => new SyntheticScenes({ objectsPerScene: [3, 2] })).toThrow(ConfigError);
    expect(() => new SyntheticScenes({ bogus: 1 } as never)).toThrow(/SyntheticDatasetArgs\/bogus is not a known argument/);
    expect(() => data.sample('test', 0)).toThrow(/split must be one of "train", "val", got "test"/);
    expect(() => data.sample('val', 32)).toThrow(/index must be an integer in \[0, 32\)/);
    await expect(data.load('nope')).rejects.toThrow(ConfigError);
  });
});
