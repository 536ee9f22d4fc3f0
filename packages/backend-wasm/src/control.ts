/**
 * The layout of the pool's control block, a few words of shared memory through which the main
 * thread hands a task to the workers and waits for them to finish.
 */
export const Control = {
  /** Bumped for every task; workers sleep on it. */
  generation: 0,
  /** Workers that finished the current task. */
  done: 1,
  /** Workers that have instantiated the module and are waiting for tasks. */
  ready: 2,
  /** Set to 1 to make the workers exit. */
  stop: 3,
  /** Index of the export to run, in the task name list. */
  task: 4,
  /** Number of arguments. */
  argCount: 5,
  /** Threads taking part in every task: the main thread and all workers. */
  threads: 6,
  /** Int32 words before the float64 argument area. */
  words: 8,
  /** Maximum number of task arguments. */
  maxArgs: 24,
} as const;

/** Bytes of the control block. */
export const CONTROL_BYTES = Control.words * 4 + Control.maxArgs * 8;
