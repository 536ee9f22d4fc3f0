import { fromBytes } from '@tsgrad/io';
import { describe, expect, it } from 'vitest';
import { expectSafetensorsError, makeFile } from './files.js';

const f32 = (shape: number[], begin: number, end: number) => ({
  dtype: 'F32',
  shape,
  data_offsets: [begin, end],
});

/** The byte offset of the `occurrence`-th `"name"` in the header of a file made from `header`. */
function keyOffset(header: string, name: string, occurrence = 0): number {
  let at = -1;
  for (let i = 0; i <= occurrence; i++) at = header.indexOf(JSON.stringify(name), at + 1);
  return 8 + new TextEncoder().encode(header.slice(0, at)).length;
}

/** Expects the file made from `header` and `data` to be rejected at the entry `name`. */
function expectEntryError(header: object | string, data: number[], name: string, pattern: RegExp): void {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  expectSafetensorsError(() => fromBytes(makeFile(text, data)), keyOffset(text, name), pattern);
}

describe('fromBytes rejects malformed files with the byte offset', () => {
  it('a file too short for the length prefix', () => {
    expectSafetensorsError(() => fromBytes(new Uint8Array(0)), 0, /file is 0 bytes, shorter than the 8-byte/);
    expectSafetensorsError(() => fromBytes(new Uint8Array(7)), 0, /file is 7 bytes/);
  });

  it('a header length past the end of the file', () => {
    const file = makeFile('{}', [], 100);
    expectSafetensorsError(
      () => fromBytes(file),
      0,
      /header length 100 runs past the end of the file \(10 bytes\)/,
    );
  });

  it('a header over the size limit, before reading it', () => {
    expectSafetensorsError(
      () => fromBytes(makeFile('{}', [], 2 ** 40)),
      0,
      /header length 1099511627776 is over the limit of 100000000/,
    );
    const huge = new Uint8Array(8).fill(0xff);
    expectSafetensorsError(() => fromBytes(huge), 0, /over the limit/);
    const file = makeFile({ x: f32([2], 0, 8) }, new Array(8).fill(0));
    expect(() => fromBytes(file, { maxHeaderSize: 64 })).not.toThrow();
    expectSafetensorsError(() => fromBytes(file, { maxHeaderSize: 16 }), 0, /over the limit of 16 bytes/);
  });

  it('a header that is not UTF-8 or not JSON', () => {
    const bad = makeFile('{"a"}');
    bad[10] = 0xff;
    expectSafetensorsError(() => fromBytes(bad), 8, /not valid UTF-8/);
    expectSafetensorsError(() => fromBytes(makeFile('{"a":1,}')), 15, /not valid JSON/);
    expectSafetensorsError(() => fromBytes(makeFile('{"ü":1')), 8 + 7, /not valid JSON/);
    expectSafetensorsError(() => fromBytes(makeFile('\ufeff{}')), 8, /not valid JSON/);
    expectSafetensorsError(() => fromBytes(makeFile('')), 8, /not valid JSON/);
  });

  it('a header that is not a JSON object', () => {
    for (const text of ['[1,2]', 'null', '5', '"x"', 'true']) {
      expectSafetensorsError(() => fromBytes(makeFile(text)), 8, /header must be a JSON object/);
    }
  });

  it('an entry that is not an object, or an unknown dtype', () => {
    expectEntryError({ a: 5 }, [], 'a', /tensor "a": entry must be an object, got 5/);
    expectEntryError({ a: null }, [], 'a', /entry must be an object/);
    expectEntryError(
      { ok: f32([0], 0, 0), b: { shape: [], data_offsets: [0, 0] } },
      [],
      'b',
      /dtype must be a string, got nothing/,
    );
    for (const dtype of ['Q4', 'F8_E4M3', 'f32', 'toString', '__proto__']) {
      expectEntryError(
        { x: { dtype, shape: [0], data_offsets: [0, 0] } },
        [],
        'x',
        /unknown or unsupported dtype/,
      );
    }
  });

  it('a shape with negative, non-integer or unsafe dims', () => {
    for (const shape of [[-1], [1.5], ['2'], 3, null, [2 ** 53], [[1]]]) {
      expectEntryError(
        { x: { dtype: 'F32', shape, data_offsets: [0, 4] } },
        [0, 0, 0, 0],
        'x',
        /shape must be a list of non-negative integers/,
      );
    }
  });

  it('data_offsets that are not [begin, end] integers', () => {
    for (const offsets of [
      [0],
      [0, 4, 8],
      [0.5, 4],
      [-1, 3],
      '0,4',
      null,
      { begin: 0, end: 4 },
      [0, 2 ** 60],
    ]) {
      expectEntryError(
        { x: { dtype: 'F32', shape: [1], data_offsets: offsets } },
        [0, 0, 0, 0],
        'x',
        /data_offsets must be \[begin, end\]/,
      );
    }
    expectEntryError({ x: { dtype: 'F32', shape: [1] } }, [0, 0, 0, 0], 'x', /data_offsets must be/);
    expectEntryError({ x: f32([0], 4, 0) }, [0, 0, 0, 0], 'x', /data_offsets \[4, 0\] end before they begin/);
  });

  it('data_offsets out of range', () => {
    expectEntryError(
      { x: f32([2], 0, 8) },
      [0, 0, 0, 0],
      'x',
      /\[0, 8\] are out of range: the data section has 4 bytes/,
    );
    expectEntryError({ x: f32([0], 9, 9) }, [0, 0, 0, 0], 'x', /out of range/);
  });

  it('a size that does not match dtype × shape', () => {
    expectEntryError(
      { x: f32([3], 0, 8) },
      new Array(8).fill(0),
      'x',
      /hold 8 bytes but F32 × \[3\] needs 12/,
    );
    expectEntryError(
      { x: { dtype: 'F64', shape: [], data_offsets: [0, 4] } },
      [0, 0, 0, 0],
      'x',
      /F64 × \[\] needs 8/,
    );
    const huge = 2 ** 40;
    expectEntryError({ x: f32([huge, huge, huge], 0, 4) }, [0, 0, 0, 0], 'x', /needs too many/);
  });

  it('overlapping ranges, gaps and bytes no tensor covers', () => {
    const data = new Array(12).fill(0);
    /** The file and the offset of its data section. */
    const withData = (header: object, bytes = data) => {
      const file = makeFile(header, bytes);
      return [file, file.length - bytes.length] as const;
    };
    const [overlap, a] = withData({ a: f32([2], 0, 8), b: f32([2], 4, 12) });
    expectSafetensorsError(
      () => fromBytes(overlap),
      a + 4,
      /tensor "b" \(bytes \d+\.\.\d+\) overlaps tensor "a"/,
    );
    const [inside, b] = withData({ a: f32([3], 0, 12), b: f32([0], 4, 4) });
    expectSafetensorsError(() => fromBytes(inside), b + 4, /tensor "b" .* overlaps tensor "a"/);
    const [same, c] = withData({ a: f32([3], 0, 12), b: f32([3], 0, 12) });
    expectSafetensorsError(() => fromBytes(same), c, /overlaps/);
    const [gap, d] = withData({ b: f32([1], 8, 12), a: f32([1], 0, 4) });
    expectSafetensorsError(
      () => fromBytes(gap),
      d + 4,
      /tensor "b" .* leaves a gap of 4 unused bytes before it/,
    );
    const [leading, e] = withData({ a: f32([2], 4, 12) });
    expectSafetensorsError(() => fromBytes(leading), e, /gap of 4 unused bytes/);
    const [trailing, f] = withData({ a: f32([2], 0, 8) });
    expectSafetensorsError(
      () => fromBytes(trailing),
      f + 8,
      /4 bytes after the last tensor's data are not covered/,
    );
    const [noTensors, g] = withData({}, [1, 2]);
    expectSafetensorsError(() => fromBytes(noTensors), g, /2 bytes after/);
  });

  it('duplicate names, and duplicate keys at any depth', () => {
    const twice =
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expectSafetensorsError(
      () => fromBytes(makeFile(twice, new Array(8).fill(0))),
      keyOffset(twice, 'a', 1),
      /duplicate key "a" in the header/,
    );
    const escaped =
      '{"ä":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"\\u00e4":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}';
    const second = 8 + new TextEncoder().encode(escaped.slice(0, escaped.indexOf('"\\u00e4"'))).length;
    expectSafetensorsError(() => fromBytes(makeFile(escaped)), second, /duplicate key "ä"/);
    const nested = '{"a":{"dtype":"F32","dtype":"F64","shape":[0],"data_offsets":[0,0]}}';
    expectSafetensorsError(
      () => fromBytes(makeFile(nested)),
      keyOffset(nested, 'dtype', 1),
      /duplicate key "dtype"/,
    );
    const meta = '{"__metadata__":{"k":"1","k":"2"}}';
    expectSafetensorsError(() => fromBytes(makeFile(meta)), keyOffset(meta, 'k', 1), /duplicate key "k"/);
    // Equal strings that are values, not keys, are fine.
    const values = '{"__metadata__":{"a":"a","b":"a"},"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}';
    expect(fromBytes(makeFile(values)).metadata).toEqual({ a: 'a', b: 'a' });
  });

  it('__metadata__ that is not a map of strings', () => {
    expectEntryError(
      { __metadata__: { format: 1 } },
      [],
      '__metadata__',
      /__metadata__ value of "format" must be a string, got 1/,
    );
    expectEntryError(
      { __metadata__: ['pt'] },
      [],
      '__metadata__',
      /__metadata__ must be an object of strings/,
    );
    expectEntryError({ __metadata__: 'pt' }, [], '__metadata__', /must be an object of strings/);
    expect(fromBytes(makeFile({ __metadata__: null })).metadata).toEqual({});
  });

  it('reports offsets in bytes, counting multi-byte UTF-8 names', () => {
    const header = { 'ü💡': f32([1], 0, 4), x: { dtype: 'BAD', shape: [], data_offsets: [4, 4] } };
    expectEntryError(header, [0, 0, 0, 0], 'x', /"x": unknown or unsupported dtype "BAD"/);
    expect(keyOffset(JSON.stringify(header), 'x')).toBe(
      8 + 1 + 9 + JSON.stringify(f32([1], 0, 4)).length + 1,
    );
  });
});
