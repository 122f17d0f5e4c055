/**
 * Figures for the docs: rows of tiles (the bench's `PanelTile`s: RGB bytes
 * and a caption), each tile upscaled (nearest neighbour) with its caption
 * written above it, and an optional label left of each row — one
 * self-contained PNG, so a page needs no HTML around it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp, { type OverlayOptions } from 'sharp';
import type { PanelTile } from '../src/bench/report/panels.js';

/** One row of a figure. */
export interface FigureRow {
  /** Written left of the row (e.g. the sample or the entry), or omitted. */
  label?: string;
  /** The row's tiles, left to right. */
  tiles: readonly PanelTile[];
}

/** Layout of {@link writeFigure}. */
export interface FigureOptions {
  /** Integer upscaling of every tile. */
  scale: number;
  /** Width of the row-label column, px (0 when no row has a label). */
  labelWidth?: number;
  /** Title lines written above the grid (the first in bold). */
  title?: string | readonly string[];
}

const GAP = 8;
const CAPTION_LINE = 15;
const CAPTION_FONT = 12;
const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Splits text into lines of at most about `width` px (≈ 0.6 em per character). */
function wrap(text: string, width: number, fontSize: number): string[] {
  const perLine = Math.max(4, Math.floor(width / (0.6 * fontSize)));
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines[lines.length - 1];
    if (last !== undefined && `${last} ${word}`.length <= perLine) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/**
 * Writes rows of captioned tiles as one PNG on white.
 * @param path - output file (folders are created)
 * @param rows - the rows; tiles of one figure should share a size
 * @param options - scale, label column, title
 */
export async function writeFigure(path: string, rows: readonly FigureRow[], options: FigureOptions): Promise<void> {
  const { scale } = options;
  const tileW = Math.max(...rows.flatMap((r) => r.tiles.map((t) => t.width))) * scale;
  const tileH = Math.max(...rows.flatMap((r) => r.tiles.map((t) => t.height))) * scale;
  const columns = Math.max(...rows.map((r) => r.tiles.length));
  const labelW = rows.some((r) => r.label !== undefined) ? (options.labelWidth ?? 150) : 0;
  // Each row reserves room for its longest caption (none when it has no captions).
  const captionH = rows.map((r) => {
    const lines = Math.max(0, ...r.tiles.map((t) => (t.caption === '' ? 0 : wrap(t.caption, tileW, CAPTION_FONT).length)));
    return lines === 0 ? 0 : lines * CAPTION_LINE + 4;
  });
  const rowTop = (r: number): number => titleH + captionH.slice(0, r).reduce((a, b) => a + b, 0) + r * (tileH + GAP);
  // Titles wrap to the grid's width, so a long title never shrinks the tiles on the page.
  const gridWidth = labelW + columns * (tileW + GAP) + GAP;
  const titles = options.title === undefined ? [] : typeof options.title === 'string' ? [options.title] : options.title;
  const titleLines = titles.flatMap((line, i) => wrap(line, Math.max(gridWidth, 480) - 2 * GAP, i === 0 ? 16 : 13).map((text) => ({ text, bold: i === 0 })));
  const titleH = titleLines.length === 0 ? 0 : 10 + 20 * titleLines.length;
  const width = Math.max(gridWidth, 480);
  const height = rowTop(rows.length) + GAP;
  const text: string[] = [];
  titleLines.forEach((line, i) =>
    text.push(`<text x="${GAP}" y="${20 + 20 * i}" font-size="${line.bold ? 16 : 13}"${line.bold ? ' font-weight="bold"' : ''}>${escapeXml(line.text)}</text>`),
  );
  const composites: OverlayOptions[] = [];
  for (const [r, row] of rows.entries()) {
    const top = rowTop(r);
    const CAPTION = captionH[r]!;
    if (row.label !== undefined) {
      const lines = wrap(row.label, labelW - GAP, 14);
      const middle = top + CAPTION + tileH / 2;
      lines.forEach((line, i) => text.push(`<text x="${GAP}" y="${middle + (i - (lines.length - 1) / 2) * 17 + 5}" font-size="14">${escapeXml(line)}</text>`));
    }
    for (const [c, tile] of row.tiles.entries()) {
      const left = labelW + GAP + c * (tileW + GAP);
      const lines = tile.caption === '' ? [] : wrap(tile.caption, tileW, CAPTION_FONT);
      lines.forEach((line, i) => {
        const y = top + CAPTION - 5 - (lines.length - 1 - i) * CAPTION_LINE;
        text.push(`<text x="${left + tileW / 2}" y="${y}" font-size="${CAPTION_FONT}" text-anchor="middle">${escapeXml(line)}</text>`);
      });
      const input = await sharp(Buffer.from(tile.rgb), { raw: { width: tile.width, height: tile.height, channels: 3 } })
        .resize(tile.width * scale, tile.height * scale, { kernel: 'nearest' })
        .png()
        .toBuffer();
      composites.push({ input, left, top: top + CAPTION });
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="${FONT}" fill="#222">${text.join('')}</g></svg>`;
  composites.push({ input: Buffer.from(svg), left: 0, top: 0 });
  mkdirSync(dirname(path), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(composites)
    .png({ compressionLevel: 9 })
    .toFile(path);
}

/**
 * Cuts tile `(row, column)` out of a bench panel PNG (tiles of `tileWidth ×
 * tileHeight` upscaled by `scale`, separated by the panel gap), at its
 * original resolution.
 * @param png - the panel file
 * @param row - row index
 * @param column - column index
 * @param geometry - tile size, scale and gap of the panel
 * @param caption - the tile's caption
 */
export async function panelTile(png: string, row: number, column: number, geometry: { tileWidth: number; tileHeight: number; scale: number; gap: number }, caption: string): Promise<PanelTile> {
  const { tileWidth, tileHeight, scale, gap } = geometry;
  const { data } = await sharp(png)
    .removeAlpha()
    .extract({ left: column * (tileWidth * scale + gap), top: row * (tileHeight * scale + gap), width: tileWidth * scale, height: tileHeight * scale })
    .resize(tileWidth, tileHeight, { kernel: 'nearest' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { caption, rgb: new Uint8Array(data), width: tileWidth, height: tileHeight };
}
