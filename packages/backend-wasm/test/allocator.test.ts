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

  it('grows the memory, and asks for a sweep first once enough was allocated since the last', () => {
    const mem = memory(1);
    const allocator = new Allocator(mem, 0);
    let sweeps = 0;
    const dead: number[] = [];
    allocator.onPressure = () => {
      sweeps++;
      for (const ptr of dead.splice(0)) allocator.release(ptr, MiB);
    };
    // A loop that drops every block: the memory stops growing once sweeps start.
    const sizes: number[] = [];
    for (let i = 0; i < 40; i++) {
      dead.push(allocator.alloc(MiB));
      sizes.push(mem.buffer.byteLength);
    }
    expect(sweeps).toBeGreaterThan(0);
    expect(sizes[39]).toBe(sizes[20]);
    expect(sizes[39]).toBeLessThanOrEqual(8 * MiB);
  });

  it('throws a typed error naming the sizes when the memory cannot grow', () => {
    const allocator = new Allocator(memory(1, 16), 0);
    expect(() => allocator.alloc(2 * MiB)).toThrow(OutOfMemoryError);
    expect(() => allocator.alloc(2 * MiB)).toThrow(/alloc: the wasm memory cannot grow to 2\.0 MiB/);
  });
});
