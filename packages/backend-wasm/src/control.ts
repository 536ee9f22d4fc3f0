/**
 * The layout of the pool's control block, a few words of shared memory through which the main
 * thread hands a task to the workers and waits for the ones that joined it.
 */
export const Control = {
  /** Bumped for every task; workers sleep on it. */
  generation: 0,
  /**
   * Workers inside the current task, plus `closed` once the main thread has closed it: a worker
   * joins only an open task, so the main thread waits for workers that are running, never for
   * one that is asleep or descheduled.
   */
  joined: 1,
  /** Workers that have instantiated the module and are waiting for tasks. */
  ready: 2,
  /** Set to 1 to make the workers exit. */
  stop: 3,
  /** Index of the export to run, in the task name list. */
  task: 4,
  /** Number of arguments. */
  argCount: 5,
  /** The parts the current task is split into. */
  parts: 6,
  /**
   * The next part to claim: every thread takes parts from it until none is left. In a
   * broadcast, the workers that ran the task.
   */
  next: 7,
  /** 1 when every thread runs the task once (a broadcast) instead of claiming parts. */
  broadcast: 8,
  /** Int32 words before the float64 argument area (a multiple of 2, for its alignment). */
  words: 10,
  /** Maximum number of task arguments. */
  maxArgs: 24,
  /** The bit of `joined` that marks the task closed. */
  closed: 1 << 30,
} as const;

/** Bytes of the control block. */
export const CONTROL_BYTES = Control.words * 4 + Control.maxArgs * 8;
