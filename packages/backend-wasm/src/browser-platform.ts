import type { WorkerPlatform } from './pool.js';

/**
 * Web Workers, when the page is cross-origin isolated (SharedArrayBuffer needs it);
 * undefined otherwise, and the backend runs on one thread.
 */
export function browserWorkerPlatform(): WorkerPlatform | undefined {
  const scope = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (!scope.crossOriginIsolated || typeof Worker === 'undefined') return undefined;
  return {
    canBlock: false,
    wrap: (body) => `self.onmessage = (event) => { self.onmessage = null; ${body}(event.data); };`,
    spawn(source, init) {
      const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      const worker = new Worker(url);
      worker.postMessage(init);
      return worker;
    },
  };
}

/** Threads to use in a browser: the reported core count, at most 8. */
export function browserThreads(): number {
  const cores = typeof navigator === 'undefined' ? 1 : (navigator.hardwareConcurrency ?? 1);
  return Math.min(8, Math.max(1, cores));
}
