/**
 * The two PNG operations sharp does not offer: writing an 8-bit palette PNG
 * whose pixel *indices* are the labels (as PIL writes VOC labels, so that
 * `np.array(Image.open(f))` gives the classes), and reading a PNG's palette
 * (so a palette label decoded to RGB by sharp maps back to its indices).
 * Everything else (decoding, validation) goes through sharp.
 * @module
 */
import { deflateSync } from 'node:zlib';

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

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
  for (let i = 0; i < bytes.length; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * One PNG chunk: length, type, data, CRC-32 (also used by the tests' PNG writer).
 * @internal
 */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encodes an 8-bit palette PNG (colour type 3, no interlace).
 * @param indices - `height × width` palette indices, row-major
 * @param width - image width
 * @param height - image height
 * @param palette - up to 256 RGB triples (`[r0, g0, b0, r1, …]`)
 */
export function encodePalettePng(indices: Uint8Array, width: number, height: number, palette: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 3; // colour type: palette
  // compression, filter and interlace methods stay 0
  const raw = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter: none
    raw.set(indices.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from(SIGNATURE),
    pngChunk('IHDR', header),
    pngChunk('PLTE', palette.subarray(0, Math.min(palette.length, 768) - (Math.min(palette.length, 768) % 3))),
    pngChunk('IDAT', deflateSync(raw, { level: 6 })),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/** What {@link readPngHeader} finds in a PNG's chunks. */
export interface PngHeader {
  /** PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colourType: number;
  /** Bits per sample. */
  bitDepth: number;
  /** The PLTE chunk (RGB triples), if any. */
  palette: Uint8Array | undefined;
}

/**
 * Reads the colour type and palette of a PNG without decoding its pixels.
 * Returns undefined if the bytes are not a PNG or the header is damaged
 * (the decoder then reports the damage).
 * @param bytes - the file's bytes
 */
export function readPngHeader(bytes: Uint8Array): PngHeader | undefined {
  if (bytes.length < 33 || !SIGNATURE.every((b, i) => bytes[i] === b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let header: PngHeader | undefined;
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(bytes[offset + 4] as number, bytes[offset + 5] as number, bytes[offset + 6] as number, bytes[offset + 7] as number);
    const dataStart = offset + 8;
    if (dataStart + length > bytes.length) break;
    if (type === 'IHDR') {
      header = { bitDepth: bytes[dataStart + 8] as number, colourType: bytes[dataStart + 9] as number, palette: undefined };
    } else if (type === 'PLTE' && header !== undefined) {
      header.palette = bytes.slice(dataStart, dataStart + length);
    } else if (type === 'IDAT' || type === 'IEND') {
      break; // PLTE must precede the image data
    }
    offset = dataStart + length + 4;
  }
  return header;
}

/** Ancillary chunks that could make a decoder alter colours (profiles, gamma); dropped by {@link indexColouredPng}. */
const COLOUR_CHUNKS = new Set(['iCCP', 'gAMA', 'cHRM', 'sRGB', 'sBIT']);

/** The colour {@link indexColouredPng} gives palette index `i`: `(i, 255 − i, 128)`, one per index, never grey. */
export function indexColour(index: number): [number, number, number] {
  return [index, 255 - index, 128];
}

/**
 * A copy of a palette PNG whose palette is replaced by {@link indexColour}
 * (CRC recomputed, colour-profile chunks dropped), so that any decoder's RGB
 * output gives back the pixel *indices* exactly — duplicate palette colours
 * included — and an index beyond the palette (which decoders paint black)
 * shows as a colour no index has. Undefined when `bytes` is not a PNG with a
 * PLTE chunk.
 * @param bytes - the PNG file
 */
export function indexColouredPng(bytes: Uint8Array): { png: Buffer; paletteSize: number } | undefined {
  if (bytes.length < 33 || !SIGNATURE.every((b, i) => bytes[i] === b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Buffer[] = [Buffer.from(SIGNATURE)];
  let paletteSize: number | undefined;
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const end = offset + 12 + length;
    if (end > bytes.length) return undefined;
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (type === 'PLTE') {
      paletteSize = Math.floor(length / 3);
      const palette = new Uint8Array(paletteSize * 3);
      for (let i = 0; i < paletteSize; i++) palette.set(indexColour(i), 3 * i);
      parts.push(pngChunk('PLTE', palette));
    } else if (!COLOUR_CHUNKS.has(type)) {
      parts.push(Buffer.from(bytes.subarray(offset, end)));
    }
    offset = end;
    if (type === 'IEND') break;
  }
  return paletteSize === undefined ? undefined : { png: Buffer.concat(parts), paletteSize };
}
