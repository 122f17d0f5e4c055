/**
 * Seeded randomness for data generation, shuffling and augmentation.
 *
 * `xoshiro128**` (Blackman & Vigna) seeded through splitmix32: fast in pure
 * JS (32-bit integer ops only), well distributed, and identical on every
 * platform, so the same seed gives the same bytes everywhere.
 * @module
 */

/** Mixes a 32-bit state (splitmix32 step); used for seeding and hashing. */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Hashes integers and strings into one 32-bit seed, so that e.g.
 * `(seed, 'train', index)` names an independent random stream: sample `i`
 * does not depend on which samples were generated before it.
 * @param parts - integers (taken modulo 2^32) or strings
 */
export function hashSeed(...parts: ReadonlyArray<number | string>): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    if (typeof part === 'number') {
      // Split into two 32-bit halves so seeds above 2^32 still differ.
      const low = part >>> 0;
      const high = Math.floor(part / 4294967296) >>> 0;
      h = splitmix32(h ^ low);
      h = splitmix32(h ^ high);
    } else {
      for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part.charCodeAt(i), 0x01000193) >>> 0;
      h = splitmix32(h ^ part.length);
    }
  }
  return h >>> 0;
}

/** A seeded pseudo-random number generator (`xoshiro128**`). */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;

  /** @param seed - any integer; equal seeds give equal streams */
  constructor(seed: number) {
    let state = hashSeed(seed);
    const next = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      return splitmix32(state);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /**
   * Uniform float in [low, high).
   * @param low - inclusive lower bound
   * @param high - exclusive upper bound
   */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /**
   * Uniform integer in [0, n).
   * @param n - number of outcomes (>= 1)
   */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /**
   * True with probability `p`.
   * @param p - probability in [0, 1]
   */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /**
   * Picks one element uniformly.
   * @param items - a non-empty list
   */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const value = this.spareNormal;
      this.spareNormal = undefined;
      return value;
    }
    const u = 1 - this.next(); // (0, 1]: log is finite
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /**
   * Shuffles `items` in place (Fisher–Yates) and returns it.
   * @param items - the array to shuffle
   */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
