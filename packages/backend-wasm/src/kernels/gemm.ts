import type { WasmRuntime } from '../runtime.js';

/** A float32 matrix operand: element (i, j) at byte `ptr + 4·(i·rowStride + j·colStride)`. */
export interface MatrixOperand {
  readonly ptr: number;
  readonly rowStride: number;
  readonly colStride: number;
}

export interface GemmSpec {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly a: MatrixOperand;
  readonly b: MatrixOperand;
  /** Row-major output with row stride `ldc` elements. */
  readonly c: { readonly ptr: number; readonly ldc: number };
  /** 0 overwrites C, 1 accumulates into it. */
  readonly beta: 0 | 1;
}

interface GemmExports {
  gemmWorkspaceBytes(): number;
}

/**
 * Multiply-adds (m·n·k) from which the pool's threads share the work: 2^20 take about 45 µs on
 * one thread. Measured on 2 cores: a worker still spinning from the previous task joins in
 * under a microsecond, and halves even 2^15; a sleeping one costs 10–50 µs to wake, so two
 * threads break even near 2^20 and win from 2^21. Break-even work stays on the calling thread:
 * an LSTM step's [16,128]×[128,512] (2^20) runs 63 times per char-RNN step, and on a loaded
 * machine a descheduled worker stalls each of them.
 */
const PARALLEL_WORK = 1 << 21;
/**
 * Parts per thread: every part packs its own copy of the smaller operand, so fewer than the
 * pool's default. Under load (load average 10 on 2 cores), matmul n=128 ran at 46, 45, 42 and
 * 38 GFLOP/s with 1, 2, 4 and 8 parts per thread, and 16 with the former fixed shares that
 * waited for a descheduled worker.
 */
const PARTS_PER_THREAD = 2;

/**
 * The packing workspace of each runtime: one block per runtime, allocated on first use and
 * kept. Its size is fixed (the kernel's cache blocks × threads, about 0.6 MiB per thread), so
 * it never needs to grow, and keeping it spares every call an allocation and a release.
 * Kernels run one at a time, so one workspace per runtime is never shared by two calls.
 */
const workspaces = new WeakMap<WasmRuntime, number>();

/** The runtime's GEMM workspace: gemmWorkspaceBytes() for each of its threads. */
export function workspaceOf(runtime: WasmRuntime): number {
  let ptr = workspaces.get(runtime);
  if (ptr === undefined) {
    const perThread = runtime.kernels<GemmExports>().gemmWorkspaceBytes();
    ptr = runtime.allocator.alloc(perThread * runtime.pool.threads);
    workspaces.set(runtime, ptr);
  }
  return ptr;
}

/** C = beta·C + A·B in float32 on the wasm memory, split over the pool's threads when large. */
export function gemm(runtime: WasmRuntime, spec: GemmSpec): void {
  const { m, n, k, a, b, c, beta } = spec;
  if (m === 0 || n === 0) return;
  const args = [
    m,
    n,
    k,
    a.ptr,
    a.rowStride,
    a.colStride,
    b.ptr,
    b.rowStride,
    b.colStride,
    c.ptr,
    c.ldc,
    beta,
    workspaceOf(runtime),
  ];
  runtime.pool.run('gemm', args, m * n * k >= PARALLEL_WORK, PARTS_PER_THREAD * runtime.pool.threads);
}
