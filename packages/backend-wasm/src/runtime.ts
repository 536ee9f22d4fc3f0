import { Allocator } from './allocator.js';
import { binaryFor, relaxedSimdSupported, type Variant } from './binaries.js';
import { CONTROL_BYTES } from './control.js';
import type { KernelExports } from './exports.js';
import { GeneratedKernels } from './generated.js';
import { ThreadPool, type WorkerPlatform } from './pool.js';
import { PARALLEL_TASKS } from './tasks.js';

/** Options of `createWasmBackend` and `createNodeWasmBackend`. */
export interface RuntimeOptions {
  /** Threads for large kernels, including the calling one; 1 disables the pool. */
  readonly threads?: number;
  /** How to start workers; without one, everything runs on the calling thread. */
  readonly platform?: WorkerPlatform;
  /** Use the relaxed-SIMD build if the engine accepts it (default true). */
  readonly relaxedSimd?: boolean;
  /** Use a shared memory if the engine allows it (default true; threads need it). */
  readonly sharedMemory?: boolean;
}

const MAX_PAGES = 32768;

function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** The instantiated kernels: their memory, the allocator over it and the worker pool. */
export class WasmRuntime {
  /** The memory the kernels and every buffer live in (shared when threads are on). */
  readonly memory: WebAssembly.Memory;
  /** The kernel module's exported functions. */
  readonly exports: KernelExports;
  /** The allocator of buffers in `memory`. */
  readonly allocator: Allocator;
  /** The worker threads that split large kernels. */
  readonly pool: ThreadPool;
  /** Which build of the kernels runs: SIMD or relaxed SIMD. */
  readonly variant: Variant;
  /** Kernels generated at run time, on this thread and the workers. */
  readonly generated: GeneratedKernels;
  private readonly instance: WebAssembly.Instance;

  constructor(options: RuntimeOptions = {}) {
    const shared = (options.sharedMemory ?? true) && sharedMemoryAvailable();
    const relaxed = (options.relaxedSimd ?? true) && relaxedSimdSupported(shared);
    this.variant = { relaxed, shared };
    const module = new WebAssembly.Module(binaryFor(this.variant));
    this.memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.instance = instance;
    this.exports = instance.exports as unknown as KernelExports;
    this.allocator = new Allocator(this.memory, this.exports.heapBase());
    const control = this.allocator.alloc(CONTROL_BYTES);
    this.generated = new GeneratedKernels(this.memory, instance.exports, this.allocator, () => this.pool);
    const threads = shared ? (options.threads ?? 1) : 1;
    this.pool = new ThreadPool(
      module,
      this.memory,
      control,
      threads,
      shared ? options.platform : undefined,
      { ...instance.exports, ...this.generated.tasks },
      PARALLEL_TASKS,
    );
  }

  /** The kernel module's exports, typed by the caller's interface for the ones it calls. */
  kernels<T>(): T {
    return this.instance.exports as unknown as T;
  }

  /** The memory as bytes; re-read after anything that may grow it. */
  get buffer(): ArrayBufferLike {
    return this.memory.buffer;
  }
}
