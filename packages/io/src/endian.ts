/** Safetensors data is little-endian; typed arrays use the host's byte order. */
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Converts elements of `size` bytes between little-endian and host order, in place. */
export function toFromLittleEndian(bytes: Uint8Array, size: number): Uint8Array {
  if (littleEndianHost || size === 1) return bytes;
  for (let at = 0; at < bytes.length; at += size) bytes.subarray(at, at + size).reverse();
  return bytes;
}
