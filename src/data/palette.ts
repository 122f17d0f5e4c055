/**
 * Pascal VOC constants: the label colour palette, the class names, the void
 * label, and the mean pixel used to pad images.
 * @module
 */

/** The label that marks "void" pixels (object outlines, padding, don't-care regions). */
export const IGNORE_LABEL = 255;

/** The 21 Pascal VOC 2012 class names, index = label value. */
export const VOC_CLASS_NAMES: readonly string[] = Object.freeze([
  'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
]);

/**
 * ImageNet mean RGB (0..255, rounded), the value DeepLab pads images with so
 * that padding looks like "average image" after mean subtraction.
 */
export const IMAGENET_MEAN_RGB: readonly [number, number, number] = Object.freeze([124, 116, 104]) as readonly [number, number, number];

/**
 * The VOC colour map (`labelcolormap` of the VOC devkit): 256 RGB triples,
 * `[r0, g0, b0, r1, …]`. Label `i`'s bits are spread over the high bits of
 * r, g and b, so the map is one-to-one (label 255 is (224, 224, 192)).
 */
export function vocPalette(): Uint8Array {
  const palette = new Uint8Array(256 * 3);
  for (let label = 0; label < 256; label++) {
    let r = 0;
    let g = 0;
    let b = 0;
    let c = label;
    for (let bit = 7; bit >= 0; bit--) {
      r |= (c & 1) << bit;
      g |= ((c >> 1) & 1) << bit;
      b |= ((c >> 2) & 1) << bit;
      c >>= 3;
    }
    palette[label * 3] = r;
    palette[label * 3 + 1] = g;
    palette[label * 3 + 2] = b;
  }
  return palette;
}

/** The VOC palette, computed once. Do not mutate. */
export const VOC_PALETTE: Uint8Array = vocPalette();

/** Packs an RGB triple into one integer key (for colour → label lookups). */
export function rgbKey(r: number, g: number, b: number): number {
  return (r << 16) | (g << 8) | b;
}
