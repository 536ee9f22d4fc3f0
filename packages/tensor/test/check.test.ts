import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { expectError } from './expect-error.js';

// The boundary helpers every package uses: their messages must never stringify a hostile
// value whole (a 20,000-deep array overflowed the stack in `${value}` and recursive printers).

/** [[[…[1]…]]], `depth` levels deep. */
function deep(depth: number): unknown {
  let nested: unknown = 1;
  for (let i = 0; i < depth; i++) nested = [nested];
  return nested;
}

describe('describe', () => {
  it('shows scalars, quoted strings and short flat arrays', () => {
    expect(T.describe(1.5)).toBe('1.5');
    expect(T.describe('0.1')).toBe("'0.1'");
    expect(T.describe([0.9, true])).toBe('[0.9, true]');
    expect(T.describe(null)).toBe('null');
    expect(T.describe({})).toBe('an object');
    expect(T.describe(new Float32Array(2))).toBe('a Float32Array');
  });

  it('summarizes nested and long arrays without recursing', () => {
    expect(T.describe(deep(20_000))).toBe('an array of length 1');
    expect(T.describe(Array.from({ length: 9 }, (_, i) => i))).toBe('an array of length 9');
  });
});

describe('checkRecord and checkOptions', () => {
  it('accept plain objects; checkOptions also accepts undefined', () => {
    const options = { a: 1 };
    expect(T.checkOptions('op', options)).toBe(options);
    expect(T.checkOptions('op', undefined)).toEqual({});
    expect(() => T.checkRecord('op', 'state', options)).not.toThrow();
  });

  it('refuse anything else with a ValueError naming the op and the argument', () => {
    expectError(() => T.checkRecord('load', 'state', null), T.ValueError, 'load', [
      'state must be an object, got null',
    ]);
    expectError(() => T.checkOptions('op', untyped([1])), T.ValueError, 'op', [
      'options must be an object, got [1]',
    ]);
    expectError(() => T.checkOptions('op', untyped(deep(20_000)), 'params'), T.ValueError, 'op', [
      'params must be an object, got an array of length 1',
    ]);
  });

  it('survive a hostile name', () => {
    expectError(() => T.checkNumber('op', untyped(deep(20_000)), 'x'), T.ValueError, 'op', [
      'an array of length 1 must be a number',
    ]);
  });
});

function untyped<V>(value: unknown): V {
  return value as V;
}
