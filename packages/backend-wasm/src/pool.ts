import { Control } from './control.js';
import { type WorkerInit, workerMain } from './worker-main.js';

/** Starts one worker running `source` (a classic script) and posts `init` to it. */
export type SpawnWorker = (source: string, init: WorkerInit) => { terminate(): void };

/** How the platform runs workers: Node's worker_threads or the browser's Web Workers. */
export interface WorkerPlatform {
  /** Starts a worker running `source` and sends it `init`. */
  readonly spawn: SpawnWorker;
  /** Wraps the worker body so it receives its init message (`self.onmessage`, `parentPort`…). */
  readonly wrap: (body: string) => string;
  /** Whether this thread may block in Atomics.wait (not a browser's main thread). */
  readonly canBlock: boolean;
}

type TaskFn = (...args: number[]) => void;

/**
 * Parts per thread a task is split into by default. The threads claim parts one at a time from
 * a shared counter, so a thread the OS deschedules (a busy core) holds up at most the part it
 * is running, and a worker still asleep takes none: the others run its share.
 */
const PARTS_PER_THREAD = 4;

/**
 * A pool of workers sharing the module's memory. `run` splits one task into parts that every
 * thread, the calling one (thread 0) included, claims until none is left, and returns when all
 * are done. Workers start asynchronously; until all report ready, tasks run on the calling
 * thread alone.
 */
export class ThreadPool {
  readonly threads: number;
  private readonly control: Int32Array;
  private readonly args: Float64Array;
  private readonly taskIndex = new Map<string, number>();
  private readonly workers: { terminate(): void }[] = [];
  private started = false;

  constructor(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    controlPtr: number,
    threads: number,
    private readonly platform: WorkerPlatform | undefined,
    private readonly exports: Record<string, unknown>,
    tasks: readonly string[],
  ) {
    this.threads = platform ? Math.max(1, threads) : 1;
    this.control = new Int32Array(memory.buffer, controlPtr, Control.words);
    this.args = new Float64Array(memory.buffer, controlPtr + Control.words * 4, Control.maxArgs);
    Atomics.store(this.control, Control.joined, Control.closed);
    tasks.forEach((name, i) => {
      this.taskIndex.set(name, i);
    });
    if (this.threads > 1 && platform) {
      const source = platform.wrap(`(${workerMain.toString()})`);
      for (let index = 1; index < this.threads; index++) {
        const init: WorkerInit = { module, memory, control: controlPtr, index, tasks, layout: Control };
        this.workers.push(platform.spawn(source, init));
      }
    }
  }

  /** True once every worker is waiting for tasks. */
  get ready(): boolean {
    // One thread means no workers, and possibly an unshared memory whose views detach on growth.
    if (this.threads === 1) return false;
    if (!this.started) this.started = Atomics.load(this.control, Control.ready) === this.threads - 1;
    return this.started;
  }

  /** The number of threads a task started now would use. */
  get activeThreads(): number {
    return this.ready ? this.threads : 1;
  }

  /**
   * Runs export `name(...args, part, parts, thread)` for every part in [0, parts) across the
   * threads and waits until all parts are done. With `parallel` false (small work), runs it on
   * this thread as one part. `thread` indexes per-thread scratch space; `parts` defaults to
   * four per thread.
   */
  run(name: string, args: readonly number[], parallel = true, parts = this.threads * PARTS_PER_THREAD): void {
    const fn = this.exports[name] as TaskFn;
    if (!parallel || !this.ready || parts <= 1) {
      fn(...args, 0, 1, 0);
      return;
    }
    this.open(name, args, parts, false);
    const { control } = this;
    const call = [...args, 0, parts, 0];
    for (
      let part = Atomics.add(control, Control.next, 1);
      part < parts;
      part = Atomics.add(control, Control.next, 1)
    ) {
      call[args.length] = part;
      fn(...call);
    }
    this.closeAndWait();
  }

  /**
   * Runs export `name(...args, thread, threads, thread)` once on every thread, workers asleep
   * included, and waits for all of them: for work each thread must do itself (such as
   * instantiating a module), not for splitting work. Before the workers are ready, runs it on
   * this thread only (a worker starting later must do that work as it starts).
   */
  broadcast(name: string, args: readonly number[]): void {
    const fn = this.exports[name] as TaskFn;
    if (!this.ready) {
      fn(...args, 0, 1, 0);
      return;
    }
    this.open(name, args, this.threads, true);
    fn(...args, 0, this.threads, 0);
    // Workers count themselves in `next` as they finish.
    this.waitUntil(Control.next, (finished) => finished === this.threads - 1);
    this.closeAndWait();
  }

  /** Writes a task to the control block, opens it (no worker inside, not closed) and wakes the workers. */
  private open(name: string, args: readonly number[], parts: number, broadcast: boolean): void {
    const task = this.taskIndex.get(name);
    if (task === undefined) throw new Error(`backend-wasm: ${name} is not a pool task`);
    const { control } = this;
    for (let i = 0; i < args.length; i++) this.args[i] = args[i];
    control[Control.task] = task;
    control[Control.argCount] = args.length;
    control[Control.parts] = parts;
    control[Control.broadcast] = broadcast ? 1 : 0;
    Atomics.store(control, Control.next, 0);
    Atomics.store(control, Control.joined, 0);
    Atomics.add(control, Control.generation, 1);
    Atomics.notify(control, Control.generation);
  }

  /** Closes the current task to latecomers and waits for the workers inside it to leave. */
  private closeAndWait(): void {
    Atomics.or(this.control, Control.joined, Control.closed);
    this.waitUntil(Control.joined, (joined) => joined === Control.closed);
  }

  /**
   * Waits until control word `index` satisfies `done`: spins first (workers usually finish
   * within microseconds of this thread), then sleeps where this thread may block.
   */
  private waitUntil(index: number, done: (value: number) => boolean): void {
    const { control } = this;
    for (let spin = 0; spin < 20000 && !done(Atomics.load(control, index)); spin++);
    for (let value = Atomics.load(control, index); !done(value); value = Atomics.load(control, index)) {
      if (this.platform?.canBlock) Atomics.wait(control, index, value, 1000);
    }
  }

  /** Stops and terminates the workers. */
  close(): void {
    Atomics.store(this.control, Control.stop, 1);
    Atomics.add(this.control, Control.generation, 1);
    Atomics.notify(this.control, Control.generation);
    for (const worker of this.workers) worker.terminate();
  }
}
