/**
 * Decoding VOC files with sharp into typed arrays. Every failure is a
 * {@link DataError} whose `argument` is the file path.
 * @module
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { DataError } from '../../core/errors.js';
import { IGNORE_LABEL, VOC_PALETTE, rgbKey } from '../../data/palette.js';
import { indexColouredPng, readPngHeader } from './png.js';

/** A decoded RGB image. */
export interface DecodedImage {
  /** RGB bytes, `height × width × 3`. */
  data: Uint8Array;
  /** Height in pixels. */
  height: number;
  /** Width in pixels. */
  width: number;
}

/** A decoded label map. */
export interface DecodedLabel {
  /** Labels, `height × width` (255 = void). */
  data: Uint8Array;
  /** Height in pixels. */
  height: number;
  /** Width in pixels. */
  width: number;
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.trim() ?? message;
}

async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(path, code === 'ENOENT' ? 'must exist' : 'must be readable', reason(error));
  }
}

/**
 * Decodes a JPEG or PNG (any colour space, alpha dropped) to RGB bytes.
 * EXIF orientation is ignored, as labels are stored unrotated.
 * @param path - the image file
 */
export async function decodeImage(path: string): Promise<DecodedImage> {
  const bytes = await readBytes(path);
  try {
    const { data, info } = await sharp(bytes, { failOn: 'warning' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), height: info.height, width: info.width };
  } catch (error) {
    throw new DataError(path, 'must be a valid JPEG or PNG image', reason(error));
  }
}

let vocColourToLabel: Map<number, number> | undefined;

function colourLookup(palette: Uint8Array): Map<number, number> {
  const lookup = new Map<number, number>();
  for (let index = 0; index * 3 + 2 < palette.length; index++) {
    const key = rgbKey(palette[3 * index] as number, palette[3 * index + 1] as number, palette[3 * index + 2] as number);
    if (!lookup.has(key)) lookup.set(key, index); // duplicate colours: the first index wins, as in PIL's quantize
  }
  return lookup;
}

/**
 * Decodes a label PNG: a palette PNG gives its pixel indices (whatever its
 * palette; an index beyond the palette is an error), an 8-bit grey PNG its
 * grey values, an 8-bit RGB PNG its colours mapped through the VOC palette.
 * Grey or RGB samples of another bit depth (16-bit, or 1/2/4-bit grey, which
 * decoders rescale: 257 → 1, 1 → 255) are refused. Values must be
 * `< numClasses` or 255.
 * @param path - the label file
 * @param numClasses - number of classes (labels must be below it, or 255)
 */
export async function decodeLabel(path: string, numClasses: number): Promise<DecodedLabel> {
  const bytes = await readBytes(path);
  const header = readPngHeader(bytes);
  if (header !== undefined && header.colourType !== 3 && header.bitDepth !== 8) {
    const kind = header.colourType === 0 || header.colourType === 4 ? 'grey' : 'RGB';
    throw new DataError(path, 'must be an 8-bit label PNG (grey or RGB samples of 8 bits, or a palette PNG): save it with 8-bit samples', `${header.bitDepth}-bit ${kind} samples`);
  }
  // A palette PNG is decoded with its palette replaced by one colour per index, so RGB gives back the indices exactly.
  const indexed = header?.colourType === 3 ? indexColouredPng(bytes) : undefined;
  let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    decoded = await sharp(indexed?.png ?? bytes, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new DataError(path, 'must be a valid PNG label image', reason(error));
  }
  const { data, info } = decoded;
  const pixels = info.width * info.height;
  const channels = info.channels;
  const label = new Uint8Array(pixels);
  // sharp may expand grey to RGB on output, so trust the PNG header's colour type when there is one.
  const grey = header !== undefined ? header.colourType === 0 || header.colourType === 4 : channels <= 2;
  if (indexed !== undefined && channels >= 3) {
    for (let i = 0; i < pixels; i++) {
      const at = i * channels;
      const index = data[at] as number;
      if (data[at + 1] !== 255 - index || data[at + 2] !== 128 || index >= indexed.paletteSize) {
        throw new DataError(path, `must use only indices of its palette (${indexed.paletteSize} colours; pixel ${i % info.width},${Math.floor(i / info.width)})`, 'an index beyond the palette');
      }
      label[i] = index;
    }
  } else if (grey) {
    for (let i = 0; i < pixels; i++) label[i] = data[i * channels] as number;
  } else {
    const viaPalette = header?.colourType === 3 && header.palette !== undefined;
    if (!viaPalette) vocColourToLabel ??= colourLookup(VOC_PALETTE);
    const lookup = viaPalette ? colourLookup(header.palette as Uint8Array) : (vocColourToLabel as Map<number, number>);
    let lastKey = -1;
    let lastLabel = 0;
    for (let i = 0; i < pixels; i++) {
      const at = i * channels;
      const r = data[at] as number;
      const key = channels <= 2 ? rgbKey(r, r, r) : rgbKey(r, data[at + 1] as number, data[at + 2] as number);
      if (key !== lastKey) {
        const found = lookup.get(key);
        if (found === undefined) {
          const colour = [(key >> 16) & 255, (key >> 8) & 255, key & 255];
          throw new DataError(path, viaPalette ? 'must use only colours of its palette' : 'must use only VOC palette colours (RGB label PNG)', colour);
        }
        lastKey = key;
        lastLabel = found;
      }
      label[i] = lastLabel;
    }
  }
  for (let i = 0; i < pixels; i++) {
    const value = label[i] as number;
    if (value >= numClasses && value !== IGNORE_LABEL) {
      throw new DataError(path, `must hold labels < ${numClasses} or ${IGNORE_LABEL} (pixel ${i % info.width},${Math.floor(i / info.width)})`, value);
    }
  }
  return { data: label, height: info.height, width: info.width };
}
