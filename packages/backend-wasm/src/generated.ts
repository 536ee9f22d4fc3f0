import type { Allocator } from './allocator.js';
import type { ThreadPool } from './pool.js';

type Run = (args: number, begin: number, end: number) => void;

/**
 * Kernels generated at run time (the fused elementwise kernels), instantiated on the calling
 * thread at once and on the pool's workers before their first parallel run: the workers wait
 * on the shared memory, not on messages, so a module's bytes travel through the memory.
 */
export class GeneratedKernels {
  private readonly runs: Run[] = [];
  private readonly bytes: Uint8Array<ArrayBuffer>[] = [];
  private loadedOnWorkers = 0;
  /** The calling thread's halves of the pool's built-in tasks (see worker-main.ts). */
  readonly tasks = {
    loadGenerated: () => {},
    runGenerated: (
      id: number,
      args: number,
      begin: number,
      end: number,
      grain: number,
      part: number,
      parts: number,
    ) => this.runPart(id, args, begin, end, grain, part, parts),
  };

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly kernelExports: WebAssembly.Exports,
    private readonly allocator: Allocator,
    private readonly pool: () => ThreadPool,
  ) {}

  /** Instantiates a validated module exporting `run`; returns its id. */
  add(module: WebAssembly.Module, bytes: Uint8Array<ArrayBuffer>): number {
    const imports = {
      env: { memory: this.memory },
      kernels: this.kernelExports,
      math: Math as unknown as WebAssembly.ModuleImports,
    };
    this.runs.push(new WebAssembly.Instance(module, imports).exports.run as Run);
    this.bytes.push(bytes);
    return this.runs.length - 1;
  }

  /** Runs kernel `id` over [0, count), split across the threads in multiples of `grain` when `parallel`. */
  run(id: number, args: number, count: number, grain: number, parallel: boolean): void {
    const pool = this.pool();
    if (!parallel || !pool.ready) {
      this.runs[id](args, 0, count);
      return;
    }
    this.loadOnWorkers();
    pool.run('runGenerated', [id, args, 0, count, grain], true);
  }

  /** Runs part `part` of `parts` of [begin, end), cut in multiples of `grain`. */
  private runPart(
    id: number,
    args: number,
    begin: number,
    end: number,
    grain: number,
    part: number,
    parts: number,
  ) {
    const share = Math.ceil((end - begin) / parts / grain) * grain;
    const from = begin + part * share;
    if (from < end) this.runs[id](args, from, Math.min(end, from + share));
  }

  /** Sends the modules the workers do not have yet, in order (their ids are their positions). */
  private loadOnWorkers(): void {
    for (; this.loadedOnWorkers < this.bytes.length; this.loadedOnWorkers++) {
      const bytes = this.bytes[this.loadedOnWorkers];
      const ptr = this.allocator.alloc(bytes.length);
      new Uint8Array(this.memory.buffer, ptr, bytes.length).set(bytes);
      this.pool().broadcast('loadGenerated', [ptr, bytes.length]);
      this.allocator.release(ptr, bytes.length);
    }
  }
}
