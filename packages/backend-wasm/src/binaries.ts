import * as binaries from './generated/binaries.js';

/** Which build of the kernels to instantiate. */
export interface Variant {
  /** Relaxed SIMD (fused multiply-add); needs engine support. */
  readonly relaxed: boolean;
  /** A shared memory, which threads need. */
  readonly shared: boolean;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The wasm bytes of one variant. */
export function binaryFor(variant: Variant): Uint8Array<ArrayBuffer> {
  if (variant.relaxed) return decode(variant.shared ? binaries.relaxedShared : binaries.relaxed);
  return decode(variant.shared ? binaries.simdShared : binaries.simd);
}

/** Whether this engine accepts the relaxed-SIMD build (Node 20 needs a V8 flag first). */
export function relaxedSimdSupported(shared: boolean): boolean {
  return WebAssembly.validate(binaryFor({ relaxed: true, shared }));
}
