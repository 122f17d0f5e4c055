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
  const ignore = rule.ignoreLabel ?? -1;
  const countIgnored = rule.ignoredNeighbourCounts === true;
  const out = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    const row = offset + y * width;
    for (let x = 0; x < width; x++) {
      const at = row + x;
      const value = labels[at] as number;
      if (value === ignore) continue;
      // Inline neighbour tests (no per-pixel closure: this runs for every pixel of every image).
      let other: number;
      if (x > 0 && (other = labels[at - 1] as number) !== value && (countIgnored || other !== ignore)) out[at - offset] = 1;
      else if (x < width - 1 && (other = labels[at + 1] as number) !== value && (countIgnored || other !== ignore)) out[at - offset] = 1;
      else if (y > 0 && (other = labels[at - width] as number) !== value && (countIgnored || other !== ignore)) out[at - offset] = 1;
      else if (y < height - 1 && (other = labels[at + width] as number) !== value && (countIgnored || other !== ignore)) out[at - offset] = 1;
    }
  }
  return out;
}
