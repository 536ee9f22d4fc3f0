import type { Backend } from './backend.js';
import type { DType } from './dtype.js';

/**
 * A buffer in a backend's memory, shared by every array that views it. It is freed when the
 * last view is disposed, or, when the views are dropped without `dispose`, once the garbage
 * collector has collected the storage (a FinalizationRegistry is the safety net).
 */
export class Storage {
  private views = 0;
  /** What the registry frees if the storage is collected while it still holds its buffer. */
  private readonly buffer: Buffer | undefined;

  constructor(
    readonly backend: Backend,
    readonly handle: unknown,
    readonly dtype: DType,
    readonly size: number,
  ) {
    // Registered once per buffer, not per view, and without an unregister token (the token
    // table makes registration and collection several times slower): a buffer freed by
    // `release` is marked, and the registry skips it.
    if (backend.free) {
      this.buffer = { backend, handle, dtype, freed: false };
      registry.register(this, this.buffer);
      if (++registrations % CLEANUP_EVERY === 0) sweepDeadArrays();
    }
  }

  retain(): void {
    this.views++;
  }

  release(): void {
    if (--this.views === 0 && this.buffer) freeBuffer(this.buffer);
  }

  get live(): boolean {
    return this.views > 0;
  }
}

/** What the registry needs to free a collected storage's buffer. */
interface Buffer {
  readonly backend: Backend;
  readonly handle: unknown;
  readonly dtype: DType;
  freed: boolean;
}

type Registry = FinalizationRegistry<Buffer> & { cleanupSome?(): void };
type RegistryConstructor = new (cleanup: (buffer: Buffer) => void) => Registry;

function freeBuffer(buffer: Buffer): void {
  if (buffer.freed) return;
  buffer.freed = true;
  buffer.backend.free?.(buffer.handle, buffer.dtype);
}
let registry: Registry = new FinalizationRegistry<Buffer>(freeBuffer);
/**
 * Registrations between two `cleanupSome` calls: registry entries of collected storages wait
 * for a cleanup, which a loop that never yields to the event loop would never get.
 */
const CLEANUP_EVERY = 4096;
let registrations = 0;
/** Registries replaced by `useFinalizationRegistry` that may still hold registrations. */
const retired: Registry[] = [];

/**
 * Tracks arrays from now on with a registry made by `Registry`, e.g. one from a context
 * where `cleanupSome` exists, so that `sweepDeadArrays` can free collected arrays at once.
 */
export function useFinalizationRegistry(Registry: RegistryConstructor): void {
  retired.push(registry);
  registry = new Registry(freeBuffer);
}

/**
 * Frees, right now, the buffers of arrays the garbage collector has already collected (when
 * the registry supports `cleanupSome`; otherwise the registry frees them in a later task).
 */
export function sweepDeadArrays(): void {
  registry.cleanupSome?.();
  for (const old of retired) old.cleanupSome?.();
}
