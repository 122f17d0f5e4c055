/**
 * Open-addressing hash table from permutohedral lattice keys (d integer
 * coordinates; the (d+1)-th is implied because they sum to zero) to dense
 * vertex indices 0, 1, 2, … in insertion order.
 *
 * The key hash is *linear* in the coordinates (Σ key[i]·C[i] mod 2³²), so the
 * hash of a lattice neighbour (key ± a fixed offset) is the vertex's own hash
 * plus a constant: neighbour look-ups cost one mix and a key comparison, no
 * rehash of d coordinates. A murmur finaliser spreads the linear hash over
 * the table's slots.
 * @module
 * @internal
 */

/** Odd 32-bit multipliers of the linear key hash, one per coordinate. */
const MULTIPLIERS = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f, 0x165667b1, 0xd3a2646c | 1, 0xfd7046c5, 0xb55a4f09];

/** Murmur3's 32-bit finaliser: an avalanche bijection on the linear hash. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function nextPowerOfTwo(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}

/** Lattice key → vertex index, with linear hashes for O(1) neighbour hashing. */
export class LatticeHashTable {
  /** Coordinates stored per key. */
  readonly keySize: number;
  /** The linear multiplier of each coordinate (exposed for neighbour hashing). */
  readonly multipliers: Int32Array;
  /** Keys in insertion order, `keySize` coordinates each. */
  keys: Int32Array;
  /** Linear hash of each inserted key. */
  hashes: Int32Array;
  private slots: Int32Array;
  private mask: number;
  private filled = 0;

  /**
   * @param keySize - d, the number of stored coordinates
   * @param expected - expected number of keys (the table grows beyond it)
   */
  constructor(keySize: number, expected: number) {
    if (keySize > MULTIPLIERS.length) throw new RangeError(`lattice keys of ${keySize} coordinates are not supported (max ${MULTIPLIERS.length})`);
    this.keySize = keySize;
    this.multipliers = Int32Array.from(MULTIPLIERS.slice(0, keySize), (m) => m | 0);
    const capacity = nextPowerOfTwo(2 * Math.max(1, expected));
    this.slots = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
    this.keys = new Int32Array((capacity / 2) * keySize);
    this.hashes = new Int32Array(capacity / 2);
  }

  /** Number of keys inserted. */
  get size(): number {
    return this.filled;
  }

  /** Linear hash of `key` (first `keySize` entries). */
  hashOf(key: Int32Array): number {
    let h = 0;
    for (let i = 0; i < this.keySize; i++) h = (h + Math.imul(key[i]!, this.multipliers[i]!)) | 0;
    return h;
  }

  /**
   * Index of `key`, inserting it when absent.
   * @param key - the coordinates (first `keySize` entries are read)
   * @param hash - `hashOf(key)`
   */
  insert(key: Int32Array, hash: number): number {
    if (2 * (this.filled + 1) > this.slots.length) this.grow();
    const d = this.keySize;
    const keys = this.keys;
    let slot = mix(hash) & this.mask;
    for (;;) {
      const entry = this.slots[slot]!;
      if (entry < 0) {
        const index = this.filled++;
        for (let i = 0; i < d; i++) keys[index * d + i] = key[i]!;
        this.hashes[index] = hash;
        this.slots[slot] = index;
        return index;
      }
      if (this.hashes[entry] === hash) {
        let same = true;
        for (let i = 0; i < d && same; i++) same = keys[entry * d + i] === key[i];
        if (same) return entry;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /**
   * Index of the neighbour `keys[vertex] + shift` (shift given per coordinate,
   * with its linear hash `shiftHash`), or −1 when it is not in the table.
   * @param vertex - an inserted vertex
   * @param shift - coordinate offsets
   * @param shiftHash - `hashOf(shift)`
   */
  findShifted(vertex: number, shift: Int32Array, shiftHash: number): number {
    const d = this.keySize;
    const keys = this.keys;
    const hash = (this.hashes[vertex]! + shiftHash) | 0;
    const base = vertex * d;
    let slot = mix(hash) & this.mask;
    for (;;) {
      const entry = this.slots[slot]!;
      if (entry < 0) return -1;
      if (this.hashes[entry] === hash) {
        let same = true;
        for (let i = 0; i < d && same; i++) same = keys[entry * d + i] === keys[base + i]! + shift[i]!;
        if (same) return entry;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const capacity = this.slots.length * 2;
    const keys = new Int32Array((capacity / 2) * this.keySize);
    keys.set(this.keys);
    const hashes = new Int32Array(capacity / 2);
    hashes.set(this.hashes);
    const slots = new Int32Array(capacity).fill(-1);
    const mask = capacity - 1;
    for (let entry = 0; entry < this.filled; entry++) {
      let slot = mix(hashes[entry]!) & mask;
      while (slots[slot]! >= 0) slot = (slot + 1) & mask;
      slots[slot] = entry;
    }
    this.keys = keys;
    this.hashes = hashes;
    this.slots = slots;
    this.mask = mask;
  }
}
