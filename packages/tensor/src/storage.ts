import type { Backend } from './backend.js';
import type { DType } from './dtype.js';

/**
 * A buffer in a backend's memory, shared by every array that views it. It is freed when the
 * last view is disposed or garbage-collected (a FinalizationRegistry is the safety net).
 */
export class Storage {
  private views = 0;

  constructor(
    readonly backend: Backend,
    readonly handle: unknown,
    readonly dtype: DType,
    readonly size: number,
  ) {}

  retain(): void {
    this.views++;
  }

  release(): void {
    if (--this.views === 0) this.backend.free?.(this.handle, this.dtype);
  }

  get live(): boolean {
    return this.views > 0;
  }
}

const registry = new FinalizationRegistry<Storage>((storage) => storage.release());

/** Ties a view's lifetime to its storage; returns the token used to unregister it. */
export function trackView(view: object, storage: Storage): void {
  storage.retain();
  if (storage.backend.free) registry.register(view, storage, view);
}

export function untrackView(view: object, storage: Storage): void {
  if (storage.backend.free) registry.unregister(view);
  storage.release();
}
