import { OutOfMemoryError } from '@tsgrad/tensor';

/** Thrown when the wasm memory reached its maximum size (the tensor package's class). */
export { OutOfMemoryError };

const ALIGN = 64;
const PAGE = 65536;
const MiB = 2 ** 20;
/**
 * Growth of the bytes in use since the last sweep below which the memory grows without a sweep.
 * Only that growth counts, not every allocation: what the library freed at once is no garbage
 * (counting it swept every 3 steps of a char-RNN, a quarter of its time).
 */
const SWEEP_MIN = 4 * MiB;
/**
 * A sweep is a full garbage collection: 4–10 ms on a quiet machine whatever it frees (a 7 MiB
 * JS heap; 30–50 ms for 25 MiB on a loaded one). Sweeps may take this share of the time between
 * them; when one takes k times that, the allocator lets k times as much garbage pile up before
 * the next (at most 16 times: one slow sweep may be noise).
 */
const SWEEP_SHARE = 0.05;
const SWEEP_STEP_MAX = 16;
/**
 * The most garbage let pile up between sweeps. A loop over 1e6-element arrays that disposes
 * nothing drops 12 MiB per 0.7 ms; at 256 MiB it sweeps once in ~20 iterations (≈ 0.2 ms
 * each), not every iteration (≈ 5 ms each).
 */
const SWEEP_MAX = 256 * MiB;

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
   * Called before the memory grows, if the bytes in use grew enough since the last call (by
   * max(4 MiB, a quarter of the memory), more while calls are slow; see `sweep`): it may free
   * dead blocks, which are then reused instead. Also called before giving up on growing.
   */
  onPressure: (() => void) | undefined;
  /** The lowest `inUse` since the last sweep: what it grew by since then is what a sweep may free. */
  private inUseAfterSweep = 0;
  /** How much `inUse` may grow between two sweeps, adapted to what sweeps cost. */
  private sweepEvery = SWEEP_MIN;
  private lastSweepEnd: number;

  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
    /** The clock that times sweeps, in ms (tests pass their own). */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
    this.lastSweepEnd = now();
  }

  /** The byte offset of a new block of at least `bytes` bytes (contents unspecified). */
  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    const reused = this.free.get(size)?.pop();
    if (reused !== undefined) {
      this.inUse += size;
      return reused;
    }
    const capacity = this.memory.buffer.byteLength;
    const mustGrow = this.top + size > capacity;
    if (mustGrow && this.inUse - this.inUseAfterSweep >= Math.max(this.sweepEvery, capacity / 4)) {
      const recycled = this.sweep(size);
      if (recycled !== undefined) return recycled;
    }
    if (mustGrow && !this.grow(this.top + size)) {
      // Out of room: a sweep may still find dead blocks, however recent the last one.
      const recycled = this.sweep(size);
      if (recycled !== undefined) return recycled;
      this.growOrThrow(this.top + size);
    }
    const ptr = this.top;
    this.top = ptr + size;
    this.inUse += size;
    return ptr;
  }

  /**
   * Asks `onPressure` to free dead blocks; returns a block of class `size` if one came free.
   * A sweep that took k × SWEEP_SHARE of the time since the previous one, k > 1, multiplies
   * `sweepEvery` by k (up to SWEEP_MAX). It never shrinks: the memory never shrinks either, and
   * once it has grown, sweeps come when its free blocks run out, whatever `sweepEvery` is.
   */
  private sweep(size: number): number | undefined {
    if (!this.onPressure) return undefined;
    const start = this.now();
    this.onPressure();
    this.inUseAfterSweep = this.inUse;
    const end = this.now();
    const share = (end - start) / Math.max(start - this.lastSweepEnd, Number.MIN_VALUE);
    this.lastSweepEnd = end;
    const over = Math.min(SWEEP_STEP_MAX, share / SWEEP_SHARE);
    if (over > 1) this.sweepEvery = Math.min(SWEEP_MAX, this.sweepEvery * over);
    const recycled = this.free.get(size)?.pop();
    if (recycled !== undefined) this.inUse += size;
    return recycled;
  }

  /** Returns a block to its free list; `bytes` is the size it was allocated with. */
  release(ptr: number, bytes: number): void {
    const size = sizeClass(bytes);
    this.inUse -= size;
    // Garbage can only have piled up since the lowest point, not since the last sweep.
    this.inUseAfterSweep = Math.min(this.inUseAfterSweep, this.inUse);
    const list = this.free.get(size);
    if (list) list.push(ptr);
    else this.free.set(size, [ptr]);
  }

  /** Bytes of the memory the allocator has carved into blocks so far. */
  get reserved(): number {
    return this.top;
  }

  /** Grows the memory to hold `end` bytes, by half at least; false if it cannot. */
  private grow(end: number): boolean {
    const current = this.memory.buffer.byteLength;
    try {
      this.memory.grow(Math.ceil((Math.max(end, current + current / 2) - current) / PAGE));
      return true;
    } catch {
      return false;
    }
  }

  /** Grows the memory to exactly `end` bytes (which may still fit under the maximum), or throws. */
  private growOrThrow(end: number): void {
    const current = this.memory.buffer.byteLength;
    try {
      this.memory.grow(Math.ceil((end - current) / PAGE));
    } catch {
      const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
      throw new OutOfMemoryError(
        'alloc',
        `the wasm memory cannot grow to ${mib(end)} (it holds ${mib(current)}, ${mib(this.inUse)} of them in live arrays)`,
      );
    }
  }
}
