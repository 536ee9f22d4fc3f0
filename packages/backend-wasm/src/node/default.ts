import { sweepDeadArrays, useFinalizationRegistry } from '@tsgrad/tensor';
import { createWasmBackend, type WasmBackend } from '../backend.js';
import type { RuntimeOptions } from '../runtime.js';
import { nodeThreads, nodeWorkerPlatform } from './platform.js';
import { type Collector, createCollector, enableRelaxedSimd } from './v8.js';

/** One per process: its registry replaces tensor's the first time it is needed. */
let collector: Collector | null | undefined;

function processCollector(): Collector | null {
  if (collector === undefined) {
    collector = createCollector() ?? null;
    if (collector) useFinalizationRegistry(collector.FinalizationRegistry);
  }
  return collector;
}

/**
 * Runs a full garbage collection and frees, right away, the buffers of the arrays it collected
 * (what the memory does by itself before it grows).
 */
export function collectGarbage(): void {
  const found = processCollector();
  if (!found) return;
  found.gc();
  sweepDeadArrays();
}

/**
 * A wasm backend for Node: relaxed SIMD enabled, a worker_threads pool, and a memory that,
 * before it grows (once enough may be garbage, see `Allocator`), runs a full GC and frees the
 * buffers of the arrays the program dropped, so a loop that never yields to the event loop
 * still reuses its memory.
 */
export function createNodeWasmBackend(options: RuntimeOptions = {}): WasmBackend {
  enableRelaxedSimd();
  const backend = createWasmBackend({ platform: nodeWorkerPlatform, threads: nodeThreads(), ...options });
  if (processCollector()) backend.runtime.allocator.onPressure = collectGarbage;
  return backend;
}

let backend: WasmBackend | undefined;

/** The process's shared wasm backend. */
export function defaultWasmBackend(): WasmBackend {
  backend ??= createNodeWasmBackend();
  return backend;
}
