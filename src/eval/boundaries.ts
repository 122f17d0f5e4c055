/**
 * Boundary masks of label maps (4-neighbourhood), shared by the trimap IoU
 * and the boundary F-score.
 * @module
 */

/** How {@link labelBoundaries} treats an ignore label. */
export interface BoundaryRule {
  /**
   * Pixels with this label are never boundary pixels.
   * @defaultValue undefined (none)
   */
  ignoreLabel?: number;
  /**
   * Whether a neighbour with the ignore label makes a pixel a boundary pixel
   * (true: the edges of a void band are boundaries).
   * @defaultValue false
   */
  ignoredNeighbourCounts?: boolean;
}

/**
 * Marks pixels that have a 4-neighbour (inside the image) with a different
 * label: both sides of every label change, so a boundary is two pixels thick
 * and symmetric in the two regions.
 * @param labels - the whole batch's labels
 * @param offset - start of this map in `labels`
 * @param height - map height
 * @param width - map width
 * @param rule - see {@link BoundaryRule}
 */
export function labelBoundaries(labels: ArrayLike<number>, offset: number, height: number, width: number, rule: BoundaryRule = {}): Uint8Array {
  const ignore = rule.ignoreLabel;
  const countIgnored = rule.ignoredNeighbourCounts === true;
  const out = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const value = labels[offset + i] as number;
      if (value === ignore) continue;
      const differs = (j: number): boolean => {
        const other = labels[offset + j] as number;
        return other !== value && (countIgnored || other !== ignore);
      };
      if ((x > 0 && differs(i - 1)) || (x < width - 1 && differs(i + 1)) || (y > 0 && differs(i - width)) || (y < height - 1 && differs(i + width))) {
        out[i] = 1;
      }
    }
  }
  return out;
}
