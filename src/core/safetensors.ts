/**
 * A reader for the safetensors format (Hugging Face; what
 * `safetensors.torch.save_file(model.state_dict(), path)` writes): an 8-byte
 * little-endian header length, a JSON header naming every tensor's dtype,
 * shape and byte range, then the raw little-endian data. Portable: it works
 * on bytes; reading a file is `segrefine/node`'s job.
 * @module
 */
import { DataError } from './errors.js';

/** One tensor of a safetensors file. */
export interface SafetensorsTensor {
  /** The stored dtype, e.g. `'F32'`, `'F16'`, `'BF16'`, `'I64'`. */
  dtype: string;
  /** The shape as stored (PyTorch layout, e.g. OIHW for conv weights). */
  shape: number[];
  /**
   * The values as float32 (F32, F64, F16 and BF16 are converted), or null for
   * integer and boolean dtypes (such as batch norm's `num_batches_tracked`).
   */
  values: Float32Array | null;
}

/** What {@link parseSafetensors} returns. */
export interface SafetensorsFile {
  /** Tensors by name, in header order. */
  tensors: Map<string, SafetensorsTensor>;
  /** The header's `__metadata__` (string → string), empty when absent. */
  metadata: Record<string, string>;
}

/** Bytes per element of each dtype the format defines. */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
};

/** IEEE half → float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function decode(view: DataView, start: number, count: number, dtype: string): Float32Array | null {
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(start + 4 * i, true);
      return out;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(start + 8 * i, true);
      return out;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(start + 2 * i, true));
      return out;
    case 'BF16': {
      // bfloat16 is the upper half of a float32.
      const word = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        word.setUint32(0, view.getUint16(start + 2 * i, true) << 16, true);
        out[i] = word.getFloat32(0, true);
      }
      return out;
    }
    default:
      return null;
  }
}

/**
 * Parses a safetensors file from its bytes. Float tensors (F32, F64, F16,
 * BF16) come back as float32 values; other dtypes as `values: null` with
 * their shape. A malformed file is a {@link DataError} saying what is wrong.
 *
 * ```ts illustrative
 * const { tensors } = parseSafetensors(bytes);
 * tensors.get('conv1.weight'); // { dtype: 'F32', shape: [64, 3, 7, 7], values: Float32Array }
 * ```
 * @param bytes - the whole file
 * @param argument - how to name the file in errors
 */
export function parseSafetensors(bytes: Uint8Array | ArrayBuffer, argument = 'safetensors'): SafetensorsFile {
  const data = bytes instanceof Uint8Array ? bytes : bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : undefined;
  if (data === undefined) throw new DataError(argument, 'must be the bytes of a safetensors file (Uint8Array or ArrayBuffer)', bytes);
  if (data.byteLength < 8) throw new DataError(argument, 'must be a safetensors file (8-byte header length, JSON header, data)', `${data.byteLength} bytes`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > data.byteLength - 8) {
    throw new DataError(argument, `must be a safetensors file: its header length (${headerLength} bytes) exceeds the file (${data.byteLength} bytes)`, headerLength);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(data.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new DataError(argument, `must be a safetensors file: its header is not JSON (${(error as Error).message})`, `${headerLength}-byte header`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new DataError(argument, 'must be a safetensors file: its header must be a JSON object', header);
  const dataStart = 8 + headerLength;
  const dataLength = data.byteLength - dataStart;
  const tensors = new Map<string, SafetensorsTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const where = `${argument} tensor '${name}'`;
    if (typeof dtype !== 'string' || DTYPE_BYTES[dtype] === undefined) {
      throw new DataError(where, `must have a safetensors dtype (${Object.keys(DTYPE_BYTES).join(', ')})`, dtype);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) throw new DataError(where, 'must have a shape of non-negative integers', shape);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && (o as number) >= 0)) {
      throw new DataError(where, 'must have data_offsets [begin, end]', offsets);
    }
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((n, d) => n * d, 1);
    if (end - begin !== count * DTYPE_BYTES[dtype]! || end > dataLength) {
      throw new DataError(where, `must span ${count} × ${DTYPE_BYTES[dtype]} bytes inside the ${dataLength}-byte data section`, offsets);
    }
    tensors.set(name, { dtype, shape: shape as number[], values: decode(view, dataStart + begin, count, dtype) });
  }
  return { tensors, metadata };
}
