// NumPy's .npy format (versions 1.0, 2.0 and 3.0): the magic string "\x93NUMPY", a major and
// a minor version byte, the header length (uint16 LE in v1, uint32 LE in v2/v3), a header that
// is a Python dict literal {'descr': …, 'fortran_order': …, 'shape': (…)}, then the data.
import {
  allocTyped,
  array,
  checkRecord,
  contiguous,
  type DType,
  type NDArray,
  permute,
} from '@tsgrad/tensor';
import { type Fail, failIn } from '../errors.js';
import { checkBytes } from '../validate.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

interface Element {
  readonly size: number;
  readonly dtype: DType;
  read(view: DataView, at: number, little: boolean): number;
}

const int32Range = (v: number | bigint) => Number(v) >= -(2 ** 31) && Number(v) < 2 ** 31;

/** Element types by kind and size; 64-bit and uint32 integers are read as int32 when they fit. */
const ELEMENTS: Record<string, Element> = {
  b1: { size: 1, dtype: 'bool', read: (v, at) => Number(v.getUint8(at) !== 0) },
  i1: { size: 1, dtype: 'int32', read: (v, at) => v.getInt8(at) },
  u1: { size: 1, dtype: 'int32', read: (v, at) => v.getUint8(at) },
  i2: { size: 2, dtype: 'int32', read: (v, at, le) => v.getInt16(at, le) },
  u2: { size: 2, dtype: 'int32', read: (v, at, le) => v.getUint16(at, le) },
  i4: { size: 4, dtype: 'int32', read: (v, at, le) => v.getInt32(at, le) },
  u4: { size: 4, dtype: 'int32', read: (v, at, le) => v.getUint32(at, le) },
  i8: { size: 8, dtype: 'int32', read: (v, at, le) => Number(v.getBigInt64(at, le)) },
  u8: { size: 8, dtype: 'int32', read: (v, at, le) => Number(v.getBigUint64(at, le)) },
  f4: { size: 4, dtype: 'float32', read: (v, at, le) => v.getFloat32(at, le) },
  f8: { size: 8, dtype: 'float64', read: (v, at, le) => v.getFloat64(at, le) },
};

type HeaderValue = string | boolean | number | HeaderValue[] | { [key: string]: HeaderValue };

/**
 * A parser for the Python literals NPY headers use: dicts, strings, True/False/None, integers,
 * tuples and lists. Positions are reported as byte offsets in the file.
 */
class HeaderParser {
  private at = 0;

  constructor(
    private readonly text: string,
    private readonly byteOffsetOf: (charIndex: number) => number,
    private readonly fail: Fail,
  ) {}

  error(detail: string, at = this.at): never {
    return this.fail(`NPY header: ${detail}`, this.byteOffsetOf(at));
  }

  private skipSpace(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at])) this.at++;
  }

  private peek(): string {
    this.skipSpace();
    return this.text[this.at] ?? '';
  }

  private expect(char: string): void {
    if (this.peek() !== char) this.error(`expected '${char}', found ${this.describeHere()}`);
    this.at++;
  }

  private describeHere(): string {
    return this.at < this.text.length ? `'${this.text[this.at]}'` : 'the end of the header';
  }

  parseTop(): { value: HeaderValue; start: number } {
    this.skipSpace();
    const start = this.at;
    const value = this.value();
    this.skipSpace();
    if (this.at < this.text.length) this.error(`unexpected ${this.describeHere()} after the dict`);
    return { value, start };
  }

  /** The start position of each key's value in the last dict parsed. */
  readonly positions = new Map<string, number>();

  private value(): HeaderValue {
    const c = this.peek();
    if (c === '{') return this.dict();
    if (c === '(' || c === '[') return this.sequence(c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.string();
    const word = /^(True|False|None|[-+]?\d+)/.exec(this.text.slice(this.at));
    if (word === null) return this.error(`unexpected ${this.describeHere()}`);
    this.at += word[0].length;
    if (word[0] === 'True' || word[0] === 'False') return word[0] === 'True';
    if (word[0] === 'None') return 'None';
    return Number(word[0]);
  }

  private string(): string {
    const quote = this.text[this.at];
    const start = this.at++;
    let out = '';
    while (this.at < this.text.length && this.text[this.at] !== quote) {
      if (this.text[this.at] === '\\') this.at++;
      out += this.text[this.at++] ?? '';
    }
    if (this.at >= this.text.length) this.error('unterminated string', start);
    this.at++;
    return out;
  }

  private sequence(close: string): HeaderValue[] {
    this.at++;
    const items: HeaderValue[] = [];
    while (this.peek() !== close) {
      items.push(this.value());
      if (this.peek() === ',') this.at++;
      else if (this.peek() !== close) this.error(`expected ',' or '${close}', found ${this.describeHere()}`);
    }
    this.at++;
    return items;
  }

  private dict(): { [key: string]: HeaderValue } {
    this.at++;
    const out: { [key: string]: HeaderValue } = {};
    while (this.peek() !== '}') {
      const c = this.peek();
      if (c !== "'" && c !== '"') this.error(`expected a quoted key, found ${this.describeHere()}`);
      const key = this.string();
      this.expect(':');
      this.skipSpace();
      this.positions.set(key, this.at);
      out[key] = this.value();
      if (this.peek() === ',') this.at++;
      else if (this.peek() !== '}') this.error(`expected ',' or '}', found ${this.describeHere()}`);
    }
    this.at++;
    return out;
  }
}

interface NpyHeader {
  readonly element: Element;
  readonly littleEndian: boolean;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  readonly dataOffset: number;
}

function readHeader(bytes: Uint8Array, fail: Fail): NpyHeader {
  if (bytes.length < 10)
    fail(`the file has ${bytes.length} bytes, too few for the NPY preamble`, bytes.length);
  MAGIC.forEach((b, i) => {
    if (bytes[i] !== b) fail('bad magic string: NPY data starts with "\\x93NUMPY"', i);
  });
  const [major, minor] = [bytes[6], bytes[7]];
  if (major < 1 || major > 3)
    fail(`unsupported NPY format version ${major}.${minor} (1.0, 2.0 and 3.0 are)`, 6);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major > 1 && bytes.length < 12) fail('the file ends inside the header length', bytes.length);
  const headerStart = major === 1 ? 10 : 12;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = headerStart + headerLength;
  if (bytes.length < dataOffset) {
    fail(`the header is ${headerLength} bytes long, but the file ends first`, bytes.length);
  }
  const raw = bytes.subarray(headerStart, dataOffset);
  // v1 and v2 headers are latin-1 (one byte per character); v3 headers are UTF-8.
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(raw);
  const byteOffsetOf = (i: number) =>
    headerStart + (major === 3 ? new TextEncoder().encode(text.slice(0, i)).length : i);
  const parser: HeaderParser = new HeaderParser(text, byteOffsetOf, fail);
  const { value, start } = parser.parseTop();
  if (typeof value !== 'object' || Array.isArray(value)) parser.error('the header is not a dict', start);
  const keys = Object.keys(value).sort().join(', ');
  if (keys !== 'descr, fortran_order, shape') {
    parser.error(
      `the dict must have exactly the keys descr, fortran_order and shape, got ${keys || 'none'}`,
      start,
    );
  }
  const at = (key: string) => parser.positions.get(key) ?? start;
  const { descr, fortran_order: fortranOrder, shape } = value;
  if (typeof descr !== 'string')
    parser.error('descr is not a string (structured dtypes are not supported)', at('descr'));
  const match = /^([<>|=])([a-z]\d+)$/.exec(descr);
  const element = match === null ? undefined : ELEMENTS[match[2]];
  if (match === null || element === undefined) {
    parser.error(
      `unsupported dtype '${descr}' (supported: b1, i1, u1, i2, u2, i4, u4, i8, u8, f4, f8, in either byte order)`,
      at('descr'),
    );
  }
  if (typeof fortranOrder !== 'boolean')
    parser.error('fortran_order is not True or False', at('fortran_order'));
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || d < 0)) {
    parser.error('shape is not a tuple of non-negative integers', at('shape'));
  }
  return { element, littleEndian: match[1] !== '>', fortranOrder, shape: shape as number[], dataOffset };
}

/** Options of `parseNpy`. */
export interface ParseNpyOptions {
  /** The file the bytes came from, named in errors. */
  readonly file?: string;
}

/**
 * Parses NPY bytes into an NDArray. f4/f8 keep their type; b1 gives bool; integer types give
 * int32 (64-bit and uint32 values must fit it); big-endian data is converted; Fortran-order
 * data is transposed into row-major order. Malformed data throws DataFormatError.
 */
export function parseNpy(bytes: Uint8Array, options: ParseNpyOptions = {}): NDArray {
  checkBytes('parseNpy', bytes);
  checkRecord('parseNpy', 'options', options);
  const fail: Fail = failIn('npy', options.file);
  const { element, littleEndian, fortranOrder, shape, dataOffset } = readHeader(bytes, fail);
  const count = shape.reduce((p, d) => p * d, 1);
  const expected = count * element.size;
  const available = bytes.length - dataOffset;
  const described = `shape (${shape.join(', ')}) of ${element.size}-byte elements needs ${expected} data bytes`;
  if (available < expected)
    fail(`truncated data: ${described}, but only ${available} follow the header`, bytes.length);
  if (available > expected)
    fail(`${available - expected} bytes after the data: ${described}`, dataOffset + expected);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = allocTyped(element.dtype, count);
  for (let i = 0; i < count; i++) {
    const at = dataOffset + i * element.size;
    const value = element.read(view, at, littleEndian);
    if (element.dtype === 'int32' && element.size >= 4 && !int32Range(value)) {
      fail(`integer ${value} does not fit int32`, at);
    }
    out[i] = value;
  }
  if (!fortranOrder) return array(out, { shape, dtype: element.dtype });
  // Fortran order is row-major order of the reversed shape; reversing the axes undoes it.
  const reversed = array(out, { shape: [...shape].reverse(), dtype: element.dtype });
  return contiguous(
    permute(
      reversed,
      shape.map((_, i) => shape.length - 1 - i),
    ),
  );
}
