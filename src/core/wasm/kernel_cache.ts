/**
 * A cache of kernel instances that own their `WebAssembly.Memory`.
 * @module
 * @internal
 */

/** What a cached instance must expose: the memory it owns. */
export interface OwnsMemory {
  /** The instance's memory (a memory only grows; dropping the instance frees it). */
  readonly memory: WebAssembly.Memory;
}

/**
 * Instances by key, kept between calls so that their memory, once grown, is
 * reused: allocating it afresh costs more than a call's copies. A
 * WebAssembly memory cannot shrink, so the caches together keep at most
 * {@link KernelCache.retainLimitBytes} between calls: an instance whose call
 * takes them past it is dropped after that call (one large image must not
 * pin its memory for the life of the process), and {@link KernelCache.clear}
 * drops them all. Whoever still holds a dropped instance can finish with it;
 * the garbage collector frees it afterwards.
 */
export class KernelCache<Key, Instance extends OwnsMemory> {
  private readonly instances = new Map<Key, Instance | null>();

  /** Every cache, for the shared budget. */
  private static readonly all: Array<KernelCache<unknown, OwnsMemory>> = [];

  /** Memory all caches together keep between calls. */
  static retainLimitBytes = 256 * 2 ** 20;

  constructor() {
    KernelCache.all.push(this as KernelCache<unknown, OwnsMemory>);
  }

  /** Bytes of memory all caches hold. */
  static totalBytes(): number {
    return KernelCache.all.reduce((total, cache) => total + cache.bytes(), 0);
  }

  /**
   * The instance for `key`, created on first use; null (also cached) when
   * `create` cannot make one here.
   * @param key - what the instance is specialised for
   * @param create - makes the instance, or null
   */
  get(key: Key, create: () => Instance | null): Instance | null {
    if (!this.instances.has(key)) this.instances.set(key, create());
    return this.instances.get(key)!;
  }

  /**
   * Call when a call is done with the instance for `key`: drops it if the
   * caches now hold more than the retain limit.
   * @param key - the instance's key
   */
  release(key: Key): void {
    if (this.instances.get(key) != null && KernelCache.totalBytes() > KernelCache.retainLimitBytes) this.instances.delete(key);
  }

  /** Drops every instance that owns memory (the "cannot compile here" answers stay). */
  clear(): void {
    for (const [key, instance] of this.instances) if (instance !== null) this.instances.delete(key);
  }

  /** Bytes of memory this cache's instances hold. */
  bytes(): number {
    let total = 0;
    for (const instance of this.instances.values()) if (instance !== null) total += instance.memory.buffer.byteLength;
    return total;
  }
}
