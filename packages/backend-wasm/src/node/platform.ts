import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WorkerPlatform } from '../pool.js';

/** Node's worker_threads; the workers do not keep the process alive. */
export const nodeWorkerPlatform: WorkerPlatform = {
  canBlock: true,
  wrap: (body) => `require('node:worker_threads').parentPort.once('message', ${body});`,
  spawn(source, init) {
    const worker = new Worker(source, { eval: true });
    worker.unref();
    worker.postMessage(init);
    return worker;
  },
};

/** Threads to use: TSGRAD_THREADS if set, else the cores available (at most 8). */
export function nodeThreads(): number {
  const fromEnv = Number(process.env.TSGRAD_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return Math.min(8, availableParallelism());
}
