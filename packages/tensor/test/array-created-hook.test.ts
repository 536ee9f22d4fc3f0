import * as T from '@tsgrad/tensor';
import { afterEach, describe, expect, it } from 'vitest';

// The one allocation hook: a library that owns what its code allocates (autograd's frames)
// sees every new array, whatever made it — a kernel output, a view, a temporary the op
// disposes itself, an upload, a random draw.

/** Runs `fn` with a hook that collects the arrays made meanwhile. */
function made(fn: () => unknown): T.NDArray[] {
  const seen: T.NDArray[] = [];
  const previous = T.setArrayCreatedHook((a) => seen.push(a));
  try {
    fn();
  } finally {
    T.setArrayCreatedHook(previous);
  }
  return seen;
}

afterEach(() => {
  T.setArrayCreatedHook(undefined);
});

describe('setArrayCreatedHook', () => {
  const x = T.array([
    [1, 2, 3],
    [4, 5, 6],
  ]);

  it('sees the result and the temporaries of an op, which the op disposed', () => {
    let result: T.NDArray | undefined;
    // A float64 scalar operand: a scalar array, its cast and its broadcast view are temporaries.
    const seen = made(() => {
      result = T.add(x, T.scalar(1, { dtype: 'float64' }));
    });
    expect(seen).toContain(result);
    expect(seen.length).toBeGreaterThan(2);
    const temporaries = seen.filter((a) => a !== result);
    expect(temporaries.filter((a) => a.isDisposed).length).toBeGreaterThan(0);
    expect(seen).not.toContain(x);
  });

  it('sees views, uploads and random draws', () => {
    const key = T.random.key(0);
    for (const make of [
      () => T.reshape(x, [3, 2]),
      () => T.view(x),
      () => T.array([1, 2]),
      () => T.random.normal(key, [4]),
    ]) {
      let result: T.NDArray | undefined;
      expect(made(() => (result = make()))).toContain(result);
    }
  });

  it('returns the previous hook and is not called once removed', () => {
    const calls: T.NDArray[] = [];
    const first = (a: T.NDArray) => calls.push(a);
    expect(T.setArrayCreatedHook(first)).toBeUndefined();
    expect(T.setArrayCreatedHook(undefined)).toBe(first);
    T.neg(x);
    expect(calls).toEqual([]);
  });
});

describe('view', () => {
  it('shares the buffer, and disposing either leaves the other readable', () => {
    const x = T.array([1, 2, 3]);
    const v = T.view(x);
    expect(v).not.toBe(x);
    expect(v.storage).toBe(x.storage);
    x.dispose();
    expect(v.toArray()).toEqual([1, 2, 3]);
    v.dispose();
    expect(v.storage.live).toBe(false);
  });
});
