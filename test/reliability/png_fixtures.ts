// PNG files for the VOC label checks, written byte by byte (sharp cannot write
// 16-bit grey with chosen values, low bit depths, or an index beyond the palette).
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

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
