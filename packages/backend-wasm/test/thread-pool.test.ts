import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_BYTES, Control } from '../src/control.js';
import { nodeWorkerPlatform } from '../src/node/platform.js';
import { ThreadPool, type WorkerPlatform } from '../src/pool.js';
import { WasmRuntime } from '../src/runtime.js';

// The pool splits a task into parts that the threads claim from a shared counter: every part
// runs exactly once, and the calling thread never waits for a worker that has not joined.

describe('a pool whose worker never wakes (its core busy elsewhere)', () => {
  // A platform whose "worker" never runs, marked ready by hand: with fixed shares, the calling
  // thread would wait for it forever.
  const silent: WorkerPlatform = { canBlock: true, wrap: (body) => body, spawn: () => ({ terminate() {} }) };
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  const calls: number[][] = [];
  const exports = { task: (...args: number[]) => void calls.push(args) };
  const emptyModule = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  const pool = new ThreadPool(emptyModule, memory, 0, 2, silent, exports, ['task']);
  Atomics.store(new Int32Array(memory.buffer, 0, Control.words), Control.ready, 1);

  it('runs every part on the calling thread, once, and returns', () => {
    expect(pool.ready).toBe(true);
    expect(CONTROL_BYTES).toBeLessThanOrEqual(memory.buffer.byteLength);
    pool.run('task', [7, 8], true, 5);
    // (…args, part, parts, thread): all on thread 0.
    expect(calls).toEqual([0, 1, 2, 3, 4].map((part) => [7, 8, part, 5, 0]));
    calls.length = 0;
    pool.run('task', [1], true);
    expect(calls.map((call) => call[1])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('runs small work as one part without handing it out', () => {
    calls.length = 0;
    pool.run('task', [3], false);
    expect(calls).toEqual([[3, 0, 1, 0]]);
  });
});

describe('a pool with a real worker', () => {
  const runtime = new WasmRuntime({ threads: 2, platform: nodeWorkerPlatform });
  beforeAll(async () => {
    for (let wait = 0; wait < 500 && !runtime.pool.ready; wait++) await new Promise((r) => setTimeout(r, 10));
    expect(runtime.pool.ready).toBe(true);
  });
  afterAll(() => runtime.pool.close());
  const m = 16;
  const n = 256;
  const alloc = (floats: number, fill: number) => {
    const ptr = runtime.allocator.alloc(floats * 4);
    new Float32Array(runtime.buffer, ptr, floats).fill(fill);
    return ptr;
  };
  const [a, b] = [alloc(m, 1), alloc(n, 1)];
  const workspace = runtime.allocator.alloc(
    runtime.kernels<{ gemmWorkspaceBytes(): number }>().gemmWorkspaceBytes() * runtime.pool.threads,
  );
  /** Expects `count` floats at `ptr` all equal to `value`, or names the first that is not. */
  const expectAll = (ptr: number, count: number, value: number) => {
    const result = new Float32Array(runtime.buffer, ptr, count);
    const wrong = result.findIndex((x) => x !== value);
    expect(wrong < 0 ? 'every element' : `element ${wrong}: ${result[wrong]}`).toBe('every element');
  };

  it('runs every part exactly once, whichever thread claims it (600 tasks of 1–40 parts)', () => {
    // C += A·B with A and B all ones and k = 1 adds exactly 1 to every element of C per task:
    // a part run twice, or skipped, shows in C. gemm splits n = 256 into 32 panels of 8
    // columns, so up to 32 parts get work and the rest are empty.
    const c = alloc(m * n, 0);
    const tasks = 600;
    for (let t = 0; t < tasks; t++) {
      const parts = 1 + (t % 40);
      runtime.pool.run('gemm', [m, n, 1, a, 1, 1, b, n, 1, c, n, 1, workspace], true, parts);
    }
    expectAll(c, m * n, tasks);
  });

  it('broadcasts a task to every thread exactly once (300 broadcasts)', () => {
    // In a broadcast, thread t runs part t of `threads`: both halves of C get 1 per broadcast.
    const c = alloc(m * n, 0);
    const broadcasts = 300;
    for (let t = 0; t < broadcasts; t++)
      runtime.pool.broadcast('gemm', [m, n, 1, a, 1, 1, b, n, 1, c, n, 1, workspace]);
    expectAll(c, m * n, broadcasts);
  });
});
