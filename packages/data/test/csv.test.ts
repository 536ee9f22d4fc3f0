import { parseCsv } from '@tsgrad/data';
import { readCsv } from '@tsgrad/data/node';
import { describe, expect, it } from 'vitest';
import { expectFormatError, tempDir, values, writeBytes } from './helpers.js';

const dir = tempDir('csv');

describe('CSV reading', () => {
  it('reads numeric columns as float32 and an integer label column as int32', () => {
    const path = writeBytes(dir, 'numbers.csv', 'a,b,label\n1,2.5,0\n-3,4e2,1\r\n.5,-0,2\n');
    const table = readCsv(path, { labelColumn: 'label' });
    expect(table.columns).toEqual(['a', 'b']);
    expect(table.features.dtype).toBe('float32');
    expect(table.features.toArray()).toEqual([
      [1, 2.5],
      [-3, 400],
      [0.5, -0],
    ]);
    expect(table.labels!.dtype).toBe('int32');
    expect(values(table.labels!)).toEqual([0, 1, 2]);
    expect(table.classes).toBeUndefined();
  });

  it('maps class names to the indices of the sorted names', () => {
    const text =
      'length;species;width\n1.4;setosa;0.2\n4.7;versicolor;1.4\n6;virginica;2.5\n1.3;setosa;0.2\n';
    const table = parseCsv(text, { labelColumn: 'species', delimiter: ';' });
    expect(table.columns).toEqual(['length', 'width']);
    expect(table.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(values(table.labels!)).toEqual([0, 1, 2, 0]);
    expect(table.features.shape).toEqual([4, 2]);
  });

  it('reads files without a header, labels by index, quoted fields and special numbers', () => {
    const table = parseCsv('1,"x, y"\n\n2,"say ""hi"""\n nan ,"z"\ninf,z\n', {
      header: false,
      labelColumn: -1,
    });
    expect(table.columns).toEqual(['0']);
    expect(values(table.features)).toEqual([1, 2, Number.NaN, Number.POSITIVE_INFINITY]);
    expect(table.classes).toEqual(['say "hi"', 'x, y', 'z']);
    expect(values(table.labels!)).toEqual([1, 0, 2, 2]);
    expect(parseCsv('x\n').features.shape).toEqual([0, 1]);
    expect(parseCsv('\ufeffa,b\n1,2').columns).toEqual(['a', 'b']);
  });

  it('rejects bad options', () => {
    expect(() => parseCsv('a\n1', { labelColumn: 'b' })).toThrow(/no column 'b' \(columns: a\)/);
    expect(() => parseCsv('1,2', { header: false, labelColumn: 'a' })).toThrow(/no header/);
    expect(() => parseCsv('1,2', { header: false, labelColumn: 2 })).toThrow(/out of range for 2 columns/);
    expect(() => parseCsv('1', { delimiter: '::' })).toThrow(/one ASCII character/);
  });
});

describe('malformed CSV files', () => {
  it('names the file, line and byte offset of a field that is not a number', () => {
    const text = 'a,b\n1,2\n3,x7\n';
    const path = writeBytes(dir, 'nan.csv', text);
    expectFormatError(
      () => readCsv(path),
      path,
      text.indexOf('x7'),
      /'x7' is not a number in numeric column 'b' \(line 3\)/,
    );
  });

  it('rejects rows with the wrong number of fields and empty fields', () => {
    const text = 'a,b\n1,2\n3\n';
    const path = writeBytes(dir, 'short-row.csv', text);
    expectFormatError(() => readCsv(path), path, 8, /line 3 has 1 fields, but the header has 2/);
    const empty = 'a,b\n1,\n';
    const emptyPath = writeBytes(dir, 'empty.csv', empty);
    expectFormatError(() => readCsv(emptyPath), emptyPath, 6, /an empty field in numeric column 'b'/);
    const label = 'a,y\n1,\n';
    const labelPath = writeBytes(dir, 'empty-label.csv', label);
    expectFormatError(
      () => readCsv(labelPath, { labelColumn: 'y' }),
      labelPath,
      6,
      /an empty label \(line 2\)/,
    );
  });

  it('counts byte offsets in UTF-8, not characters', () => {
    const text = 'é,b\n1,?\n';
    const path = writeBytes(dir, 'utf8.csv', text);
    // 'é' takes two bytes, so '?' is at byte 7 although it is character 6.
    expectFormatError(() => readCsv(path), path, 7, /'\?' is not a number/);
  });

  it('rejects unterminated quotes and text after a closing quote', () => {
    const open = 'a\n"1\n';
    const path = writeBytes(dir, 'open-quote.csv', open);
    expectFormatError(() => readCsv(path), path, 2, /unterminated quoted field \(line 2\)/);
    const after = 'a,b\n"1"x,2\n';
    const afterPath = writeBytes(dir, 'after-quote.csv', after);
    expectFormatError(() => readCsv(afterPath), afterPath, 7, /unexpected character after a closing quote/);
  });
});
