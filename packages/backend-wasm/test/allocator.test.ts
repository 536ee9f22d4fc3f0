import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Allocator, OutOfMemoryError, sizeClass } from '../src/allocator.js';

const MiB = 2 ** 20;
const memory = (initial: number, maximum = 1024) => new WebAssembly.Memory({ initial, maximum });

describe('size classes', () => {
  it('hold the request, are 64-byte aligned and waste less than a quarter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), (bytes) => {
        const size = sizeClass(bytes);
        expect(size).toBeGreaterThanOrEqual(bytes);
        expect(size % 64).toBe(0);
        expect(size).toBeLessThanOrEqual(Math.max(64, bytes * 1.25 + 64));
        expect(sizeClass(size)).toBe(size);
      }),
    );
  });
});

describe('Allocator', () => {
  it('reuses a released block for any request of its class, and counts live bytes', () => {
    const allocator = new Allocator(memory(1), 100);
    const a = allocator.alloc(1000);
    expect(a % 64).toBe(0);
    expect(a).toBeGreaterThanOrEqual(100);
    const b = allocator.alloc(5000);
    expect(b).toBeGreaterThanOrEqual(a + 1000);
    allocator.release(a, 1000);
    expect(allocator.alloc(990)).toBe(a);
    expect(allocator.inUse).toBe(sizeClass(1000) + sizeClass(5000));
  });

  /**
   * A loop that allocates 1 MiB blocks and drops each one: the sweep frees what was dropped.
   * The clock advances `mutatorMs` per allocation and `sweepMs` per sweep. Returns the memory
   * size after each allocation and the allocations at which sweeps ran.
   */
  function droppingLoop(steps: readonly { count: number; mutatorMs: number; sweepMs: number }[]) {
    const mem = memory(1, 16384);
    let clock = 0;
    const allocator = new Allocator(mem, 0, () => clock);
    const dead: number[] = [];
    const sweptAt: number[] = [];
    const sizes: number[] = [];
    let sweepMs = 0;
    allocator.onPressure = () => {
      sweptAt.push(sizes.length);
      clock += sweepMs;
      for (const ptr of dead.splice(0)) allocator.release(ptr, MiB);
    };
    for (const step of steps) {
      sweepMs = step.sweepMs;
      for (let i = 0; i < step.count; i++) {
        clock += step.mutatorMs;
        dead.push(allocator.alloc(MiB));
        sizes.push(mem.buffer.byteLength);
      }
    }
    return { sizes, sweptAt };
  }

  it('grows the memory, and asks for a sweep first once enough was allocated since the last', () => {
    // Sweeps that cost nothing beside the loop: they come every few MiB, and the memory stops
    // growing once they start.
    const { sizes, sweptAt } = droppingLoop([{ count: 40, mutatorMs: 1, sweepMs: 0 }]);
    expect(sweptAt.length).toBeGreaterThan(5);
    expect(sizes[39]).toBe(sizes[20]);
    expect(sizes[39]).toBeLessThanOrEqual(8 * MiB);
  });

  it('lets more garbage pile up while sweeps are slow, up to a bound', () => {
    // Each sweep takes 10 ms, the loop 0.1 ms per MiB: sweeping every few MiB would spend
    // nearly all the time sweeping.
    const { sizes, sweptAt } = droppingLoop([{ count: 2000, mutatorMs: 0.1, sweepMs: 10 }]);
    // The gaps grow by the share sweeps took over 5 %, at most 16-fold at a time, so they
    // reach the 256 MiB bound within a few sweeps (and the memory grows by half a step beyond).
    expect(sweptAt.filter((at) => at < 1000).length).toBeLessThanOrEqual(5);
    const late = sweptAt.filter((at) => at >= 1000);
    expect(late.length).toBeGreaterThanOrEqual(2);
    expect(late.length).toBeLessThanOrEqual(4);
    // Memory stays flat at the live block plus the bound and that growth step.
    expect(sizes[1999]).toBe(sizes[1000]);
    expect(sizes[1999]).toBeLessThanOrEqual(400 * MiB);
  });

  it('counts towards a sweep only what was not freed since the last one', () => {
    // Per iteration, a 1 MiB temporary freed at once (the library's) and 64 KiB dropped (the
    // user's): only the dropped bytes are garbage, so a sweep comes every 4 MiB of them.
    let clock = 0;
    const allocator = new Allocator(memory(1, 1024), 0, () => clock);
    const dead: number[] = [];
    const sweptAt: number[] = [];
    let i = 0;
    allocator.onPressure = () => {
      sweptAt.push(i);
      for (const ptr of dead.splice(0)) allocator.release(ptr, 64 * 1024);
    };
    for (; i < 2048; i++) {
      clock++;
      allocator.release(allocator.alloc(MiB), MiB);
      dead.push(allocator.alloc(64 * 1024));
    }
    // The first sweep waits for 4 MiB of garbage (64 iterations), and they keep coming.
    expect(sweptAt[0]).toBeGreaterThanOrEqual(64);
    expect(sweptAt.length).toBeGreaterThanOrEqual(4);
  });

  it('counts the garbage from the lowest point since the last sweep', () => {
    const clock = 0;
    const allocator = new Allocator(memory(1, 1024), 0, () => clock);
    const inUseAtSweeps: number[] = [];
    allocator.onPressure = () => {
      inUseAtSweeps.push(allocator.inUse);
    };
    // 8 MiB allocated and freed again; then 2 MiB blocks, dropped: the sweep comes once 4 MiB
    // of them may be garbage, not 4 MiB above the 8 MiB of earlier.
    const early = Array.from({ length: 8 }, () => allocator.alloc(MiB));
    for (const ptr of early) allocator.release(ptr, MiB);
    const before = inUseAtSweeps.length;
    for (let i = 0; i < 8; i++) allocator.alloc(2 * MiB);
    expect(inUseAtSweeps.length).toBeGreaterThan(before);
    expect(inUseAtSweeps[before]).toBeLessThanOrEqual(6 * MiB);
  });

  it('sweeps before giving up on growing, however recent the last sweep', () => {
    const allocator = new Allocator(memory(1, 40), 0);
    const dead: number[] = [];
    allocator.onPressure = () => {
      for (const ptr of dead.splice(0)) allocator.release(ptr, MiB);
    };
    // 2.5 MiB of memory: the third 1 MiB block fits only once the first two are reclaimed.
    for (let i = 0; i < 10; i++) dead.push(allocator.alloc(MiB));
    expect(allocator.inUse).toBeLessThanOrEqual(2 * MiB);
  });

  it('throws a typed error naming the sizes when the memory cannot grow', () => {
    const allocator = new Allocator(memory(1, 16), 0);
    expect(() => allocator.alloc(2 * MiB)).toThrow(OutOfMemoryError);
    expect(() => allocator.alloc(2 * MiB)).toThrow(/alloc: the wasm memory cannot grow to 2\.0 MiB/);
  });
});
