import { setFlagsFromString } from 'node:v8';
import { createContext, runInContext } from 'node:vm';

/** Lets this process compile relaxed-SIMD wasm (on by default from Node 22). */
export function enableRelaxedSimd(): void {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/** A synchronous full garbage collection and a FinalizationRegistry with `cleanupSome`. */
export interface Collector {
  readonly gc: () => void;
  readonly FinalizationRegistry: FinalizationRegistryConstructor;
}

/**
 * Node exposes `gc` and `FinalizationRegistry.prototype.cleanupSome` only behind V8 flags,
 * which take effect in contexts created after they are set: so set them and take both from a
 * fresh context. Returns undefined if this V8 does not provide them.
 */
export function createCollector(): Collector | undefined {
  setFlagsFromString('--expose-gc');
  setFlagsFromString('--harmony-weak-refs-with-cleanup-some');
  const context = createContext({});
  const gc = runInContext('typeof gc === "function" ? gc : undefined', context) as (() => void) | undefined;
  const Registry = runInContext('FinalizationRegistry', context) as FinalizationRegistryConstructor;
  if (!gc || typeof Registry.prototype.cleanupSome !== 'function') return undefined;
  return { gc, FinalizationRegistry: Registry };
}

declare global {
  interface FinalizationRegistry<T> {
    cleanupSome?(callback?: (held: T) => void): void;
  }
}
