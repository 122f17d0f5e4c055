/**
 * Qualitative panels: one PNG grid per validation image — a row with the
 * image and the truth, then a row per entry (its prediction, and DifNet's
 * intermediates).
 * @module
 */
import sharp from 'sharp';
import { vocPalette } from '../../data/palette.js';
import { writeFileAtomic } from './atomic.js';

/** One tile of a panel: RGB bytes `height × width × 3` and its caption. */
export interface PanelTile {
  /** Caption shown above the tile in the HTML report. */
  caption: string;
  /** RGB bytes, row-major. */
  rgb: Uint8Array;
  /** Tile width in pixels. */
  width: number;
  /** Tile height in pixels. */
  height: number;
}

const palette = vocPalette();

/**
 * A label map coloured with the VOC palette (255 = void is cream, as in VOC).
 * @param caption - tile caption
 * @param labels - class per pixel
 * @param width - map width
 * @param height - map height
 */
export function labelTile(caption: string, labels: Uint8Array, width: number, height: number): PanelTile {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const c = labels[i]!;
    rgb[3 * i] = palette[3 * c]!;
    rgb[3 * i + 1] = palette[3 * c + 1]!;
    rgb[3 * i + 2] = palette[3 * c + 2]!;
  }
  return { caption, rgb, width, height };
}

/**
 * A scalar map as a heat map (black → red → yellow → white), scaled to its
 * own min..max unless a range is given.
 * @param caption - tile caption
 * @param values - one value per pixel
 * @param width - map width
 * @param height - map height
 * @param range - `[min, max]` of the colour scale
 */
export function heatTile(caption: string, values: Float32Array, width: number, height: number, range?: [number, number]): PanelTile {
  let [lo, hi] = range ?? [Infinity, -Infinity];
  if (range === undefined) {
    for (const v of values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  const span = hi > lo ? hi - lo : 1;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const t = Math.min(1, Math.max(0, (values[i]! - lo) / span));
    rgb[3 * i] = Math.round(255 * Math.min(1, 3 * t));
    rgb[3 * i + 1] = Math.round(255 * Math.min(1, Math.max(0, 3 * t - 1)));
    rgb[3 * i + 2] = Math.round(255 * Math.max(0, 3 * t - 2));
  }
  return { caption, rgb, width, height };
}

/** Gap between tiles, in output pixels. */
export const PANEL_GAP = 6;

/**
 * Writes rows of tiles as one PNG grid (each tile scaled by `scale`, nearest
 * neighbour; rows left-aligned, separated by a white gap).
 * @param path - output file
 * @param rows - rows of tiles; tiles share one size
 * @param scale - integer upscaling factor
 */
export async function writePanel(path: string, rows: readonly (readonly PanelTile[])[], scale = 2): Promise<void> {
  const tileWidth = Math.max(...rows.flat().map((t) => t.width)) * scale;
  const tileHeight = Math.max(...rows.flat().map((t) => t.height)) * scale;
  const columns = Math.max(...rows.map((r) => r.length));
  const width = columns * tileWidth + PANEL_GAP * (columns - 1);
  const height = rows.length * tileHeight + PANEL_GAP * (rows.length - 1);
  const composites = [];
  for (const [r, row] of rows.entries()) {
    for (const [c, tile] of row.entries()) {
      const input = await sharp(Buffer.from(tile.rgb), { raw: { width: tile.width, height: tile.height, channels: 3 } })
        .resize(tile.width * scale, tile.height * scale, { kernel: 'nearest' })
        .png()
        .toBuffer();
      composites.push({ input, left: c * (tileWidth + PANEL_GAP), top: r * (tileHeight + PANEL_GAP) });
    }
  }
  const png = await sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } }).composite(composites).png().toBuffer();
  writeFileAtomic(path, png);
}
