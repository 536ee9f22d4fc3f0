import { Tensor } from '@tsgrad/autograd';
import { describe, NDArray, ValueError } from '@tsgrad/tensor';
import { WRITE_RANK, WRITTEN_DTYPES } from './dtypes.js';
import { toFromLittleEndian } from './endian.js';
import { METADATA_KEY } from './header.js';

/** A state dict: parameter names (dotted, as PyTorch's) to tensors or raw arrays. */
export type StateDict = Record<string, Tensor | NDArray>;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Names must survive UTF-8: a lone surrogate has no encoding, and other readers reject it. */
function checkText(what: string, text: string): void {
  if (LONE_SURROGATE.test(text)) {
    throw new ValueError(
      'toBytes',
      `${what} ${JSON.stringify(text)} is not valid Unicode (a lone surrogate)`,
    );
  }
}

/** Orders strings as their UTF-8 bytes compare, which is code point order (as Rust sorts). */
function compareCodePoints(a: string, b: string): number {
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

function arrayOf(name: string, value: Tensor | NDArray): NDArray {
  if (value instanceof Tensor) return value.value;
  if (value instanceof NDArray) return value;
  throw new ValueError('toBytes', `${JSON.stringify(name)} is not a Tensor or an NDArray`);
}

function headerJson(
  names: string[],
  arrays: NDArray[],
  metadata: Record<string, string> | undefined,
): string {
  const fields: string[] = [];
  if (metadata !== undefined) {
    const pairs = Object.keys(metadata)
      .sort(compareCodePoints)
      .map((key) => `${JSON.stringify(key)}:${JSON.stringify(metadata[key])}`);
    fields.push(`"${METADATA_KEY}":{${pairs.join(',')}}`);
  }
  let offset = 0;
  names.forEach((name, i) => {
    const { dtype, shape, size } = arrays[i];
    const end = offset + size * WRITTEN_DTYPES[dtype].size;
    const info = `{"dtype":"${WRITTEN_DTYPES[dtype].name}","shape":[${shape.join(',')}],"data_offsets":[${offset},${end}]}`;
    fields.push(`${JSON.stringify(name)}:${info}`);
    offset = end;
  });
  return `{${fields.join(',')}}`;
}

/**
 * A safetensors file holding `tensors` (Tensors or NDArrays of any dtype, written as F32, F64,
 * I32 or BOOL) and the `metadata` string map. The layout is the reference implementation's:
 * tensors by descending dtype alignment then name, the header padded with spaces to a
 * multiple of 8 bytes, data little-endian and row-major.
 */
export function toBytes(tensors: StateDict, metadata?: Record<string, string>): Uint8Array {
  for (const [what, value] of [
    ['tensors', tensors],
    ['metadata', metadata === undefined ? {} : metadata],
  ] as const) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ValueError('toBytes', `${what} must be a record, got ${describe(value)}`);
    }
  }
  for (const [key, text] of Object.entries(metadata ?? {})) {
    if (typeof text !== 'string') {
      throw new ValueError('toBytes', `metadata ${JSON.stringify(key)} must be a string`);
    }
    checkText('metadata key', key);
    checkText('metadata value', text);
  }
  const arrays = new Map<string, NDArray>();
  for (const [name, value] of Object.entries(tensors)) {
    if (name === METADATA_KEY) {
      throw new ValueError('toBytes', `${METADATA_KEY} is reserved and cannot name a tensor`);
    }
    checkText('tensor name', name);
    arrays.set(name, arrayOf(name, value));
  }
  const names = [...arrays.keys()].sort((a, b) => {
    const rank = WRITE_RANK[arrays.get(b)!.dtype] - WRITE_RANK[arrays.get(a)!.dtype];
    return rank || compareCodePoints(a, b);
  });
  const ordered = names.map((name) => arrays.get(name)!);
  const json = new TextEncoder().encode(headerJson(names, ordered, metadata));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const dataLength = ordered.reduce((total, a) => total + a.size * WRITTEN_DTYPES[a.dtype].size, 0);
  const out = new Uint8Array(8 + headerLength + dataLength);
  const prefix = new DataView(out.buffer);
  prefix.setUint32(0, headerLength % 2 ** 32, true);
  prefix.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const a of ordered) {
    const values = a.toTypedArray();
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    out.set(toFromLittleEndian(bytes, WRITTEN_DTYPES[a.dtype].size), at);
    at += bytes.length;
  }
  return out;
}
