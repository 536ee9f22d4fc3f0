import type { Backend } from './backend.js';
import type { DType } from './dtype.js';

/**
 * A value not computed yet: a deferred elementwise expression (lazy.ts). Storage knows it only
 * through this interface, so that the expression code can build on Storage.
 */
export interface Pending {
  /** Computes the value into a new buffer of the storage's dtype and size; returns its handle. */
  compute(): unknown;
  /** Drops the expression without computing it (the storage was disposed or collected). */
  release(): void;
}

/**
 * A buffer in a backend's memory, shared by every array that views it. It is freed when the
 * last view is disposed, or, when the views are dropped without `dispose`, once the garbage
 * collector has collected the storage (a FinalizationRegistry is the safety net).
 *
 * A pending storage holds an expression instead of a buffer: the first read of `handle`
 * computes it (see lazy.ts); disposing or collecting it first computes nothing.
 */
export class Storage {
  private views = 0;
  /** Pending expressions (lazy.ts) that read this buffer: an in-place write must not run under them. */
  pendingReaders = 0;
  /** What the registry frees if the storage is collected while it still holds its buffer or expression. */
  private readonly buffer: Buffer | undefined;
  private current: unknown;

  constructor(
    readonly backend: Backend,
    handle: unknown,
    readonly dtype: DType,
    readonly size: number,
    pending?: Pending,
  ) {
    this.current = handle;
    // Registered once per buffer, not per view, and without an unregister token (the token
    // table makes registration and collection several times slower): a buffer freed by
    // `release` is marked, and the registry skips it.
    if (backend.free || pending) {
      this.buffer = { backend, handle, dtype, freed: false, pending };
      registry.register(this, this.buffer);
      if (++registrations % CLEANUP_EVERY === 0) sweepDeadArrays();
    }
  }

  /** The backend's handle of the buffer; a pending storage computes its value first. */
  get handle(): unknown {
    const pending = this.buffer?.pending;
    if (pending !== undefined) this.materialize(pending);
    return this.current;
  }

  /** The expression this storage will compute on first use (undefined once it holds a buffer). */
  get pending(): Pending | undefined {
    return this.buffer?.pending;
  }

  private materialize(pending: Pending): void {
    const buffer = this.buffer as Buffer;
    const handle = pending.compute();
    this.current = handle;
    buffer.handle = handle;
    buffer.pending = undefined;
    pending.release();
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

/** What the registry needs to free a collected storage's buffer (or drop its expression). */
interface Buffer {
  readonly backend: Backend;
  handle: unknown;
  readonly dtype: DType;
  freed: boolean;
  pending: Pending | undefined;
}

type Registry = FinalizationRegistry<Buffer> & { cleanupSome?(): void };
type RegistryConstructor = new (cleanup: (buffer: Buffer) => void) => Registry;

function freeBuffer(buffer: Buffer): void {
  if (buffer.freed) return;
  buffer.freed = true;
  const { pending } = buffer;
  if (pending !== undefined) {
    buffer.pending = undefined;
    pending.release();
  } else buffer.backend.free?.(buffer.handle, buffer.dtype);
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
