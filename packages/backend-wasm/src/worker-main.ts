import type { Control } from './control.js';

/** What a worker receives when it starts. */
export interface WorkerInit {
  /** The compiled kernel module, instantiated again in the worker. */
  readonly module: WebAssembly.Module;
  /** The shared memory the worker's instance imports. */
  readonly memory: WebAssembly.Memory;
  /** Byte offset of the control block. */
  readonly control: number;
  /** This worker's thread index (the main thread is 0). */
  readonly index: number;
  /** Exports the main thread may hand out as tasks, by task index. */
  readonly tasks: readonly string[];
  /** The field offsets of the control block. */
  readonly layout: typeof Control;
}

type TaskFn = (...args: number[]) => void;

/**
 * The body of every pool worker. It runs in a worker's global scope from its source text
 * (`workerSource`), so it must not refer to anything outside itself: the layout comes in
 * `init`. A task export takes its arguments followed by (part, parts, thread index).
 */
export function workerMain(init: WorkerInit): void {
  const { layout: L } = init;
  const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  const control = new Int32Array(init.memory.buffer, init.control, L.words);
  const args = new Float64Array(init.memory.buffer, init.control + L.words * 4, L.maxArgs);
  // Kernels generated at run time (generated.ts): the main thread sends each one's bytes
  // through the memory once (loadGenerated), then runs it by its index (runGenerated).
  const generated: TaskFn[] = [];
  const builtins: Record<string, TaskFn> = {
    loadGenerated: (ptr, length) => {
      const module = new WebAssembly.Module(new Uint8Array(init.memory.buffer, ptr, length).slice());
      const imports = {
        env: { memory: init.memory },
        kernels: instance.exports,
        math: Math as unknown as WebAssembly.ModuleImports,
      };
      generated.push(new WebAssembly.Instance(module, imports).exports.run as TaskFn);
    },
    runGenerated: (id, args, begin, end, grain, part, parts) => {
      // The same split as GeneratedKernels.runPart (this body cannot import it).
      const share = Math.ceil((end - begin) / parts / grain) * grain;
      const from = begin + part * share;
      if (from < end) generated[id](args, from, Math.min(end, from + share));
    },
  };
  const tasks = init.tasks.map((name) => builtins[name] ?? (instance.exports[name] as TaskFn));
  Atomics.add(control, L.ready, 1);
  let seen = Atomics.load(control, L.generation);
  for (;;) {
    // Spin for about a millisecond before sleeping: a training step hands out tasks in quick
    // succession, and waking a sleeping worker costs 10–50 µs each time.
    for (let spin = 0; spin < 100000 && Atomics.load(control, L.generation) === seen; spin++);
    Atomics.wait(control, L.generation, seen);
    seen = Atomics.load(control, L.generation);
    if (Atomics.load(control, L.stop) === 1) return;
    // Join the task unless the main thread closed it (it then ran every part itself). The
    // arguments are read after joining: they do not change until every joined worker left.
    let joined = Atomics.load(control, L.joined);
    while ((joined & L.closed) === 0) {
      const found = Atomics.compareExchange(control, L.joined, joined, joined + 1);
      if (found === joined) break;
      joined = found;
    }
    if ((joined & L.closed) !== 0) continue;
    // The generation cannot change while this worker is inside: it is the task's own, and
    // waiting on it keeps this worker from joining the same task twice.
    seen = Atomics.load(control, L.generation);
    const task = tasks[control[L.task]];
    const count = control[L.argCount];
    const call: number[] = [];
    for (let i = 0; i < count; i++) call.push(args[i]);
    const parts = control[L.parts];
    call.push(0, parts, init.index);
    if (control[L.broadcast] === 1) {
      call[count] = init.index;
      task(...call);
      Atomics.add(control, L.next, 1);
      Atomics.notify(control, L.next);
    } else {
      for (let part = Atomics.add(control, L.next, 1); part < parts; part = Atomics.add(control, L.next, 1)) {
        call[count] = part;
        task(...call);
      }
    }
    Atomics.sub(control, L.joined, 1);
    Atomics.notify(control, L.joined);
  }
}
