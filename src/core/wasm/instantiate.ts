/**
 * Instantiating the run-time assembled kernels that own their memory.
 * @module
 * @internal
 */

/** A kernel module instantiated on a memory of its own. */
export interface OwnMemoryInstance {
  /** The module's exports. */
  exports: WebAssembly.Exports;
  /** Its memory (imported as `env.memory`; grow it as the kernel needs). */
  memory: WebAssembly.Memory;
}

/**
 * Compiles and instantiates `bytes` synchronously on a fresh one-page
 * memory; null when this engine cannot (no WebAssembly, no SIMD, or
 * synchronous compilation refused, as older Chrome versions did on the main
 * thread for modules over 4 KB; Chromium 156 compiles a 26 KB one) — callers
 * then take their TypeScript path.
 */
export function instantiateWithOwnMemory(bytes: Uint8Array<ArrayBuffer>): OwnMemoryInstance | null {
  try {
    if (typeof WebAssembly !== 'object' || !WebAssembly.validate(bytes)) return null;
    const memory = new WebAssembly.Memory({ initial: 1 });
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    return { exports, memory };
  } catch {
    return null;
  }
}

const PAGE_BYTES = 65536;

/** Grows `memory` to at least `bytes`; false when the engine refuses (beyond its memory limit). */
export function reserveMemory(memory: WebAssembly.Memory, bytes: number): boolean {
  const missing = Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES);
  if (missing <= 0) return true;
  try {
    memory.grow(missing);
    return true;
  } catch {
    return false;
  }
}
