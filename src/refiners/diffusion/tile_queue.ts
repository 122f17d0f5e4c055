/**
 * A two-ended queue of row tiles shared between the calling thread and the
 * walk's helper threads (one Int32 word in a SharedArrayBuffer, claimed with
 * compare-and-swap). The calling thread takes tiles from the front — the
 * big ones: row tile I joins `count − I` pairs — and the helpers from the
 * back, so the work balances itself whatever each thread's speed, and the
 * last claims are the small tiles. Each helper first gets one reserved tile
 * from the very end, so every posted helper does some work.
 * @module
 * @internal
 */

/** Tiles are packed as 16-bit indices: front in the low half, end in the high half. */
export const MAX_QUEUED_TILES = 0xffff;

/** A queue of row tiles `[0, count)`; see the module docs. */
export class TileQueue {
  /** The shared word: `front | end << 16`. */
  readonly buffer: SharedArrayBuffer;
  private readonly word: Int32Array;

  /**
   * @param source - a tile count (a new queue, with `reserved` tiles kept off
   *   it at the end) or the buffer of an existing queue (another thread's view)
   * @param reserved - tiles `[count − reserved, count)` left out of the queue
   */
  constructor(source: number | SharedArrayBuffer, reserved = 0) {
    if (typeof source === 'number') {
      if (!Number.isInteger(source) || source < 0 || source > MAX_QUEUED_TILES) throw new RangeError(`TileQueue: count must be an integer in [0, ${MAX_QUEUED_TILES}], got ${source}`);
      this.buffer = new SharedArrayBuffer(4);
      this.word = new Int32Array(this.buffer);
      Atomics.store(this.word, 0, (Math.max(0, source - reserved) << 16) | 0);
    } else {
      this.buffer = source;
      this.word = new Int32Array(this.buffer);
    }
  }

  /** Claims the next tile from the front; −1 when the queue is empty. */
  takeFront(): number {
    return this.take(true);
  }

  /** Claims the last tile still queued; −1 when the queue is empty. */
  takeBack(): number {
    return this.take(false);
  }

  private take(fromFront: boolean): number {
    for (;;) {
      const word = Atomics.load(this.word, 0);
      const front = word & 0xffff;
      const end = word >>> 16;
      if (front >= end) return -1;
      const claimed = fromFront ? (end << 16) | (front + 1) : ((end - 1) << 16) | front;
      if (Atomics.compareExchange(this.word, 0, word, claimed | 0) === word) return fromFront ? front : end - 1;
    }
  }
}
