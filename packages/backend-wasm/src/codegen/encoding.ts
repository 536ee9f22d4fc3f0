import { ValueError } from '@tsgrad/tensor';

// The binary encodings of the WebAssembly format that the module builder needs: LEB128
// integers, IEEE floats in little-endian order, names and length-prefixed vectors.

/** An unsigned integer as unsigned LEB128 (7 bits a byte, low first, high bit = more). */
export function unsignedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ValueError('codegen', `${value} is not a u32`);
  }
  const bytes: number[] = [];
  let rest = value;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (rest !== 0);
  return bytes;
}

/** A 32-bit integer as signed LEB128 (the encoding of i32.const). */
export function signedLeb128(value: number): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new ValueError('codegen', `${value} is not an i32`);
  }
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    // Done when the rest is all sign bits and the byte's top bit carries that sign.
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      bytes.push(byte);
      return bytes;
    }
    bytes.push(byte | 0x80);
  }
}

export function float32Bytes(value: number): number[] {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  return Array.from(new Uint8Array(view.buffer));
}

export function float64Bytes(value: number): number[] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value, true);
  return Array.from(new Uint8Array(view.buffer));
}

/** A UTF-8 name, length first. */
export function nameBytes(name: string): number[] {
  const utf8 = new TextEncoder().encode(name);
  return [...unsignedLeb128(utf8.length), ...utf8];
}

/** A vector: the item count, then the items' bytes. */
export function vectorBytes(items: readonly (readonly number[])[]): number[] {
  return [...unsignedLeb128(items.length), ...items.flat()];
}

/** A section: its id, its byte length, its contents. */
export function sectionBytes(id: number, contents: readonly number[]): number[] {
  return [id, ...unsignedLeb128(contents.length), ...contents];
}
