import * as A from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { describe, expect, it } from 'vitest';
import { countingBackend } from './counting-backend.js';

// Library frames (inLibrary) own every array made while they are innermost, through the
// allocation hook of @tsgrad/tensor: what a frame neither returns nor hands to a tensor is
// freed when it ends, each buffer exactly once, and the hook is there only during library calls.

const installedHook = () => {
  const hook = T.setArrayCreatedHook(undefined);
  T.setArrayCreatedHook(hook);
  return hook;
};

describe('library frames', () => {
  it('free the arrays they make and do not return, temporaries included, each once', () => {
    const { backend, live } = countingBackend();
    T.withBackend(backend, () => {
      const x = T.array([1, 2, 3]);
      const before = live();
      const kept = A.inLibrary(() => {
        T.exp(x);
        // A float64 operand: the op makes and disposes a cast and a broadcast view itself.
        const y = T.add(x, T.scalar(1, { dtype: 'float64' }));
        T.reshape(T.neg(y), [3, 1]);
        return y;
      });
      expect(live()).toBe(before + 1);
      expect(kept.toArray()).toEqual([2, 3, 4]);
      kept.dispose();
      x.dispose();
      expect(live()).toBe(0);
    });
  });

  it('leave a tensor assigned inside a library call its new value', () => {
    const { backend, live } = countingBackend();
    T.withBackend(backend, () => {
      const original = T.array([1, 2]);
      const t = new A.Tensor(original);
      A.inLibrary(() => t.assign(T.add(t.peekValue(), 1)));
      expect(t.toArray()).toEqual([2, 3]);
      original.dispose();
      expect(live()).toBe(1);
    });
  });

  it('are not opened while a symbolic tracing backend (the jit recorder) is selected', () => {
    const { backend, live } = countingBackend();
    const adopt = (a: T.NDArray) => a;
    // Its arrays hold no memory: nothing to free, so library calls skip the bookkeeping.
    const symbolic: T.TracingBackend = { ...backend, name: 'symbolic', adopt, symbolic: true };
    let temporary: T.NDArray | undefined;
    T.withBackend(symbolic, () => {
      expect(T.holdsNoMemory()).toBe(true);
      A.inLibrary(() => {
        expect(installedHook()).toBeUndefined();
        temporary = T.exp(T.array([1, 2]));
      });
    });
    expect(temporary?.isDisposed).toBe(false);
    expect(T.holdsNoMemory()).toBe(false);
    // A tracing backend whose arrays hold memory (vmap's levels) keeps its frames.
    const holding: T.TracingBackend = { ...backend, name: 'holding', adopt };
    T.withBackend(holding, () => {
      expect(T.holdsNoMemory()).toBe(false);
      A.inLibrary(() => {
        temporary = T.exp(T.array([1, 2]));
      });
    });
    expect(temporary?.isDisposed).toBe(true);
    expect(live()).toBe(2);
  });

  it('track nothing user code makes, even when a library call runs it', () => {
    const x = T.array([1, 2]);
    let made: T.NDArray | undefined;
    A.inLibrary(() => A.inUserCode(() => (made = T.exp(x))));
    expect((made as T.NDArray).isDisposed).toBe(false);
  });

  it('install the allocation hook only while a library call runs, also when it throws', () => {
    expect(installedHook()).toBeUndefined();
    const inside = A.inLibrary(() => A.inUserCode(() => A.inLibrary(installedHook)));
    expect(inside).toBeDefined();
    expect(installedHook()).toBeUndefined();
    expect(() =>
      A.inLibrary(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(installedHook()).toBeUndefined();
  });
});

describe('Tensor methods', () => {
  it('are the op functions with the tensor first, attached like class methods', () => {
    const x = new A.Tensor(T.array([1, 4, 9]));
    expect(x.sqrt().toArray()).toEqual(A.sqrt(x).toArray());
    expect(x.sub(1).div(2).toArray()).toEqual([0, 1.5, 4]);
    expect(x.to('float64').dtype).toBe('float64');
    expect(Object.keys(A.Tensor.prototype)).toEqual([]);
    expect(Object.getOwnPropertyDescriptor(A.Tensor.prototype, 'add')?.enumerable).toBe(false);
  });
});
