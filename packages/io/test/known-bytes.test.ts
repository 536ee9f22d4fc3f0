import { fromBytes, toBytes } from '@tsgrad/io';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { bytesOf, expectSafetensorsError, f32Bits, makeFile } from './files.js';

const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));

describe('the byte layout Python safetensors writes', () => {
  // What `safetensors.numpy.save({...}, metadata={"format": "pt"})` writes for this dict, laid
  // out by hand from the spec: F64 first, then F32 by name, then I32, then BOOL; compact JSON
  // with __metadata__ first; 324 header bytes padded with 4 spaces to 328 = 0x148.
  const header =
    '{"__metadata__":{"format":"pt"},' +
    '"scale":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
    '"bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
    '"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},' +
    '"step":{"dtype":"I32","shape":[],"data_offsets":[32,36]},' +
    '"mask":{"dtype":"BOOL","shape":[3],"data_offsets":[36,39]}}';
  const expected = [
    ...[0x48, 0x01, 0, 0, 0, 0, 0, 0],
    ...ascii(header),
    ...ascii('    '),
    ...[0, 0, 0, 0, 0, 0, 0xd0, 0x3f], // scale: 0.25
    ...[0, 0, 0xc0, 0x3f, 0, 0, 0x80, 0xbf], // bias: 1.5, -1
    ...[0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f, 0, 0, 0, 0], // weight: 1, -2, 0.5, 0
    ...[3, 0, 0, 0], // step: 3
    ...[1, 0, 1], // mask
  ];
  const tensors = {
    weight: T.array([
      [1, -2],
      [0.5, 0],
    ]),
    step: T.scalar(3, { dtype: 'int32' }),
    mask: T.array([true, false, true]),
    bias: T.array([1.5, -1]),
    scale: T.array([0.25], { dtype: 'float64' }),
  };

  it('is what toBytes writes', () => {
    expect(header.length).toBe(324);
    expect(Array.from(toBytes(tensors, { format: 'pt' }))).toEqual(expected);
  });

  it('is what fromBytes reads', () => {
    const back = fromBytes(new Uint8Array(expected));
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(back.tensors.weight.toArray()).toEqual([
      [1, -2],
      [0.5, 0],
    ]);
    expect(back.tensors.step.shape).toEqual([]);
    expect(back.tensors.step.item()).toBe(3);
    expect(back.tensors.mask.toArray()).toEqual([true, false, true]);
    expect(back.tensors.bias.toArray()).toEqual([1.5, -1]);
    expect(back.tensors.scale.dtype).toBe('float64');
    expect(back.tensors.scale.toArray()).toEqual([0.25]);
  });

  it('pads to 8 bytes only when needed, and writes an empty dict as {} plus 6 spaces', () => {
    const exact = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    const bytes = toBytes({ 'attn.0': T.reshape(T.arange(0, 6, 1, { dtype: 'float32' }), [1, 2, 3]) });
    expect(exact.length).toBe(64);
    expect(Array.from(bytes.subarray(0, 8 + 64))).toEqual([64, 0, 0, 0, 0, 0, 0, 0, ...ascii(exact)]);
    expect(Array.from(bytes.subarray(72, 80))).toEqual([0, 0, 0, 0, 0, 0, 0x80, 0x3f]);
    expect(Array.from(toBytes({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...ascii('{}      ')]);
  });

  it('sorts names by UTF-8 bytes like the reference (not by UTF-16 code units)', () => {
    // U+FF5E sorts before U+1F4A1 in UTF-8 (and code points), after it in UTF-16 units.
    const bytes = toBytes({
      '\u{1F4A1}': T.zeros([1]),
      '\uFF5E': T.zeros([1]),
      b: T.zeros([1]),
      a: T.zeros([1]),
    });
    const text = new TextDecoder().decode(bytes.subarray(8));
    const order = ['"a"', '"b"', '"\uFF5E"', '"\u{1F4A1}"'].map((name) => text.indexOf(name));
    expect(order).toEqual([...order].sort((x, y) => x - y));
  });

  it('reads headers in any key order, unpadded, pretty-printed and with unaligned data', () => {
    // 2 × I32 then 1 × F32, listed in reverse, the header 1 byte long of a multiple of 8.
    const file = makeFile(
      '{\n  "b": {"data_offsets": [8, 12], "shape": [1], "dtype": "F32"},\n  "a": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}\n}',
      [1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, ...f32Bits(0x40490fdb)],
    );
    const { tensors, metadata } = fromBytes(file);
    expect(tensors.a.toArray()).toEqual([1, -2]);
    expect(bytesOf(tensors.b)).toEqual(f32Bits(0x40490fdb));
    expect(metadata).toEqual({});
    // A Node Buffer or a view into a bigger buffer at an odd offset reads the same.
    const shifted = new Uint8Array(file.length + 3);
    shifted.set(file, 3);
    expect(fromBytes(shifted.subarray(3)).tensors.a.toArray()).toEqual([1, -2]);
    expect(fromBytes(file.slice().buffer).tensors.a.toArray()).toEqual([1, -2]);
  });

  it('reads integer dtypes as int32, with a range check', () => {
    const header = {
      u8: { dtype: 'U8', shape: [2], data_offsets: [0, 2] },
      i8: { dtype: 'I8', shape: [2], data_offsets: [2, 4] },
      i16: { dtype: 'I16', shape: [2], data_offsets: [4, 8] },
      u16: { dtype: 'U16', shape: [1], data_offsets: [8, 10] },
      u32: { dtype: 'U32', shape: [1], data_offsets: [10, 14] },
      i64: { dtype: 'I64', shape: [3], data_offsets: [14, 38] },
      u64: { dtype: 'U64', shape: [1], data_offsets: [38, 46] },
    };
    const data = [
      ...[0, 255],
      ...[0x80, 0x7f],
      ...[0x00, 0x80, 0xff, 0x7f],
      ...[0xff, 0xff],
      ...[0xff, 0xff, 0xff, 0x7f],
      ...[0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0xff], // -2^31
      ...[0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0], // 2^31 - 1
      ...[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // -2
      ...[5, 0, 0, 0, 0, 0, 0, 0],
    ];
    const { tensors } = fromBytes(makeFile(header, data));
    expect(tensors.u8.toArray()).toEqual([0, 255]);
    expect(tensors.i8.toArray()).toEqual([-128, 127]);
    expect(tensors.i16.toArray()).toEqual([-32768, 32767]);
    expect(tensors.u16.toArray()).toEqual([65535]);
    expect(tensors.u32.toArray()).toEqual([2147483647]);
    expect(tensors.i64.toArray()).toEqual([-2147483648, 2147483647, -2]);
    expect(tensors.u64.toArray()).toEqual([5]);
    for (const tensor of Object.values(tensors)) expect(tensor.dtype).toBe('int32');

    const one = (dtype: string, bytes: number[]) =>
      makeFile({ x: { dtype, shape: [2], data_offsets: [0, bytes.length] } }, bytes);
    const tooBig = one('I64', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0]);
    const start = tooBig.length - 16;
    expectSafetensorsError(
      () => fromBytes(tooBig),
      start + 8,
      /value 2147483648 does not fit in int32 \(element 1\)/,
    );
    const tooSmall = one('I64', [0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, ...new Array(8).fill(0)]);
    expectSafetensorsError(() => fromBytes(tooSmall), start, /value 9223372032559808512 does not fit/);
    const u64 = one('U64', [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expectSafetensorsError(() => fromBytes(u64), start + 8, /18446744073709551615 does not fit/);
    const u32 = one('U32', [0, 0, 0, 0x80, 0, 0, 0, 0]);
    expectSafetensorsError(() => fromBytes(u32), u32.length - 8, /2147483648 does not fit/);
    const bool = one('BOOL', [1, 2]);
    expectSafetensorsError(() => fromBytes(bool), bool.length - 1, /bool byte 2 is neither 0 nor 1/);
  });
});
