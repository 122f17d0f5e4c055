// PNG files for the VOC label checks, written byte by byte (sharp cannot write
// 16-bit grey with chosen values, low bit depths, or an index beyond the palette).
import { deflateSync } from 'node:zlib';
import { pngChunk as chunk } from '../../src/node/voc/png.js';

/**
 * A non-interlaced PNG of one-sample-per-pixel values (grey or palette
 * indices) at any bit depth (1, 2, 4, 8, 16), row-major.
 */
export function encodeSamplePng(values: ArrayLike<number>, width: number, height: number, options: { colourType: 0 | 3; bitDepth: 1 | 2 | 4 | 8 | 16; palette?: Uint8Array }): Buffer {
  const { colourType, bitDepth } = options;
  const rowBytes = Math.ceil((width * bitDepth) / 8);
  const raw = Buffer.alloc(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    const row = raw.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
    for (let x = 0; x < width; x++) {
      const v = values[y * width + x]!;
      if (bitDepth === 16) row.writeUInt16BE(v, 2 * x);
      else if (bitDepth === 8) row[x] = v;
      else {
        const bit = x * bitDepth;
        row[bit >> 3] = row[bit >> 3]! | (v << (8 - bitDepth - (bit & 7)));
      }
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = bitDepth;
  header[9] = colourType;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header)];
  if (options.palette !== undefined) parts.push(chunk('PLTE', options.palette));
  parts.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}
