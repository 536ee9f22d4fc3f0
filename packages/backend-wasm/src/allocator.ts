import { OutOfMemoryError } from '@tsgrad/tensor';

/** Thrown when the wasm memory reached its maximum size (the tensor package's class). */
export { OutOfMemoryError };

const ALIGN = 64;
const PAGE = 65536;
/** Bytes allocated since the last sweep below which the memory grows without a sweep. */
const SWEEP_MIN = 4 * 2 ** 20;

/**
 * Rounds a request up to its size class: multiples of 64 bytes up to 1 KiB, then four classes
 * per power of two, so a freed block is reused by any request of its class and waste stays
 * under 25 %.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 1024) return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 2);
  return Math.ceil(bytes / step) * step;
}

/**
 * A size-class free-list allocator over a WebAssembly.Memory. Training loops allocate the
 * same sizes step after step, so after the first step every request is served from a free
 * list and the memory stops growing. Blocks are never coalesced or returned to the system.
 */
export class Allocator {
  private readonly free = new Map<number, number[]>();
  private top: number;
  /** Bytes handed out and not yet freed (by size class). */
  inUse = 0;
  /**
   * Called before the memory grows, if at least max(4 MiB, a quarter of the memory) was
   * allocated since the last call: it may free dead blocks, which are then reused instead.
   */
  onPressure: (() => void) | undefined;
  private allocatedSinceSweep = 0;

  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** The byte offset of a new block of at least `bytes` bytes (contents unspecified). */
  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    this.allocatedSinceSweep += size;
    const reused = this.free.get(size)?.pop();
    if (reused !== undefined) {
      this.inUse += size;
      return reused;
    }
    const capacity = this.memory.buffer.byteLength;
    if (
      this.onPressure &&
      this.top + size > capacity &&
      this.allocatedSinceSweep >= Math.max(SWEEP_MIN, capacity / 4)
    ) {
      this.allocatedSinceSweep = 0;
      this.onPressure();
      const recycled = this.free.get(size)?.pop();
      if (recycled !== undefined) {
        this.inUse += size;
        return recycled;
      }
    }
    const ptr = this.top;
    this.ensureCapacity(ptr + size);
    this.top = ptr + size;
    this.inUse += size;
    return ptr;
  }

  /** Returns a block to its free list; `bytes` is the size it was allocated with. */
  release(ptr: number, bytes: number): void {
    const size = sizeClass(bytes);
    this.inUse -= size;
    const list = this.free.get(size);
    if (list) list.push(ptr);
    else this.free.set(size, [ptr]);
  }

  /** Bytes of the memory the allocator has carved into blocks so far. */
  get reserved(): number {
    return this.top;
  }

  private ensureCapacity(end: number): void {
    const current = this.memory.buffer.byteLength;
    if (end <= current) return;
    const wanted = Math.max(end, current + current / 2);
    try {
      this.memory.grow(Math.ceil((wanted - current) / PAGE));
    } catch {
      // Growing by less than half may still fit under the maximum.
      try {
        this.memory.grow(Math.ceil((end - current) / PAGE));
      } catch {
        const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
        throw new OutOfMemoryError(
          'alloc',
          `the wasm memory cannot grow to ${mib(end)} (it holds ${mib(current)}, ${mib(this.inUse)} of them in live arrays)`,
        );
      }
    }
  }
}
