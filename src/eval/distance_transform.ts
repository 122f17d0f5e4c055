/**
 * Exact Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance
 * Transforms of Sampled Functions", 2012): two passes of the 1-D lower
 * envelope of parabolas, O(H·W). Distances are between pixel centres, so
 * squared distances are integers.
 * @module
 */

/** Stands for "no seed": large enough that any real squared distance is smaller, small enough to stay exact. */
const FAR = 1e20;

/** Scratch buffers reused across rows/columns. */
interface Scratch {
  f: Float64Array;
  d: Float64Array;
  v: Int32Array;
  z: Float64Array;
}

function transform1d(scratch: Scratch, n: number): void {
  const { f, d, v, z } = scratch;
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    const fq = (f[q] as number) + q * q;
    let vk = v[k] as number;
    let s = (fq - ((f[vk] as number) + vk * vk)) / (2 * q - 2 * vk);
    while (s <= (z[k] as number)) {
      k--;
      vk = v[k] as number;
      s = (fq - ((f[vk] as number) + vk * vk)) / (2 * q - 2 * vk);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while ((z[k + 1] as number) < q) k++;
    const vk = v[k] as number;
    d[q] = (q - vk) * (q - vk) + (f[vk] as number);
  }
}

/**
 * Squared Euclidean distance from every pixel to the nearest seed pixel
 * (`seeds[i] !== 0`); `Infinity` everywhere if there is no seed.
 * @param seeds - `height × width` mask, row-major
 * @param height - mask height
 * @param width - mask width
 */
export function squaredDistanceTransform(seeds: ArrayLike<number>, height: number, width: number): Float64Array {
  const size = Math.max(height, width);
  const scratch: Scratch = { f: new Float64Array(size), d: new Float64Array(size), v: new Int32Array(size), z: new Float64Array(size + 1) };
  const out = new Float64Array(height * width);
  // Columns first: distance to the nearest seed in the same column.
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) scratch.f[y] = seeds[y * width + x] !== 0 ? 0 : FAR;
    transform1d(scratch, height);
    for (let y = 0; y < height; y++) out[y * width + x] = scratch.d[y] as number;
  }
  // Then rows, over the column distances.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) scratch.f[x] = out[y * width + x] as number;
    transform1d(scratch, width);
    for (let x = 0; x < width; x++) {
      const value = scratch.d[x] as number;
      out[y * width + x] = value >= FAR / 2 ? Infinity : value;
    }
  }
  return out;
}
