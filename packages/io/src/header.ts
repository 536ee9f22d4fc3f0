import { READABLE_DTYPES } from './dtypes.js';
import type { Fail } from './errors.js';
import { topLevelKeyOffsets, utf8LengthOf } from './json-keys.js';

/** The safetensors reference reader refuses headers over 100 MB. */
export const DEFAULT_MAX_HEADER_SIZE = 100_000_000;
export const METADATA_KEY = '__metadata__';

/** One tensor of the header, with its data range made absolute (file offsets). */
export interface HeaderEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

export interface Header {
  readonly entries: HeaderEntry[];
  readonly metadata: Record<string, string>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short description of a JSON value; never recursive, as hostile values nest deeply. */
function describe(value: Json | undefined): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) {
    const flat = value.length <= 8 && value.every((item) => item === null || typeof item !== 'object');
    return flat ? `[${value.map(describe).join(', ')}]` : `an array of ${value.length} items`;
  }
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Defines `key` as an own property, so that a name like "__proto__" is just a name. */
export function setOwn<V>(target: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The JSON header: length prefix, size limit, UTF-8, JSON syntax, an object, unique keys. */
function readJson(
  bytes: Uint8Array,
  maxHeaderSize: number,
  fail: Fail,
): { json: Record<string, Json>; keys: Map<string, number>; end: number } {
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`, 0);
  const prefix = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const length = prefix.getUint32(4, true) * 2 ** 32 + prefix.getUint32(0, true);
  if (length > maxHeaderSize) fail(`header length ${length} is over the limit of ${maxHeaderSize} bytes`, 0);
  if (8 + length > bytes.length) {
    fail(`header length ${length} runs past the end of the file (${bytes.length} bytes)`, 0);
  }
  let text: string;
  try {
    text = utf8.decode(bytes.subarray(8, 8 + length));
  } catch {
    return fail('header is not valid UTF-8', 8);
  }
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // V8 names the failing character ("at position 7"); other engines get the header start.
    const position = /position (\d+)/.exec(message);
    const at = position ? 8 + utf8LengthOf(text.slice(0, Number(position[1]))) : 8;
    return fail(`header is not valid JSON (${message})`, at);
  }
  if (!isObject(json)) fail(`header must be a JSON object, got ${describe(json)}`, 8);
  return { json, keys: topLevelKeyOffsets(text, 8, fail), end: 8 + length };
}

function readMetadata(value: Json, at: number, fail: Fail): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (value === null) return metadata;
  if (!isObject(value)) fail(`${METADATA_KEY} must be an object of strings, got ${describe(value)}`, at);
  for (const [key, text] of Object.entries(value)) {
    if (typeof text !== 'string') {
      fail(`${METADATA_KEY} value of ${JSON.stringify(key)} must be a string, got ${describe(text)}`, at);
    }
    setOwn(metadata, key, text);
  }
  return metadata;
}

const isCount = (value: Json): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Element count × element size, capped just past the safe integers (beyond any file size). */
function byteSize(shape: number[], size: number): number {
  if (shape.includes(0)) return 0;
  return shape.reduce((total, dim) => Math.min(total * dim, Number.MAX_SAFE_INTEGER + 1), size);
}

function readEntry(
  name: string,
  value: Json,
  at: number,
  dataStart: number,
  dataLength: number,
  fail: Fail,
): HeaderEntry {
  const what = `tensor ${JSON.stringify(name)}`;
  if (!isObject(value)) fail(`${what}: entry must be an object, got ${describe(value)}`, at);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') fail(`${what}: dtype must be a string, got ${describe(dtype)}`, at);
  if (!Object.hasOwn(READABLE_DTYPES, dtype)) {
    fail(
      `${what}: unknown or unsupported dtype ${JSON.stringify(dtype)} (tsgrad reads ${Object.keys(READABLE_DTYPES).join(', ')})`,
      at,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    fail(`${what}: shape must be a list of non-negative integers, got ${describe(shape)}`, at);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    fail(
      `${what}: data_offsets must be [begin, end] with non-negative integers, got ${describe(offsets)}`,
      at,
    );
  }
  const [begin, end] = offsets as number[];
  if (begin > end) fail(`${what}: data_offsets [${begin}, ${end}] end before they begin`, at);
  if (end > dataLength) {
    fail(
      `${what}: data_offsets [${begin}, ${end}] are out of range: the data section has ${dataLength} bytes`,
      at,
    );
  }
  const expected = byteSize(shape, READABLE_DTYPES[dtype].size);
  if (end - begin !== expected) {
    const bytes = expected > Number.MAX_SAFE_INTEGER ? 'too many' : String(expected);
    fail(
      `${what}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} × [${shape.join(', ')}] needs ${bytes}`,
      at,
    );
  }
  return { name, dtype, shape, begin: dataStart + begin, end: dataStart + end };
}

/** The tensors' ranges must tile the data section exactly: no overlap, no gap, nothing after. */
function checkCoverage(entries: HeaderEntry[], dataStart: number, fileEnd: number, fail: Fail): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = dataStart;
  let previous: HeaderEntry | undefined;
  for (const entry of sorted) {
    const range = `tensor ${JSON.stringify(entry.name)} (bytes ${entry.begin}..${entry.end})`;
    if (entry.begin < covered) {
      fail(
        `${range} overlaps tensor ${JSON.stringify(previous?.name)} (bytes ${previous?.begin}..${covered})`,
        entry.begin,
      );
    }
    if (entry.begin > covered) {
      fail(`${range} leaves a gap of ${entry.begin - covered} unused bytes before it`, covered);
    }
    covered = entry.end;
    previous = entry;
  }
  if (covered < fileEnd) {
    fail(`${fileEnd - covered} bytes after the last tensor's data are not covered by any tensor`, covered);
  }
}

/** Parses and checks the header of a safetensors file: everything but the tensor values. */
export function readHeader(bytes: Uint8Array, maxHeaderSize: number, fail: Fail): Header {
  const { json, keys, end: dataStart } = readJson(bytes, maxHeaderSize, fail);
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    const at = keys.get(name) ?? 8;
    if (name === METADATA_KEY) metadata = readMetadata(value, at, fail);
    else entries.push(readEntry(name, value, at, dataStart, dataLength, fail));
  }
  checkCoverage(entries, dataStart, bytes.length, fail);
  return { entries, metadata };
}
